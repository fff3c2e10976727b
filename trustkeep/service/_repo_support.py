"""Support for RepoService: key references, the signer pool, result values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from securesystemslib.signer import Key, SSlibKey

from trustkeep.adapters.process_pool import workers
from trustkeep.core.keys import KeyEntry
from trustkeep.core.tuf_repo.pubkeys import key_from_public_bytes
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import (
    StatusIssue,
    ThresholdCheck,
    state_checks,
    threshold_issue,
)
from trustkeep.errors import InputError, StorageError
from trustkeep.service._signer_pool import SignerPool

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = [
    "ResolvedKey",
    "RoleChange",
    "SignResult",
    "SignerPool",
    "WriteResult",
    "authorized_keys",
    "likely_targets_keyids",
    "online_keyids",
    "resolve_key",
    "role_change",
    "threshold_guard",
    "utc_now",
]


@dataclass(frozen=True)
class ResolvedKey:
    """A public key for metadata, and its store entry when this store knows it."""

    key: SSlibKey
    entry: KeyEntry | None

    @property
    def keyid(self) -> str:
        return self.key.keyid

    def label(self) -> str:
        return self.entry.label() if self.entry is not None else self.keyid[:8]


@dataclass(frozen=True)
class RoleChange:
    """A role written by a command: its new version and who has signed it so far."""

    role: str
    version: int
    expires: datetime
    signed_by: tuple[str, ...]
    checks: tuple[ThresholdCheck, ...]
    #: the file a holder signs to add a signature (its twin gets it too)
    file: Path | None = None

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.checks)


@dataclass(frozen=True)
class WriteResult:
    """Roles a command wrote: published (clients see them) or staged (``DIR/staged/``)."""

    directory: Path
    changes: tuple[RoleChange, ...]
    written: tuple[Path, ...]
    names: dict[str, str]
    published: bool = True
    #: findings about the change itself (threshold equals the number of keys...)
    warnings: tuple[StatusIssue, ...] = ()
    #: staged, not published: why publishing it now was not possible
    blockers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignResult:
    file: Path
    role: str
    version: int
    keyid: str
    checks: tuple[ThresholdCheck, ...]
    also_written: tuple[Path, ...]
    names: dict[str, str]
    authority: str
    #: the key had already signed this content: nothing was written
    already_signed: bool = False
    #: root N+1 whose root N was not found: N's threshold could not be checked
    previous_unchecked: int | None = None

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.checks)


def authorized_keys(state: RepoState, role: str) -> dict[str, Key]:
    """keyid -> key of every key that may sign ``role`` (root: root N+1's and root N's)."""
    if role == "root":
        roots = [state.root.signed]
        if state.previous_root is not None:
            roots.append(state.previous_root.signed)
        out: dict[str, Key] = {}
        for root in roots:
            for keyid in root.roles["root"].keyids:
                out.setdefault(keyid, root.get_key(keyid))
        return out
    delegator = state.delegator_signed(role)
    keyids = delegator.get_delegated_role(role).keyids
    return {k: delegator.get_key(k) for k in keyids}


def online_keyids(state: RepoState) -> list[str]:
    """The keyids of the snapshot and timestamp roles (signed by every publish)."""
    roles = state.root.signed.roles
    return [*roles["snapshot"].keyids, *roles["timestamp"].keyids]


def likely_targets_keyids(state: RepoState, *, online: bool) -> list[str]:
    """The keys a change of target entries most likely needs: targets', its delegated
    roles' when they share a few keys (hashed bins), and the online keys when ``online``
    (the change is published at once)."""
    keyids = list(state.root.signed.roles["targets"].keyids)
    delegations = state.targets.signed.delegations
    if delegations is not None and len(delegations.keys) <= workers():
        keyids.extend(delegations.keys)
    return [*keyids, *online_keyids(state)] if online else keyids


def role_change(state: RepoState, role: str, file: Path | None) -> RoleChange:
    """``role`` as a command wrote it (to ``file``): version, signers, thresholds."""
    md = state.role(role)
    return RoleChange(
        role=role,
        version=md.signed.version,
        expires=md.signed.expires,
        signed_by=tuple(sorted(md.signatures)),
        checks=state_checks(state, role),
        file=file,
    )


def resolve_key(keys: KeyService, ref: str) -> ResolvedKey:
    """A keyid, keyid prefix or name from the store, or a public key file (PEM / JSON)."""
    path = Path(ref)
    if "/" in ref or path.is_file():
        if not path.is_file():
            raise InputError(f"{ref}: no such public key file")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise StorageError(f"{ref}: cannot read: {e.strerror}") from e
        key = key_from_public_bytes(data, ref)
        return ResolvedKey(key, keys.get(key.keyid))
    entry = keys.resolve(ref)
    public = entry.sslib_key()
    if not isinstance(public, SSlibKey):  # pragma: no cover - the store holds SSlibKeys
        raise InputError(f"key {entry.label()}: not a securesystemslib key")
    return ResolvedKey(public, entry)


def threshold_guard(state: RepoState, roles: Sequence[str]) -> tuple[StatusIssue, ...]:
    """Offline roles whose threshold equals their number of keys: one lost key, a new root."""
    out = []
    for role in roles:
        r = state.root.signed.roles[role]
        issue = threshold_issue(role, r.threshold, len(r.keyids))
        if issue is not None:
            out.append(issue)
    return tuple(out)


def utc_now(now: datetime | None = None) -> datetime:
    """``now`` (default: the clock) in UTC, to the second, as metadata records time."""
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
