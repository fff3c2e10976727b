"""CeremonyService: what the ceremony TUI asks of one repository directory.

It composes the repository and key services (status, review, sign, refresh) and
keeps the transcript: one line per action, appended atomically, never a secret.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters.atomic import atomic_write, ensure_private_dir
from trustkeep.adapters.staging_area import staged_path
from trustkeep.core.ceremony import (
    SignReview,
    content_digest,
    key_label,
    review_role,
    waiting_line,
)
from trustkeep.core.keys import KeyEntry
from trustkeep.core.rolenames import role_filename
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RepoStatus, RoleStatus, repo_status
from trustkeep.errors import InputError, StorageError

if TYPE_CHECKING:
    from trustkeep.service import Service
    from trustkeep.service.repo import RoleChange, SignResult, WriteResult

__all__ = [
    "CeremonyService",
    "ReviewOutdated",
    "RotationChoices",
    "SignPlan",
    "StatusView",
    "Transcript",
    "default_transcript",
]

TRANSCRIPT_NAME = "ceremony-transcript.log"
_MAX_TRANSCRIPT = 16 * 1024 * 1024


def default_transcript(home: Path) -> Path:
    """Where the transcript goes unless the user names a file: the home."""
    return home / TRANSCRIPT_NAME


class ReviewOutdated(InputError):
    """The metadata changed between the holder's review and the signature: nothing signed."""


class Transcript:
    """An append-only text file: ``<UTC time>  <directory>  <action>: <detail>`` per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: screens append from worker threads: one read-and-rewrite at a time
        self._lock = threading.Lock()

    def append(self, directory: Path, action: str, detail: str, *, now: datetime) -> str:
        line = f"{now:%Y-%m-%dT%H:%M:%SZ}  {directory}  {action}: {detail}".replace("\n", " ")
        with self._lock:
            self._append(line)
        return line

    def _append(self, line: str) -> None:
        try:
            old = self.path.read_bytes() if self.path.exists() else b""
        except OSError as e:
            raise StorageError(f"{self.path}: cannot read the transcript: {e.strerror}") from e
        if len(old) > _MAX_TRANSCRIPT:
            raise StorageError(f"{self.path}: transcript is over 16 MB; start a new one")
        if old and not old.endswith(b"\n"):
            old += b"\n"
        if not self.path.parent.exists():
            ensure_private_dir(self.path.parent)
        atomic_write(self.path, old + line.encode("utf-8") + b"\n", mode=0o600)


@dataclass(frozen=True)
class StatusView:
    """A repository's status with the store's key names and its signable keys per role."""

    status: RepoStatus
    names: dict[str, str]
    #: role -> keyids of this store (private half present) that may still sign it
    signable: dict[str, tuple[str, ...]]

    def role(self, name: str) -> RoleStatus:
        for r in self.status.roles:
            if r.role == name:
                return r
        raise InputError(f"role {name!r} is not in this repository")

    def waiting(self, name: str) -> list[str]:
        """Per threshold check of the role: ``"root v2 keys: 1 of 2 signatures — …"``."""
        return [f"{c.label}: {waiting_line(c, self.names)}" for c in self.role(name).checks]

    def unsigned_roles(self) -> list[str]:
        return [r.role for r in self.status.roles if not r.verified]


@dataclass(frozen=True)
class SignPlan:
    """The review of a role, who is awaited, and the store's keys that may sign it now."""

    review: SignReview
    waiting: tuple[str, ...]
    keys: tuple[KeyEntry, ...]
    names: dict[str, str]


@dataclass(frozen=True)
class RotationChoices:
    """What a root key rotation can choose from, read from the directory and the store."""

    version: int
    threshold: int
    root_keys: tuple[str, ...]
    candidates: tuple[KeyEntry, ...]
    names: dict[str, str]
    #: root ``version`` is not yet signed by its thresholds: a change amends it
    pending: bool


