"""``trustkeep sign FILE --key K``: one more signature on a staged role, or a travelled copy.

Two kinds of file are signed:

- ``DIR/staged/<role>.json`` (in the repository, or in a copy of the whole directory):
  who may sign is read from the repository as it will be once published (root N+1
  needs root N's threshold too: the published root is beside it).
- a travelled copy of one staged file, alone in a folder: root N+1 is checked against
  ``N.root.json`` when it is beside the copy (else the result says root N's threshold
  could not be checked); targets, snapshot and timestamp against a ``root.json`` beside.

Published files are never signed in place (clients read them; snapshot and timestamp
hash them). The file is parsed first and left as it was on any error; a key that had
already signed writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Key
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from trustkeep.adapters import repo_dir
from trustkeep.adapters import staging_area as area
from trustkeep.adapters.atomic import atomic_write
from trustkeep.core.rolenames import versioned_name
from trustkeep.core.tuf_repo.state import apply_signatures, signed_payload
from trustkeep.core.tuf_repo.status import ThresholdCheck, role_checks, root_checks, state_checks
from trustkeep.errors import InputError, KeyAccessError
from trustkeep.service._repo_support import (
    SignerPool,
    SignResult,
    authorized_keys,
    resolve_key,
)

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = ["role_from_filename", "sign_file"]


def role_from_filename(md: Metadata[Any], file: Path) -> str:
    """The role of a metadata file: its type, or for targets its (unquoted) file name."""
    if not isinstance(md.signed, Targets):
        return str(md.signed.type)
    versioned = versioned_name(file.name)
    stem = (versioned[1] if versioned else file.name).removesuffix(".json")
    return unquote(stem)


def _in_repository(file: Path) -> bool:
    """A staged file inside a repository directory (or a copy of one)."""
    if not area.is_staged_file(file):
        return False
    repo = file.parent.parent
    if area.has_published_root(repo):
        return True
    # a new repository, all staged (else: a folder that happens to be named "staged")
    return all(area.staged_path(repo, r).is_file() for r in ("root", "targets", "timestamp"))


def _refuse_published(file: Path) -> None:
    if (file.parent / "timestamp.json").is_file() and not area.is_staged_file(file):
        raise InputError(
            f"{file}: is published metadata (clients read it); signatures go on the staged "
            f"change, {file.parent / area.STAGED_DIR}/<role>.json",
            hint="stage a change first (commands stage what this store cannot sign alone)",
        )


class _Authority:
    """Who may sign one file (``keys``), the metadata to sign (``md``), its thresholds."""

    def __init__(self, file: Path, md: Metadata[Any], role: str) -> None:
        self.file, self.md, self.role = file, md, role
        self.previous_unchecked: int | None = None
        self.keys: dict[str, Key] = {}
        if _in_repository(file):
            _published, state = area.load_working(file.parent.parent)
            if role not in state.staged:
                raise InputError(f"{file}: role {role!r} is not staged in {file.parent.parent}")
            self.md = state.role(role)  # the same file, as the working state counts it
            self.keys = authorized_keys(state, role)
            self.source = f"{file.parent.parent} (published and staged)"
            self._checks: Callable[[], tuple[ThresholdCheck, ...]] = lambda: state_checks(
                state, role
            )
            return
        self._travelled()

    def _travelled(self) -> None:
        file, md, role = self.file, self.md, self.role
        directory = file.parent
        if isinstance(md.signed, Root):
            prev_path = directory / f"{md.signed.version - 1}.root.json"
            previous: Root | None = None
            self.source = f"{file.name} itself"
            if md.signed.version > 1 and prev_path.is_file():
                previous = repo_dir.read_metadata(prev_path, Root).signed
                self.source = f"{file.name} and {prev_path.name}"
            elif md.signed.version > 1:
                self.previous_unchecked = md.signed.version - 1
            for root in [md.signed] + ([previous] if previous is not None else []):
                for keyid in root.roles["root"].keyids:
                    self.keys.setdefault(keyid, root.get_key(keyid))
            self._checks = lambda: root_checks(md, previous)
            return
        if isinstance(md.signed, Snapshot | Timestamp) or role == "targets":
            root_path = directory / "root.json"
            if not root_path.is_file():
                raise InputError(
                    f"{file}: no root.json beside it to tell who may sign role {role!r}",
                    hint="copy the repository's root.json next to the file",
                )
            root = repo_dir.read_metadata(root_path, Root).signed
            self.keys = {k: root.get_key(k) for k in root.roles[role].keyids}
            self.source = "root.json"
            self._checks = lambda: role_checks(root, role, md)
            return
        raise InputError(
            f"{file}: role {role!r} is delegated; sign it inside a copy of the repository "
            "directory (DIR/staged/<role>.json), where its delegator is",
        )

    def checks(self) -> tuple[ThresholdCheck, ...]:
        return self._checks()

    def already_signed(self, keyid: str) -> bool:
        """``keyid`` holds a valid signature over this content already."""
        signature = self.md.signatures.get(keyid)
        if signature is None:
            return False
        try:
            self.keys[keyid].verify_signature(signature, signed_payload(self.md, self.role))
        except UnverifiedSignatureError:
            return False  # a stale signature: a new one replaces it
        return True


def sign_file(keys: KeyService, file: Path, key_ref: str, *, names: dict[str, str]) -> SignResult:
    md = repo_dir.read_metadata(file)
    _refuse_published(file)
    role = role_from_filename(md, file)
    authority = _Authority(file, md, role)
    resolved = resolve_key(keys, key_ref)
    if resolved.keyid not in authority.keys:
        raise InputError(
            f"key {resolved.label()} is not a key of role {role!r} (per {authority.source}); "
            f"{file} left unchanged"
        )
    already = authority.already_signed(resolved.keyid)
    if not already:
        if resolved.entry is None or not resolved.entry.has_private:
            raise KeyAccessError(
                f"key {resolved.label()}: its private half is not in this store; "
                f"{file} left unchanged"
            )
        apply_signatures(authority.md, [SignerPool(keys).signer(resolved.keyid)])
        atomic_write(file, repo_dir.serialize(authority.md))
    return SignResult(
        file=file,
        role=role,
        version=authority.md.signed.version,
        keyid=resolved.keyid,
        checks=authority.checks(),
        also_written=(),
        names=names,
        authority=authority.source,
        already_signed=already,
        previous_unchecked=authority.previous_unchecked,
    )
