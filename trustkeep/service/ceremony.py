"""CeremonyService: what the ceremony TUI asks of one repository directory.

It composes the repository and key services (status, review, sign, refresh) and
keeps the transcript: one line per action, appended atomically, never a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters import staging_area
from trustkeep.core.ceremony import (
    SignReview,
    content_digest,
    diff_lines,
    expiring_roles,
    key_label,
    review_role,
    waiting_line,
)
from trustkeep.core.keys import KeyEntry
from trustkeep.core.rolenames import role_filename
from trustkeep.core.transcript import FieldValue
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RepoStatus, RoleStatus
from trustkeep.errors import InputError, TrustkeepError
from trustkeep.service.ceremony_transcript import (
    Transcript,
    default_transcript,
    verify_transcript,
)

if TYPE_CHECKING:
    from trustkeep.service import Service
    from trustkeep.service.ceremony_delegations import DelegationCeremony
    from trustkeep.service.ceremony_rotation import RotationService
    from trustkeep.service.repo import RoleChange, SignResult, WriteResult

__all__ = [
    "CeremonyService",
    "ReviewOutdated",
    "SignPlan",
    "StatusView",
]


class ReviewOutdated(InputError):
    """The metadata changed between the holder's review and the signature: nothing signed."""


@dataclass(frozen=True)
class StatusView:
    """A repository's status with the store's key names and its signable keys per role."""

    status: RepoStatus
    names: dict[str, str]
    #: role -> keyids of this store (private half present) that may still sign it
    signable: dict[str, tuple[str, ...]]
    #: roles expired or due for renewal (offline within the warning days; online sooner)
    due: tuple[str, ...] = ()
    #: the reference time of this view
    now: datetime | None = None

    def rows(self) -> list[RoleStatus]:
        """The working repository: each role's staged change in place of its published
        version, new staged roles after the published ones."""
        staged = {r.role: r for r in self.status.staged}
        out = [staged.pop(r.role, r) for r in self.status.roles]
        return out + list(staged.values())

    def is_staged(self, name: str) -> bool:
        return any(r.role == name for r in self.status.staged)

    def role(self, name: str) -> RoleStatus:
        for r in self.rows():
            if r.role == name:
                return r
        raise InputError(f"role {name!r} is not in this repository")

    def waiting(self, name: str) -> list[str]:
        """Per threshold check of the role: ``"root v2 keys: 1 of 2 signatures — …"``."""
        return [f"{c.label}: {waiting_line(c, self.names)}" for c in self.role(name).checks]

    def unsigned_roles(self) -> list[str]:
        return [r.role for r in self.rows() if not r.verified]

    @property
    def publishable(self) -> bool:
        """Something is staged and every staged role meets its thresholds."""
        return bool(self.status.staged) and all(r.verified for r in self.status.staged)


@dataclass(frozen=True)
class SignPlan:
    """The review of a role, who is awaited, and the store's keys that may sign it now."""

    review: SignReview
    waiting: tuple[str, ...]
    keys: tuple[KeyEntry, ...]
    names: dict[str, str]
    #: a staged role: what it changes against the published version
    diff: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [*self.diff, *self.review.lines(self.names)]