class CeremonyService:
    """``CeremonyService(service, directory, transcript=...)``: one repository's ceremony."""

    def __init__(self, service: Service, directory: Path, *, transcript: Path | None) -> None:
        self.service = service
        self.directory = directory
        self.transcript = Transcript(transcript or default_transcript(service.home))

    def record(self, action: str, detail: str, *, now: datetime | None = None) -> str:
        """Append one line to the transcript; returns it."""
        when = (now or datetime.now(UTC)).astimezone(UTC)
        return self.transcript.append(self.directory.absolute(), action, detail, now=when)

    def _load(self, now: datetime | None, warn_days: int) -> tuple[RepoState, StatusView]:
        repo = self.service.repo
        state = repo.working(self.directory)
        names = repo.names()
        when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        status = repo_status(state, now=when, warn_within=timedelta(days=warn_days), names=names)
        mine = {e.keyid for e in self.service.keys.list() if e.has_private}
        signable: dict[str, tuple[str, ...]] = {}
        for r in status.roles:
            unsigned = {k for c in r.checks if not c.verified for k in c.unsigned}
            signable[r.role] = tuple(sorted(unsigned & mine))
        return state, StatusView(status=status, names=names, signable=signable)

    def status(self, *, now: datetime | None = None, warn_days: int = 30) -> StatusView:
        return self._load(now, warn_days)[1]

    def plan(self, role: str, *, now: datetime | None = None) -> SignPlan:
        """What signing ``role`` means, and which keys of this store may sign it now."""
        state, view = self._load(now, 30)
        review = review_role(state, role, view.role(role).checks, view.names)
        keys = tuple(self.service.keys.resolve(k) for k in view.signable.get(role, ()))
        return SignPlan(
            review=review, waiting=tuple(view.waiting(role)), keys=keys, names=view.names
        )

    def rotation_choices(self) -> RotationChoices:
        """The root's keys (to retire) and the store's other keys (to add)."""
        repo = self.service.repo
        state = repo.working(self.directory)
        root = state.root.signed
        role = root.roles["root"]
        entries = self.service.keys.list()
        return RotationChoices(
            version=root.version,
            threshold=role.threshold,
            root_keys=tuple(role.keyids),
            candidates=tuple(e for e in entries if e.keyid not in role.keyids),
            names=repo.names(),
            pending=state.is_pending("root"),
        )

    def rotate(self, *, old: str, new: str, threshold: int) -> WriteResult:
        """Root N+1 with ``old`` replaced by ``new`` (signed by this store's root keys)."""
        return self.service.repo.root_rotate(
            self.directory, old=[old], new=[new], threshold=threshold
        )

    def role_file(self, role: str) -> Path:
        """The staged file of ``role`` (where signatures go); else its published file."""
        staged = staged_path(self.directory, role)
        return staged if staged.is_file() else self.directory / role_filename(role)

    def sign(self, role: str, keyid: str, *, reviewed: str | None = None) -> SignResult:
        """One more signature on ``role`` with ``keyid`` (asks the passphrase via the handler).

        ``reviewed`` is the digest the holder read; when the role's content changed since,
        nothing is signed.
        """
        if reviewed is not None:
            md = self.service.repo.working(self.directory).role(role)
            if content_digest(md) != reviewed:
                raise ReviewOutdated(
                    f"{self.role_file(role)}: {role} changed since you reviewed it; "
                    "review it again before signing"
                )
        return self.service.repo.sign(self.role_file(role), keyid)

    def refresh(self, roles: Sequence[str]) -> list[WriteResult]:
        """New versions of ``roles`` (root alone first), then snapshot and timestamp."""
        results = []
        if "root" in roles:
            results.append(self.service.repo.refresh(self.directory, roles=["root"]))
        others = [r for r in roles if r != "root"]
        if others or not roles:
            results.append(self.service.repo.refresh(self.directory, roles=others))
        return results

    @staticmethod
    def describe_change(change: RoleChange, names: dict[str, str]) -> str:
        checks = "; ".join(f"{c.label}: {waiting_line(c, names)}" for c in change.checks)
        return f"{change.role} v{change.version} expires {change.expires:%Y-%m-%d}: {checks}"

    def describe_sign(self, result: SignResult) -> str:
        names = result.names
        checks = "; ".join(f"{c.label}: {waiting_line(c, names)}" for c in result.checks)
        return (
            f"{result.role} v{result.version} with key {key_label(result.keyid, names)}: {checks}"
        )
