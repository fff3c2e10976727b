"""Root rotation in the ceremony: choices, the review, the staged write, the signing panel.

One new root version per ceremony: root keys removed, store keys and holders' public key
files added, the threshold and the expiry changed, all through the repository service's
root operations (the same ones ``trustkeep root rotate/threshold/expire`` run). The new
root is always staged (``DIR/staged/root.json``); holders sign it here or sign a copy that
is merged back; publishing is the ceremony's ``publish``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters import staging_area
from trustkeep.core.ceremony import (
    content_digest,
    key_label,
    review_role,
    rotation_progress,
    rotation_review,
    waiting_line,
)
from trustkeep.core.keys import KeyEntry
from trustkeep.core.transcript import FieldValue
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import state_checks
from trustkeep.errors import InputError, TrustkeepError
from trustkeep.service._key_entries import validate_name
from trustkeep.service._repo_support import utc_now
from trustkeep.service.ceremony import ReviewOutdated

if TYPE_CHECKING:
    from trustkeep.service.ceremony import CeremonyService
    from trustkeep.service.repo import WriteResult

__all__ = [
    "KeyFile",
    "RotationChoices",
    "RotationPlan",
    "RotationProgress",
    "RotationReview",
    "RotationService",
]


@dataclass(frozen=True)
class RotationChoices:
    """What a root rotation can choose from, read from the directory and the store."""

    version: int
    threshold: int
    root_keys: tuple[str, ...]
    #: keys of this store that are not root keys yet
    candidates: tuple[KeyEntry, ...]
    names: dict[str, str]
    #: root ``version`` is staged, not yet published: a change amends it
    pending: bool
    expires: datetime


@dataclass(frozen=True)
class KeyFile:
    """A holder's public key file (PEM or TUF key JSON) and the name it gets in the store."""

    path: str
    name: str = ""


@dataclass(frozen=True)
class RotationPlan:
    """What the operator chose; nothing in it is chosen by default."""

    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    files: tuple[KeyFile, ...] = ()
    #: None (or the current threshold): kept
    threshold: int | None = None
    #: ``365d`` or a date; empty: the default root expiry, and only with another change
    expires: str = ""


@dataclass(frozen=True)
class RotationReview:
    """The review of ``plan``: what the new root holds, and the digest the write checks."""

    plan: RotationPlan
    version: int
    lines: tuple[str, ...]
    digest: str
    #: the time the review was computed at (the write uses it: the same expiry)
    now: datetime


@dataclass(frozen=True)
class RotationProgress:
    """The signing panel of a staged root (``staged`` False: none is waiting)."""

    staged: bool
    version: int = 0
    #: ``signed by old root: 1 of 2, new root: 0 of 3 — waiting for carol, dave``
    line: str = ""
    #: one line per threshold (``root v1 keys: 1 of 2 signatures — waiting for bob``)
    checks: tuple[str, ...] = ()
    #: keys of this store that may still add a signature here
    signable: tuple[KeyEntry, ...] = ()
    complete: bool = False
    path: Path | None = None
    #: sha256 of the signed content (what a holder signs here)
    digest: str = ""
    names: dict[str, str] = field(default_factory=dict)


