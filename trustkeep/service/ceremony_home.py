"""What the ceremony home needs: the transcript, the repositories opened before, and
the expiry of every role of each of them.

The list of repositories lives in the home (``ceremony-repositories.json``); a
repository that can no longer be read is shown with its error, never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters.atomic import atomic_write, ensure_private_dir
from trustkeep.core.transcript import FieldValue
from trustkeep.errors import InputError, StorageError, TrustkeepError
from trustkeep.service.ceremony_transcript import Transcript, default_transcript

if TYPE_CHECKING:  # the repository side (python-tuf) loads when a repository is read
    from trustkeep.core.ceremony import ExpiryLevel
    from trustkeep.service import Service
    from trustkeep.service.ceremony import CeremonyService
    from trustkeep.service.verify import VerifyResult

__all__ = ["REPOSITORIES_NAME", "CeremonyHome", "ExpiryRow"]

REPOSITORIES_NAME = "ceremony-repositories.json"
_MAX_REMEMBERED = 500


@dataclass(frozen=True)
class ExpiryRow:
    """One role of one remembered repository; ``error`` set when it could not be read."""

    directory: Path
    role: str
    version: int
    expires: datetime | None
    seconds_left: int
    level: ExpiryLevel
    error: str | None = None


class CeremonyHome:
    """``CeremonyHome(service, transcript=PATH)``: the session behind the home screen."""

    def __init__(self, service: Service, *, transcript: Path | None = None) -> None:
        self.service = service
        self.transcript = Transcript(transcript or default_transcript(service.home))
        self.transcript_errors: list[str] = []
        self._opened: list[CeremonyService] = []

    @property
    def repositories_file(self) -> Path:
        return self.service.home / REPOSITORIES_NAME

    def record(self, step: str, **fields: FieldValue) -> None:
        try:
            self.transcript.append(step, fields)
        except TrustkeepError as e:
            self.transcript_errors.append(e.message)

    def all_transcript_errors(self) -> list[str]:
        return [*self.transcript_errors, *(e for c in self._opened for e in c.transcript_errors)]

    # -- repositories opened before --------------------------------------------------

    def repositories(self) -> list[Path]:
        path = self.repositories_file
        if not path.is_file():
            return []
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise StorageError(f"{path}: cannot read the remembered repositories: {e}") from e
        items = doc.get("repositories") if isinstance(doc, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise StorageError(f"{path}: not a list of repositories; remove the file")
        return [Path(i) for i in items]

    def remember(self, directory: Path) -> None:
        known = self.repositories()
        absolute = directory.absolute()
        if absolute in known:
            return
        known = [*known, absolute][-_MAX_REMEMBERED:]
        doc = {"schema": 1, "repositories": [str(p) for p in known]}
        if not self.service.home.exists():
            ensure_private_dir(self.service.home)
        atomic_write(self.repositories_file, (json.dumps(doc, indent=2) + "\n").encode())

    def forget(self, directory: Path) -> None:
        known = [p for p in self.repositories() if p != directory.absolute()]
        doc = {"schema": 1, "repositories": [str(p) for p in known]}
        atomic_write(self.repositories_file, (json.dumps(doc, indent=2) + "\n").encode())

    def open(self, directory: Path) -> CeremonyService:
        """The ceremony over ``directory`` (read once here: not a repository fails now)."""
        from trustkeep.service.ceremony import CeremonyService

        ceremony = CeremonyService(self.service, directory, transcript=self.transcript)
        ceremony.status()
        self.remember(directory)
        ceremony.record("opened", key_store=str(self.service.home))
        self._opened.append(ceremony)
        return ceremony

    # -- expiry dashboard --------------------------------------------------------------

    def expiry(self, *, now: datetime | None = None) -> list[ExpiryRow]:
        """Every role of every remembered repository, soonest expiry first."""
        when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        rows: list[ExpiryRow] = []
        for directory in self.repositories():
            rows += self._rows(directory, when)
        return sorted(rows, key=lambda r: (r.error is None, r.seconds_left, str(r.directory)))

    def _rows(self, directory: Path, now: datetime) -> Sequence[ExpiryRow]:
        from trustkeep.core.ceremony import expiry_level

        try:
            status = self.service.repo.status(directory, now=now)
        except TrustkeepError as e:
            return [ExpiryRow(directory, "—", 0, None, 0, "expired", error=e.message)]
        rows = []
        for r in status.roles:
            left = int((r.expires - now).total_seconds())
            level = expiry_level(r.role, r.expires, now=now)
            rows.append(ExpiryRow(directory, r.role, r.version, r.expires, left, level))
        return rows

    # -- verify ------------------------------------------------------------------------

    def verify(
        self, directory: str, *, root: str = "", pins: str = "", gun: str = ""
    ) -> VerifyResult:
        """Verify what the operator typed (empty fields are not given); recorded."""
        from trustkeep.service.verify import VerifyRequest

        target = self.check_directory(directory)
        request = VerifyRequest(
            directory=target,
            root=Path(root.strip()).expanduser() if root.strip() else None,
            pins=Path(pins.strip()).expanduser() if pins.strip() else None,
            gun=gun.strip() or None,
            jobs=1,
        )
        result = self.service.verify.verify(request)
        report = result.report
        self.record(
            "verified",
            directory=str(target.absolute()),
            anchor=report.anchor.kind,
            anchor_source=report.anchor.source or "",
            valid=report.valid,
            findings=tuple(f"{f.severity} {f.code} {f.role or '-'}" for f in report.findings),
        )
        return result

    def check_directory(self, text: str) -> Path:
        """A directory typed by the operator, refused when empty."""
        if not text.strip():
            raise InputError("type the directory (or archive) of a repository")
        return Path(text.strip()).expanduser()
