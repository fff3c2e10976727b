"""The verifier's input: metadata files by relative name, read already or on demand."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trustkeep.core.rolenames import VERSIONED_ROOT_RE
from trustkeep.core.verify.report import Format

__all__ = ["FileSource", "MetadataBundle", "detect_format"]

_VERSIONED_ROOT = VERSIONED_ROOT_RE


class FileSource(Mapping[str, bytes]):
    """Files whose names and sizes are known and whose bytes are read when asked for.

    An adapter's large directory: a file's bytes are read on each access, by the
    process that asks (a forked worker reads the files it checks), so no process holds
    them all. An access may raise the adapter's input error (the file became
    unreadable). The names never change.
    """

    @abstractmethod
    def size(self, name: str) -> int:
        """The size of ``name`` when it was listed (a read may find it changed)."""


@dataclass(frozen=True)
class MetadataBundle:
    """``files`` maps names relative to the metadata directory (``1.root.json``,
    ``targets/releases.json``, ``role%2Fname.json``) to their bytes.

    ``source`` names where they came from (for messages); ``gun`` is the Notary
    repository name when known (from ``--gun`` or a ``tuf/<GUN>/metadata`` path).
    ``client_cache`` is True for python-tuf's client cache (a ``root_history/``
    directory): it stores every role under its plain name whatever
    ``consistent_snapshot`` says, where a repository must offer the versioned names.
    """

    files: Mapping[str, bytes]
    source: str
    gun: str | None = None
    notes: tuple[str, ...] = field(default=())
    client_cache: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.files, FileSource):
            object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def get(self, name: str) -> bytes | None:
        return self.files.get(name)

    @property
    def on_demand(self) -> bool:
        """The files are read when asked for (each access may read them again)."""
        return isinstance(self.files, FileSource)

    def size(self, name: str) -> int:
        """Bytes of ``name`` (its listed size when read on demand), without reading it."""
        files = self.files
        return files.size(name) if isinstance(files, FileSource) else len(files[name])

    def total_size(self) -> int:
        files = self.files
        if isinstance(files, FileSource):
            return sum(map(files.size, files))
        return sum(map(len, files.values()))


def _root_type(raw: bytes) -> str | None:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and isinstance(doc.get("signed"), dict):
        kind = doc["signed"].get("_type")
        return kind if isinstance(kind, str) else None
    return None


def detect_format(bundle: MetadataBundle) -> Format:
    """``notary`` when a root says ``"_type": "Root"`` or ``targets/*.json`` exist, else ``tuf``."""
    roots = [n for n in bundle.files if n == "root.json" or _VERSIONED_ROOT.match(n)]
    for name in sorted(roots, key=lambda n: n != "root.json"):
        kind = _root_type(bundle.files[name])
        if kind == "Root":
            return "notary"
        if kind == "root":
            return "tuf"
    if any(n.startswith("targets/") for n in bundle.files):
        return "notary"
    return "tuf"