class RotationService:
    """``RotationService(ceremony)``: the rotation of one repository's root."""

    def __init__(self, ceremony: CeremonyService) -> None:
        self.ceremony = ceremony
        self.service = ceremony.service
        self.directory = ceremony.directory

    def choices(self) -> RotationChoices:
        """The root's keys (to remove) and the store's other keys (to add)."""
        repo = self.service.repo
        state = repo.working(self.directory)
        root = state.root.signed
        role = root.roles["root"]
        return RotationChoices(
            version=root.version,
            threshold=role.threshold,
            root_keys=tuple(role.keyids),
            candidates=tuple(e for e in self.service.keys.list() if e.keyid not in role.keyids),
            names=repo.names(),
            pending=state.is_pending("root"),
            expires=root.expires,
        )

    # -- the review ---------------------------------------------------------------------

    def _file_keys(self, plan: RotationPlan) -> tuple[list[str], dict[str, str], dict[str, str]]:
        """(refs, keyid -> file, keyid -> name) of the plan's public key files; the two maps
        hold only keys new to this store (their names checked)."""
        refs: list[str] = []
        files: dict[str, str] = {}
        names: dict[str, str] = {}
        taken = {e.name: e.keyid for e in self.service.keys.list() if e.name}
        for f in plan.files:
            path = Path(f.path.strip()).expanduser()
            if not path.is_file():
                raise InputError(f"{path}: no such public key file")
            (resolved,) = self.service.repo.resolve([str(path.absolute())])
            keyid = resolved.keyid
            refs.append(str(path.absolute()))
            if resolved.entry is not None:  # already in this store: kept as it is
                continue
            name = f.name.strip()
            if name:
                validate_name(name)
                if taken.get(name, keyid) != keyid:
                    raise InputError(
                        f"{path}: the name {name!r} is already used by key {taken[name][:8]}"
                    )
                names[keyid] = name
            files[keyid] = str(path)
        return refs, files, names

    def _state(self, plan: RotationPlan, refs: list[str], now: datetime) -> RepoState:
        return self.service.repo.root_change_state(
            self.directory,
            old=plan.remove,
            new=[*plan.add, *refs],
            threshold=plan.threshold,
            expires=plan.expires.strip() or None,
            now=now,
        )

    def review(self, plan: RotationPlan, *, now: datetime | None = None) -> RotationReview:
        """What writing ``plan`` stages, computed by the root operations (nothing written)."""
        when = utc_now(now)
        before = self.service.repo.working(self.directory)
        dropped = len(before.root.signatures) if before.is_pending("root") else 0
        refs, files, file_names = self._file_keys(plan)
        state = self._state(plan, refs, when)
        names = {**self.service.repo.names(), **file_names}
        checks = state_checks(state, "root")
        review = review_role(state, "root", checks, names)
        lines = rotation_review(
            review,
            names,
            key_files=files,
            amends=dropped,
            broken_pins=self._broken_pins(before, state),
        )
        digest = content_digest(state.root)
        self.ceremony.record(
            "rotation reviewed", version=review.version, sha256=digest, **self._fields(plan)
        )
        return RotationReview(plan, review.version, tuple(lines), digest, when)

    def _broken_pins(self, before: RepoState, after: RepoState) -> list[tuple[str, list[str]]]:
        """Pins saved for this repository that name a root key the new root retires."""
        retired = [
            k
            for k in before.root.signed.roles["root"].keyids
            if k not in after.root.signed.roles["root"].keyids
        ]
        found: dict[str, list[str]] = {}
        for keyid in retired:
            entry = self.service.keys.get(keyid)
            canonical = entry.notary_canonical_id if entry is not None else None
            for pin in self.ceremony.pins_naming(keyid, *filter(None, [canonical])):
                found.setdefault(str(pin), []).append(keyid)
        return sorted(found.items())

    @staticmethod
    def _fields(plan: RotationPlan) -> dict[str, FieldValue]:
        return {
            "removed": plan.remove,
            "added": plan.add,
            "key_files": tuple(f.path for f in plan.files),
            "threshold": plan.threshold if plan.threshold is not None else "kept",
            "expires": plan.expires or "default",
        }

    # -- the write ----------------------------------------------------------------------

    def write(self, review: RotationReview) -> WriteResult:
        """Stage the reviewed root (unsigned: holders sign it next); the key files are
        imported as public-only keys. Nothing is written when the result would differ
        from the review."""
        plan = review.plan
        fields = self._fields(plan)
        try:
            state = self._state(plan, self._file_keys(plan)[0], review.now)
            if content_digest(state.root) != review.digest:
                raise ReviewOutdated(
                    f"{self.directory}: the root changed since you reviewed the rotation; "
                    "review it again"
                )
            self._import(plan)
            result = self.service.repo.root_commit(self.directory, state, sign=False)
        except TrustkeepError as e:
            self.ceremony.record("failed", action="stage new root", error=e.message, **fields)
            raise
        self.ceremony.record(
            "new root staged",
            version=review.version,
            sha256=review.digest,
            changes=tuple(self.ceremony.describe_change(c, result.names) for c in result.changes),
            **fields,
        )
        return result

    def _import(self, plan: RotationPlan) -> None:
        keys = self.service.keys
        for f in plan.files:
            path = Path(f.path.strip()).expanduser()
            (resolved,) = self.service.repo.resolve([str(path.absolute())])
            if resolved.entry is not None:
                continue
            entry = keys.import_file(path, name=f.name.strip() or None)
            self.ceremony.record(
                "key imported", keyid=entry.keyid, name=entry.name or "", file=str(path)
            )

    # -- the signing panel ----------------------------------------------------------------

    def progress(self) -> RotationProgress:
        """Who signed the staged root, who is awaited, and the store keys that may sign."""
        if not staging_area.staged_path(self.directory, "root").is_file():
            return RotationProgress(staged=False)
        state = self.service.repo.working(self.directory)
        names = self.service.repo.names()
        checks = state_checks(state, "root")
        mine = {e.keyid: e for e in self.service.keys.list() if e.has_private}
        unsigned = {k for c in checks for k in c.unsigned}
        signed = sorted({k for c in checks for k in c.signed}, key=lambda k: (names.get(k, ""), k))
        ready = sorted(unsigned & set(mine), key=lambda k: (names.get(k, ""), k))
        signable = tuple(mine[k] for k in ready)
        return RotationProgress(
            staged=True,
            version=state.root.signed.version,
            line=rotation_progress(checks, names),
            checks=(
                *(f"{c.label}: {waiting_line(c, names)}" for c in checks),
                f"signed so far: {', '.join(key_label(k, names) for k in signed) or 'nobody'}",
            ),
            signable=signable,
            complete=all(c.verified for c in checks),
            path=staging_area.staged_path(self.directory, "root"),
            digest=content_digest(state.root),
            names=names,
        )
