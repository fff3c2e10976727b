"""The staging area's rules: the working state (published + staged) and what a change changes.

Pure: the adapter reads the published directory and ``DIR/staged/``; this module
overlays them, and compares a staged role with its published version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tuf.api.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    DelegatedRole,
    Delegations,
    Metadata,
    Root,
    Signed,
    Targets,
)

from trustkeep.core.tuf_repo.state import RepoState, walk_delegations
from trustkeep.errors import InputError

__all__ = [
    "DiffEntry",
    "DiffKind",
    "RoleDiff",
    "diff_role",
    "overlay",
    "staged_version_problem",
]

_TOP = ("root", "targets", "snapshot", "timestamp")


def overlay(published: RepoState | None, staged: Mapping[str, Metadata[Any]]) -> RepoState:
    """The repository as it will be once ``staged`` is published (``published`` may be None).

    A staged root keeps the published root as its previous version (root N+1 needs a
    threshold of root N's keys too).
    """
    if published is None:
        absent = [r for r in _TOP if r not in staged]
        if absent:
            raise InputError(
                "nothing is published here and the staging area lacks "
                + ", ".join(absent)
                + " (no root.json, no staged/root.json)"
            )
        state = RepoState(
            root=staged["root"],
            targets=staged["targets"],
            snapshot=staged["snapshot"],
            timestamp=staged["timestamp"],
        )
    else:
        state = RepoState(
            root=staged.get("root", published.root),
            targets=staged.get("targets", published.targets),
            snapshot=staged.get("snapshot", published.snapshot),
            timestamp=staged.get("timestamp", published.timestamp),
            delegated=dict(published.delegated),
            previous_root=published.root if "root" in staged else published.previous_root,
            snapshot_bytes=None if "snapshot" in staged else published.snapshot_bytes,
        )
    for role, md in staged.items():
        if role not in TOP_LEVEL_ROLE_NAMES:
            state.delegated[role] = md
    state.staged = set(staged)
    state.missing = []
    for _parent, child in walk_delegations(state):
        if child not in state.delegated and child not in state.missing:
            state.missing.append(child)
    return state


def staged_version_problem(
    role: str, staged: Metadata[Any], published: RepoState | None
) -> str | None:
    """Why ``staged`` cannot follow the published role (None when it can)."""
    version = staged.signed.version
    if published is None:
        return None if version == 1 or role not in _TOP else f"is v{version}, expected v1"
    try:
        current = published.role(role).signed.version
    except InputError:
        return None  # a new delegated role
    if role == "root" and version != current + 1:
        return f"is v{version}; root v{current} is published, so it must be v{current + 1}"
    if role != "root" and version <= current:
        return f"is v{version}, not newer than the published v{current} (discard and redo it)"
    return None


# -- what a staged role changes ------------------------------------------------------


class DiffKind:
    """Kinds of :class:`DiffEntry` (strings, stable in JSON)."""

    NEW_ROLE = "new-role"
    VERSION = "version"
    EXPIRES = "expires"
    KEY_ADDED = "key-added"
    KEY_REMOVED = "key-removed"
    THRESHOLD = "threshold"
    CONSISTENT_SNAPSHOT = "consistent-snapshot"
    DELEGATION_ADDED = "delegation-added"
    DELEGATION_REMOVED = "delegation-removed"
    PATHS = "paths"
    TERMINATING = "terminating"
    TARGET_ADDED = "target-added"
    TARGET_REMOVED = "target-removed"
    TARGET_CHANGED = "target-changed"
    META = "meta"


@dataclass(frozen=True)
class DiffEntry:
    """One difference: ``subject`` is the role (keys, thresholds) or target path concerned."""

    kind: str
    subject: str
    old: object = None
    new: object = None


@dataclass(frozen=True)
class RoleDiff:
    role: str
    old_version: int | None
    new_version: int
    entries: tuple[DiffEntry, ...]


def _keys_diff(
    subject: str, old: tuple[str, ...], new: tuple[str, ...], out: list[DiffEntry]
) -> None:
    out += [DiffEntry(DiffKind.KEY_ADDED, subject, None, k) for k in new if k not in old]
    out += [DiffEntry(DiffKind.KEY_REMOVED, subject, k, None) for k in old if k not in new]


def _root_diff(old: Root, new: Root, out: list[DiffEntry]) -> None:
    for name in sorted(set(old.roles) | set(new.roles)):
        o, n = old.roles.get(name), new.roles.get(name)
        _keys_diff(name, tuple(o.keyids) if o else (), tuple(n.keyids) if n else (), out)
        if n and (o is None or o.threshold != n.threshold):
            out.append(DiffEntry(DiffKind.THRESHOLD, name, o.threshold if o else None, n.threshold))
    if old.consistent_snapshot != new.consistent_snapshot:
        out.append(
            DiffEntry(
                DiffKind.CONSISTENT_SNAPSHOT,
                "root",
                old.consistent_snapshot,
                new.consistent_snapshot,
            )
        )


def _delegated(d: Delegations | None) -> dict[str, DelegatedRole]:
    return dict(d.roles or {}) if d is not None else {}


def _patterns(r: DelegatedRole) -> tuple[str, ...]:
    return tuple(r.paths or r.path_hash_prefixes or ())


def _delegations_diff(old: Targets, new: Targets, out: list[DiffEntry]) -> None:
    o_roles, n_roles = _delegated(old.delegations), _delegated(new.delegations)
    for name in n_roles.keys() - o_roles.keys():
        r = n_roles[name]
        out.append(DiffEntry(DiffKind.DELEGATION_ADDED, name, None, _patterns(r)))
        _keys_diff(name, (), tuple(r.keyids), out)
        out.append(DiffEntry(DiffKind.THRESHOLD, name, None, r.threshold))
    for name in sorted(o_roles.keys() - n_roles.keys()):
        out.append(DiffEntry(DiffKind.DELEGATION_REMOVED, name, _patterns(o_roles[name]), None))
    for name in sorted(o_roles.keys() & n_roles.keys()):
        o, n = o_roles[name], n_roles[name]
        _keys_diff(name, tuple(o.keyids), tuple(n.keyids), out)
        if o.threshold != n.threshold:
            out.append(DiffEntry(DiffKind.THRESHOLD, name, o.threshold, n.threshold))
        if _patterns(o) != _patterns(n):
            out.append(DiffEntry(DiffKind.PATHS, name, _patterns(o), _patterns(n)))
        if o.terminating != n.terminating:
            out.append(DiffEntry(DiffKind.TERMINATING, name, o.terminating, n.terminating))
    o_bins = old.delegations.succinct_roles if old.delegations else None
    n_bins = new.delegations.succinct_roles if new.delegations else None
    if (o_bins is None) != (n_bins is None) or (
        o_bins is not None and n_bins is not None and o_bins.to_dict() != n_bins.to_dict()
    ):
        either = n_bins or o_bins
        prefix = either.name_prefix if either is not None else "bins"
        out.append(
            DiffEntry(
                DiffKind.DELEGATION_ADDED if o_bins is None else DiffKind.DELEGATION_REMOVED,
                f"{prefix}-*",
                o_bins.number_of_bins if o_bins else None,
                n_bins.number_of_bins if n_bins else None,
            )
        )


def _targets_diff(old: Targets, new: Targets, out: list[DiffEntry]) -> None:
    for path in sorted(new.targets.keys() - old.targets.keys()):
        out.append(DiffEntry(DiffKind.TARGET_ADDED, path, None, new.targets[path].length))
    for path in sorted(old.targets.keys() - new.targets.keys()):
        out.append(DiffEntry(DiffKind.TARGET_REMOVED, path, old.targets[path].length, None))
    for path in sorted(old.targets.keys() & new.targets.keys()):
        o, n = old.targets[path], new.targets[path]
        if o.to_dict() != n.to_dict():
            out.append(
                DiffEntry(
                    DiffKind.TARGET_CHANGED, path, o.hashes.get("sha256"), n.hashes.get("sha256")
                )
            )
    _delegations_diff(old, new, out)


def _expiry(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def diff_role(role: str, old: Signed | None, new: Signed) -> RoleDiff:
    """What ``new`` changes against ``old`` (None: a role not published yet)."""
    out: list[DiffEntry] = []
    if old is None:
        out.append(DiffEntry(DiffKind.NEW_ROLE, role, None, new.version))
        empty: Signed | None = None
        if isinstance(new, Targets):
            empty = Targets(version=1, expires=new.expires)
        elif isinstance(new, Root):
            empty = Root(expires=new.expires)
            empty.roles = {}
            # a new root has no "before": its consistent_snapshot is shown as a value
            empty.consistent_snapshot = None
        if empty is not None:
            _content_diff(empty, new, out)
        return RoleDiff(role, None, new.version, tuple(out))
    if old.version != new.version:
        out.append(DiffEntry(DiffKind.VERSION, role, old.version, new.version))
    if old.expires != new.expires:
        out.append(DiffEntry(DiffKind.EXPIRES, role, _expiry(old.expires), _expiry(new.expires)))
    _content_diff(old, new, out)
    return RoleDiff(role, old.version, new.version, tuple(out))


def _content_diff(old: Signed, new: Signed, out: list[DiffEntry]) -> None:
    if isinstance(old, Root) and isinstance(new, Root):
        _root_diff(old, new, out)
    elif isinstance(old, Targets) and isinstance(new, Targets):
        _targets_diff(old, new, out)
    elif old.to_dict() != new.to_dict():
        out.append(DiffEntry(DiffKind.META, new.type))