class CeremonyService:
    """``CeremonyService(service, directory, transcript=...)``: one repository's ceremony.

    ``transcript`` is a :class:`Transcript` (shared by the session) or a path for one.
    Every write and every review is recorded here, not by the screens.
    """

    def __init__(
        self, service: Service, directory: Path, *, transcript: Transcript | Path | None
    ) -> None:
        self.service = service
        self.directory = directory
        if not isinstance(transcript, Transcript):
            transcript = Transcript(transcript or default_transcript(service.home))
        self.transcript = transcript
        #: transcript entries that could not be written (the action itself went ahead)
        self.transcript_errors: list[str] = []

    def record(self, step: str, **fields: FieldValue) -> None:
        """Append one entry (directory added); a failure is kept in ``transcript_errors``."""
        try:
            self.transcript.append(step, {"directory": str(self.directory.absolute()), **fields})
        except TrustkeepError as e:
            self.transcript_errors.append(e.message)

    def _load(self, now: datetime | None, warn_days: int) -> tuple[RepoState, StatusView]:
        repo = self.service.repo
        when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        status = repo.status(self.directory, now=when, warn_days=warn_days)
        state = repo.working(self.directory)
        names = repo.names()
        mine = {e.keyid for e in self.service.keys.list() if e.has_private}
        signable: dict[str, tuple[str, ...]] = {}
        for r in (*status.roles, *status.staged):
            unsigned = {k for c in r.checks if not c.verified for k in c.unsigned}
            signable[r.role] = tuple(sorted(unsigned & mine))
        due = tuple(expiring_roles(status, within_days=warn_days, now=when))
        view = StatusView(status=status, names=names, signable=signable, due=due, now=when)
        return state, view

    def status(self, *, now: datetime | None = None, warn_days: int = 30) -> StatusView:
        return self._load(now, warn_days)[1]

    def plan(self, role: str, *, now: datetime | None = None) -> SignPlan:
        """What signing ``role`` means, and which keys of this store may sign it now."""
        state, view = self._load(now, 30)
        review = review_role(state, role, view.role(role).checks, view.names)
        keys = tuple(self.service.keys.resolve(k) for k in view.signable.get(role, ()))
        diff: list[str] = []
        if view.is_staged(role):
            for d in self.service.repo.diff(self.directory, role):
                diff += diff_lines(d, view.names)
        self.record("reviewed", role=role, version=review.version, sha256=review.digest)
        return SignPlan(
            review=review,
            waiting=tuple(view.waiting(role)),
            keys=keys,
            names=view.names,
            diff=tuple(diff),
        )

    # -- the staging area ---------------------------------------------------------------

    def merge(self, files: Sequence[Path]) -> list[str]:
        """Fold travelled copies' signatures into the staged roles; one line per file/role."""
        try:
            result = self.service.repo.merge(self.directory, files)
        except TrustkeepError as e:
            self.record("failed", action="merge", files=tuple(map(str, files)), error=e.message)
            raise
        names = result.names
        lines = []
        for f in result.files:
            added = ", ".join(key_label(k, names) for k in f.added) or "none"
            lines.append(f"{f.file}: {f.role} — signatures added: {added}")
        for r in result.roles:
            state = "complete" if r.complete else f"waiting for {', '.join(r.waiting)}"
            lines.append(f"staged {r.role} v{r.version}: {state}")
        self.record(
            "merged",
            files=tuple(str(f.file) for f in result.files),
            added=tuple(k for f in result.files for k in f.added),
        )
        return lines

    def publish_review(self) -> list[str]:
        """What publishing writes: every staged role, then snapshot and timestamp."""
        staged = self.service.repo.staged(self.directory)
        if not staged:
            raise InputError(f"{self.directory}: nothing is staged to publish")
        lines = [f"publish into {self.directory}:"]
        for r in staged:
            state = "signed by its thresholds" if r.complete else "NOT fully signed"
            lines.append(f"+ {r.role} v{r.version} ({state}), sha256 {r.sha256}")
        lines.append("then snapshot and timestamp, signed with this store's online keys")
        return lines

    def publish(self) -> WriteResult:
        staged = tuple(f"{r.role} v{r.version}" for r in self.service.repo.staged(self.directory))
        try:
            result = self.service.repo.publish(self.directory)
        except TrustkeepError as e:
            self.record("failed", action="publish", roles=staged, error=e.message)
            raise
        self.record("published", roles=staged, changes=self._changes(result))
        return result

    @property
    def rotation(self) -> RotationService:
        """The root rotation of this repository (service/ceremony_rotation.py)."""
        from trustkeep.service.ceremony_rotation import RotationService

        return RotationService(self)

    def pins_naming(self, keyid: str, *aliases: str) -> list[Path]:
        """Pin files the transcript says were saved for this repository that name ``keyid``
        (or one of its ``aliases``, e.g. the key's Notary canonical ID)."""
        try:
            check = verify_transcript(self.transcript.path)
        except TrustkeepError:
            return []
        here = str(self.directory.absolute())
        files = {
            str(e.fields.get("file"))
            for e in check.entries
            if e.step == "pin saved" and e.fields.get("directory") == here
        }
        out = []
        for name in sorted(files):
            try:
                text = Path(name).read_text(encoding="utf-8", errors="replace")
                if any(k in text for k in (keyid, *aliases)):
                    out.append(Path(name))
            except OSError:
                continue
        return out

    def _changes(self, result: WriteResult) -> tuple[str, ...]:
        return tuple(self.describe_change(c, result.names) for c in result.changes)

    # -- delegations: trustkeep/service/ceremony_delegations.py ------------------------

    @cached_property
    def delegation(self) -> DelegationCeremony:
        """The delegations flow of this repository (reviews and writes)."""
        from trustkeep.service.ceremony_delegations import DelegationCeremony

        return DelegationCeremony(self)

    def role_file(self, role: str) -> Path:
        """The file a holder signs: the staged change when there is one."""
        staged = staging_area.staged_path(self.directory, role)
        return staged if staged.is_file() else self.directory / role_filename(role)

    def sign(self, role: str, keyid: str, *, reviewed: str | None = None) -> SignResult:
        """One more signature on ``role`` with ``keyid`` (asks the passphrase via the handler).

        ``reviewed`` is the digest the holder read; when the role's content changed since,
        nothing is signed.
        """
        try:
            if reviewed is not None:
                md = self.service.repo.working(self.directory).role(role)
                if content_digest(md) != reviewed:
                    raise ReviewOutdated(
                        f"{self.role_file(role)}: {role} changed since you reviewed it; "
                        "review it again before signing"
                    )
            if staging_area.staged_path(self.directory, role).is_file():
                result = self.service.repo.sign_staged(self.directory, role, keyid)
            else:
                result = self.service.repo.sign(self.role_file(role), keyid)
        except TrustkeepError as e:
            self.record("failed", action="sign", role=role, keyid=keyid, error=e.message)
            raise
        self.record(
            "signed",
            role=role,
            version=result.version,
            keyid=keyid,
            sha256=reviewed or "",
            result=self.describe_sign(result),
        )
        return result

    def refresh(self, roles: Sequence[str]) -> list[WriteResult]:
        """New versions of ``roles`` (root alone first), then snapshot and timestamp."""
        results: list[WriteResult] = []
        others = [r for r in roles if r != "root"]
        try:
            if "root" in roles:
                results.append(self.service.repo.refresh(self.directory, roles=["root"]))
            if others or not roles:
                results.append(self.service.repo.refresh(self.directory, roles=others))
        except TrustkeepError as e:
            self.record("failed", action="re-sign", roles=tuple(roles), error=e.message)
            raise
        changes = tuple(line for r in results for line in self._changes(r))
        self.record("re-signed", roles=tuple(roles), changes=changes)
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
