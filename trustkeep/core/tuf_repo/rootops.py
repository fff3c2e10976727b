"""Root operations: a new repository, keys and thresholds of top-level roles, rotation.

Every change goes through :meth:`RepoState.touch`, so several changes in one ceremony
amend the same unpublished root version N+1 instead of producing N+2, N+3...
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from securesystemslib.signer import Key
from tuf.api.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    Targets,
    Timestamp,
)

from trustkeep.core.rolenames import TOP_LEVEL_ROLES
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.errors import InputError

__all__ = [
    "add_root_keys",
    "check_threshold",
    "new_repository",
    "remove_root_keys",
    "rotate_keys",
    "set_root_expiry",
    "set_threshold",
]


def check_threshold(role: str, threshold: int, key_count: int) -> None:
    """Refuse thresholds below 1 or above the number of the role's keys."""
    if threshold < 1:
        raise InputError(f"role {role!r}: threshold {threshold} is below 1")
    if threshold > key_count:
        raise InputError(
            f"role {role!r}: threshold {threshold} is larger than its {key_count} key(s)"
        )


def _check_role(role: str) -> None:
    if role not in TOP_LEVEL_ROLE_NAMES:
        raise InputError(f"{role!r} is not a top-level role (root, targets, snapshot, timestamp)")


def _unique(role: str, keys: Sequence[Key]) -> None:
    ids = [k.keyid for k in keys]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(f"role {role!r}: key {dupes[0][:8]} given more than once")


def new_repository(
    *,
    keys: dict[str, Sequence[Key]],
    thresholds: dict[str, int],
    now: datetime,
    policy: ExpiryPolicy,
    consistent_snapshot: bool,
) -> RepoState:
    """Version-1 metadata of the four top-level roles (unsigned)."""
    root = Root(expires=policy.expires("root", now), consistent_snapshot=consistent_snapshot)
    for role in TOP_LEVEL_ROLES:
        role_keys = keys.get(role, ())
        if not role_keys:
            raise InputError(f"role {role!r} needs at least one key")
        _unique(role, role_keys)
        threshold = thresholds.get(role, 1)
        check_threshold(role, threshold, len(role_keys))
        for key in role_keys:
            root.add_key(key, role)
        root.roles[role].threshold = threshold
    state = RepoState(
        root=Metadata(root),
        targets=Metadata(Targets(expires=policy.expires("targets", now))),
        snapshot=Metadata(
            Snapshot(expires=policy.expires("snapshot", now), meta={"targets.json": MetaFile(1)})
        ),
        timestamp=Metadata(
            Timestamp(expires=policy.expires("timestamp", now), snapshot_meta=MetaFile(1))
        ),
    )
    for role in TOP_LEVEL_ROLES:
        state.mark(role)
    return state


def _role(state: RepoState, role: str) -> Role:
    _check_role(role)
    return state.root.signed.roles[role]


def _verify_all_thresholds(state: RepoState) -> None:
    for name, role in state.root.signed.roles.items():
        check_threshold(name, role.threshold, len(role.keyids))


def add_root_keys(
    state: RepoState, role: str, keys: Sequence[Key], *, now: datetime, policy: ExpiryPolicy
) -> None:
    """Authorize ``keys`` for top-level ``role`` in the staged root."""
    current = _role(state, role)
    _unique(role, keys)
    for key in keys:
        if key.keyid in current.keyids:
            raise InputError(f"role {role!r}: key {key.keyid[:8]} is already one of its keys")
    state.touch("root", now, policy)
    for key in keys:
        state.root.signed.add_key(key, role)


def remove_root_keys(
    state: RepoState, role: str, keyids: Sequence[str], *, now: datetime, policy: ExpiryPolicy
) -> None:
    """Revoke ``keyids`` from top-level ``role``; the threshold must still be reachable."""
    current = _role(state, role)
    for keyid in keyids:
        if keyid not in current.keyids:
            raise InputError(f"role {role!r}: key {keyid[:8]} is not one of its keys")
    left = len(set(current.keyids) - set(keyids))
    if left < current.threshold:
        raise InputError(
            f"role {role!r}: removing leaves {left} key(s) for threshold {current.threshold}; "
            "lower the threshold first"
        )
    state.touch("root", now, policy)
    for keyid in keyids:
        state.root.signed.revoke_key(keyid, role)


def set_threshold(
    state: RepoState, role: str, threshold: int, *, now: datetime, policy: ExpiryPolicy
) -> None:
    current = _role(state, role)
    check_threshold(role, threshold, len(current.keyids))
    state.touch("root", now, policy)
    state.root.signed.roles[role].threshold = threshold


def set_root_expiry(state: RepoState, *, now: datetime, policy: ExpiryPolicy) -> None:
    """Stage a root version with only a new expiry."""
    state.touch("root", now, policy)


def rotate_keys(
    state: RepoState,
    role: str,
    *,
    remove: Sequence[str],
    add: Sequence[Key],
    threshold: int | None,
    now: datetime,
    policy: ExpiryPolicy,
) -> None:
    """Replace keys of a top-level role in one root version (threshold kept unless given)."""
    current = _role(state, role)
    if not remove and not add:
        raise InputError("rotate: give keys to replace (--old) and/or keys to add (--new)")
    _unique(role, add)
    for keyid in remove:
        if keyid not in current.keyids:
            raise InputError(f"role {role!r}: key {keyid[:8]} is not one of its keys")
    for key in add:
        if key.keyid in current.keyids and key.keyid not in remove:
            raise InputError(f"role {role!r}: key {key.keyid[:8]} is already one of its keys")
    final = (set(current.keyids) - set(remove)) | {k.keyid for k in add}
    new_threshold = current.threshold if threshold is None else threshold
    check_threshold(role, new_threshold, len(final))
    if final == set(current.keyids) and new_threshold == current.threshold:
        raise InputError(f"role {role!r}: rotate changes nothing (same keys and threshold)")
    state.touch("root", now, policy)
    for keyid in remove:
        state.root.signed.revoke_key(keyid, role)
    for key in add:
        state.root.signed.add_key(key, role)
    state.root.signed.roles[role].threshold = new_threshold
    _verify_all_thresholds(state)
