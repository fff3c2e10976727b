"""Delegations: classic roles (paths or hash prefixes), hashed bins (succinct TAP 15 or
classic ``path_hash_prefixes``), and finding the role responsible for a target path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from securesystemslib.signer import Key
from tuf.api.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    DelegatedRole,
    Delegations,
    Metadata,
    SuccinctRoles,
    Targets,
)

from trustkeep.core.rolenames import role_filename, validate_tuf_role_name
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.rootops import check_threshold
from trustkeep.core.tuf_repo.state import RepoState, walk_delegations
from trustkeep.errors import InputError

__all__ = [
    "BinStyle",
    "DelegationInfo",
    "add_bins",
    "add_delegation",
    "bin_prefixes",
    "change_delegation_keys",
    "delegation_of",
    "delegation_tree",
    "find_role_for_path",
    "remove_delegation",
    "role_accepts_path",
]

BinStyle = Literal["succinct", "classic"]
_HEX_RE = re.compile(r"^[0-9a-f]{1,64}$")
_MAX_FILENAME = 255
MIN_BINS, MAX_BINS = 16, 65536


@dataclass(frozen=True)
class DelegationInfo:
    """One delegation as ``delegation list`` shows it."""

    role: str
    delegator: str
    keyids: tuple[str, ...]
    threshold: int
    terminating: bool
    paths: tuple[str, ...] | None
    path_hash_prefixes: tuple[str, ...] | None
    succinct: bool
    bins: int | None = None
    has_metadata: bool = True


def validate_delegated_name(name: str) -> str:
    """A name for a new delegated role; the file it maps to stays inside the directory."""
    validate_tuf_role_name(name)
    if name in TOP_LEVEL_ROLE_NAMES:
        raise InputError(f"role name {name!r} is a top-level role name")
    if name.startswith("."):
        raise InputError(f"role name {name!r} starts with '.' (hidden and relative names refused)")
    if ".." in name.split("/"):
        raise InputError(f"role name {name!r} holds a '..' segment (relative names refused)")
    if len(role_filename(name, 2**31).encode("utf-8")) > _MAX_FILENAME:
        raise InputError(f"role name {name[:40]!r}… is too long for a file name once quoted")
    return name


def _all_names(state: RepoState) -> set[str]:
    return {child for _, child in walk_delegations(state)}


def _plain_delegator(state: RepoState, delegator: str) -> Metadata[Targets]:
    md = state.targets_role(delegator)
    delegations = md.signed.delegations
    if delegations is not None and delegations.succinct_roles is not None:
        raise InputError(
            f"role {delegator!r} delegates to succinct hashed bins; it can hold no other delegation"
        )
    return md


def _new_role_md(state: RepoState, name: str, now: datetime, policy: ExpiryPolicy) -> None:
    """Empty metadata for a new delegated role, above any version snapshot still records."""
    recorded = state.snapshot.signed.meta.get(f"{name}.json")
    version = recorded.version + 1 if recorded is not None else 1
    state.delegated[name] = Metadata(Targets(version=version, expires=policy.expires(name, now)))
    if name in state.missing:
        state.missing.remove(name)
    state.mark(name)


def _check_patterns(paths: Sequence[str] | None, prefixes: Sequence[str] | None) -> None:
    if (paths is None) == (prefixes is None):
        raise InputError("give either --paths or --hash-prefixes (exactly one)")
    if paths is not None:
        if not paths:
            raise InputError("--paths needs at least one pattern")
        for p in paths:
            if not p or any(ord(c) < 0x20 for c in p):
                raise InputError(f"bad path pattern {p!r}")
    if prefixes is not None:
        if not prefixes:
            raise InputError("--hash-prefixes needs at least one prefix")
        for h in prefixes:
            if not _HEX_RE.match(h):
                raise InputError(f"bad hash prefix {h!r}: lowercase hex digits expected")


def add_delegation(
    state: RepoState,
    name: str,
    *,
    delegator: str,
    keys: Sequence[Key],
    threshold: int,
    paths: Sequence[str] | None,
    hash_prefixes: Sequence[str] | None,
    terminating: bool,
    now: datetime,
    policy: ExpiryPolicy,
) -> None:
    """Delegate ``name`` from ``delegator``; creates ``name``'s version-1 metadata."""
    validate_delegated_name(name)
    md = _plain_delegator(state, delegator)
    if name in _all_names(state):
        raise InputError(f"role {name!r} is already delegated in this repository")
    ids = [k.keyid for k in keys]
    if len(set(ids)) != len(ids):
        raise InputError(f"role {name!r}: a key is given more than once")
    check_threshold(name, threshold, len(ids))
    _check_patterns(paths, hash_prefixes)
    state.touch(delegator, now, policy)
    if md.signed.delegations is None:
        md.signed.delegations = Delegations(keys={}, roles={})
    role = DelegatedRole(
        name,
        ids,
        threshold,
        terminating,
        paths=list(paths) if paths is not None else None,
        path_hash_prefixes=list(hash_prefixes) if hash_prefixes is not None else None,
    )
    assert md.signed.delegations.roles is not None
    md.signed.delegations.roles[name] = role
    for key in keys:
        md.signed.add_key(key, name)
    _new_role_md(state, name, now, policy)


def remove_delegation(state: RepoState, name: str, *, now: datetime, policy: ExpiryPolicy) -> str:
    """Remove the delegation of ``name`` (``PREFIX-*``: all the succinct bins); returns its
    delegator. The role files stay."""
    if name.endswith("-*"):
        return _remove_succinct(state, name, now=now, policy=policy)
    delegator = state.delegator_of(name)
    md = state.targets_role(delegator)
    delegations = md.signed.delegations
    assert delegations is not None
    if delegations.roles is None:
        raise InputError(
            f"role {name!r} is a succinct hashed bin: remove all the bins of {delegator!r} "
            f"with the name '{delegations.succinct_roles.name_prefix}-*'"  # type: ignore[union-attr]
        )
    state.touch(delegator, now, policy)
    role = delegations.roles.pop(name)
    used = {k for r in delegations.roles.values() for k in r.keyids}
    for keyid in role.keyids:
        if keyid not in used:
            delegations.keys.pop(keyid, None)
    if not delegations.roles:
        md.signed.delegations = None
    state.delegated.pop(name, None)
    if name in state.missing:
        state.missing.remove(name)
    return delegator


def delegation_of(state: RepoState, name: str) -> tuple[str, DelegatedRole | SuccinctRoles]:
    """``name``'s delegator and its entry there; ``PREFIX-*`` names a group of succinct bins."""
    if name.endswith("-*"):
        prefix = name[:-2]
        for parent in ("targets", *state.delegated):
            d = state.targets_role(parent).signed.delegations
            sr = d.succinct_roles if d is not None else None
            if sr is not None and sr.name_prefix == prefix:
                return parent, sr
        raise InputError(f"no role delegates to succinct hashed bins {name!r}")
    if name in TOP_LEVEL_ROLE_NAMES:
        raise InputError(
            f"{name!r} is a top-level role: root holds its keys and threshold",
            hint=f"use 'trustkeep root add-key|remove-key|threshold DIR --role {name}'",
        )
    delegator = state.delegator_of(name)
    delegations = state.targets_role(delegator).signed.delegations
    assert delegations is not None
    if delegations.roles is None:
        raise InputError(
            f"role {name!r} is a succinct hashed bin: change the keys of all the bins at once "
            f"with the name '{delegations.succinct_roles.name_prefix}-*'"  # type: ignore[union-attr]
        )
    return delegator, delegations.roles[name]


def change_delegation_keys(
    state: RepoState,
    name: str,
    *,
    add: Sequence[Key],
    remove: Sequence[str],
    threshold: int | None,
    now: datetime,
    policy: ExpiryPolicy,
) -> list[str]:
    """Add and remove keys of delegated role ``name`` (or ``PREFIX-*``: every succinct bin)
    and set its threshold, in one new version of its delegator.

    The delegated roles whose present signatures no longer meet the new keys and
    threshold get a new version too (to be signed by the new keys); returns their names.
    """
    delegator, entry = delegation_of(state, name)
    ids = [k.keyid for k in add]
    if len(set(ids)) != len(ids):
        raise InputError(f"role {name!r}: a key is given more than once")
    for keyid in remove:
        if keyid not in entry.keyids:
            raise InputError(f"role {name!r}: key {keyid[:8]} is not one of its keys")
    for keyid in ids:
        if keyid in entry.keyids and keyid not in remove:
            raise InputError(f"role {name!r}: key {keyid[:8]} is already one of its keys")
    final = [k for k in entry.keyids if k not in remove] + [k for k in ids if k not in entry.keyids]
    new_threshold = entry.threshold if threshold is None else threshold
    check_threshold(name, new_threshold, len(final))
    if set(final) == set(entry.keyids) and new_threshold == entry.threshold:
        raise InputError(f"role {name!r}: nothing changes (same keys and threshold)")
    md = state.targets_role(delegator)
    delegations = md.signed.delegations
    assert delegations is not None
    state.touch(delegator, now, policy)
    entry.keyids = final
    entry.threshold = new_threshold
    delegations.keys.update({k.keyid: k for k in add})
    used = {k for r in (delegations.roles or {}).values() for k in r.keyids}
    if delegations.succinct_roles is not None:
        used |= set(delegations.succinct_roles.keyids)
    for keyid in remove:
        if keyid not in used:
            delegations.keys.pop(keyid, None)
    members = list(entry.get_roles()) if isinstance(entry, SuccinctRoles) else [name]
    resign = []
    for member in members:
        role_md = state.delegated.get(member)
        if (
            role_md is None
            or md.signed.get_verification_result(
                member, role_md.signed_bytes, role_md.signatures
            ).verified
        ):
            continue
        state.touch(member, now, policy)
        resign.append(member)
    return resign


def _remove_succinct(state: RepoState, name: str, *, now: datetime, policy: ExpiryPolicy) -> str:
    delegator, entry = delegation_of(state, name)
    assert isinstance(entry, SuccinctRoles)
    state.touch(delegator, now, policy)
    state.targets_role(delegator).signed.delegations = None
    for bin_name in entry.get_roles():
        state.delegated.pop(bin_name, None)
        if bin_name in state.missing:
            state.missing.remove(bin_name)
    return delegator


def bin_prefixes(index: int, bit_length: int) -> list[str]:
    """Hex prefixes of sha256(path) that fall into bin ``index`` (same bins as TAP 15)."""
    digits = (bit_length + 3) // 4
    spare = 4 * digits - bit_length
    first = index << spare
    return [f"{j:0{digits}x}" for j in range(first, first + (1 << spare))]


def _check_bins_delegator(md: Metadata[Targets], delegator: str, style: BinStyle) -> None:
    """Classic bins may join other delegations; succinct bins must be a role's only one."""
    delegations = md.signed.delegations
    if delegations is None:
        return
    if delegations.succinct_roles is not None:
        raise InputError(
            f"role {delegator!r} already delegates to succinct hashed bins "
            f"{delegations.succinct_roles.name_prefix}-*; remove them first"
        )
    if style == "succinct":
        others = list(delegations.roles or ())
        shown = ", ".join(repr(n) for n in others[:3]) + (" …" if len(others) > 3 else "")
        raise InputError(
            f"role {delegator!r} already delegates to {shown}: succinct hashed bins (TAP 15) "
            "replace all of a role's delegations, so they cannot share it",
            hint="add the bins beside them with --style classic, or delegate the bins from "
            "a role of their own: 'trustkeep delegation add DIR ROLE ...' then --delegator ROLE",
        )


def add_bins(
    state: RepoState,
    *,
    delegator: str,
    count: int,
    keys: Sequence[Key],
    threshold: int,
    name_prefix: str,
    style: BinStyle,
    now: datetime,
    policy: ExpiryPolicy,
) -> list[str]:
    """Delegate all of ``delegator``'s paths to ``count`` hashed bins; returns bin names."""
    if count < MIN_BINS or count > MAX_BINS or count & (count - 1):
        raise InputError(f"--count {count}: a power of two from {MIN_BINS} to {MAX_BINS}")
    md = state.targets_role(delegator)
    _check_bins_delegator(md, delegator, style)
    if md.signed.targets:
        raise InputError(
            f"role {delegator!r} lists {len(md.signed.targets)} target(s); "
            "remove them before delegating to bins"
        )
    ids = [k.keyid for k in keys]
    if len(set(ids)) != len(ids):
        raise InputError("bins: a key is given more than once")
    check_threshold(f"{name_prefix}-*", threshold, len(ids))
    bit_length = count.bit_length() - 1
    succinct = SuccinctRoles(ids, threshold, bit_length, name_prefix)
    names = list(succinct.get_roles())
    for n in (names[0], names[-1]):
        validate_delegated_name(n)
    taken = _all_names(state) | set(state.delegated)
    clash = next((n for n in names if n in taken), None)
    if clash is not None:
        raise InputError(f"bin name {clash!r} is already a role of this repository")
    state.touch(delegator, now, policy)
    key_map = {k.keyid: k for k in keys}
    if style == "succinct":
        md.signed.delegations = Delegations(keys=key_map, succinct_roles=succinct)
    else:
        roles = {
            n: DelegatedRole(
                n, ids, threshold, False, path_hash_prefixes=bin_prefixes(i, bit_length)
            )
            for i, n in enumerate(names)
        }
        if md.signed.delegations is None:
            md.signed.delegations = Delegations(keys=key_map, roles=roles)
        else:  # after the delegations already there: those keep their paths first
            assert md.signed.delegations.roles is not None
            md.signed.delegations.keys.update(key_map)
            md.signed.delegations.roles.update(roles)
    for n in names:
        _new_role_md(state, n, now, policy)
    return names


def role_accepts_path(state: RepoState, role: str, path: str) -> bool:
    """Whether ``role``'s own delegation covers ``path`` (``targets`` covers everything)."""
    if role == "targets":
        return True
    delegations = state.targets_role(state.delegator_of(role)).signed.delegations
    assert delegations is not None
    if delegations.succinct_roles is not None:
        return delegations.succinct_roles.get_role_for_target(path) == role
    assert delegations.roles is not None
    return delegations.roles[role].is_delegated_path(path)


def find_role_for_path(state: RepoState, path: str) -> str:
    """The role a client reaches first for ``path`` whose delegations go no further."""
    current = "targets"
    visited = {current}
    while True:
        md = state.targets if current == "targets" else state.delegated.get(current)
        if md is None or md.signed.delegations is None:
            return current
        nxt: str | None = None
        for child, _terminating in md.signed.delegations.get_roles_for_target(path):
            if child in state.delegated and child not in visited:
                nxt = child
                break
        if nxt is None:
            return current
        visited.add(nxt)
        current = nxt


def delegation_tree(state: RepoState) -> list[DelegationInfo]:
    """Every delegation, succinct bins as one entry."""
    out: list[DelegationInfo] = []
    seen_succinct: set[str] = set()
    for parent, child in walk_delegations(state):
        delegations = state.targets_role(parent).signed.delegations
        assert delegations is not None
        if delegations.succinct_roles is not None:
            if parent in seen_succinct:
                continue
            seen_succinct.add(parent)
            sr = delegations.succinct_roles
            out.append(
                DelegationInfo(
                    role=f"{sr.name_prefix}-*",
                    delegator=parent,
                    keyids=tuple(sr.keyids),
                    threshold=sr.threshold,
                    terminating=True,
                    paths=None,
                    path_hash_prefixes=None,
                    succinct=True,
                    bins=sr.number_of_bins,
                    has_metadata=all(n in state.delegated for n in sr.get_roles()),
                )
            )
            continue
        assert delegations.roles is not None
        r = delegations.roles[child]
        out.append(
            DelegationInfo(
                role=child,
                delegator=parent,
                keyids=tuple(r.keyids),
                threshold=r.threshold,
                terminating=r.terminating,
                paths=tuple(r.paths) if r.paths is not None else None,
                path_hash_prefixes=(
                    tuple(r.path_hash_prefixes) if r.path_hash_prefixes is not None else None
                ),
                succinct=False,
                has_metadata=child in state.delegated,
            )
        )
    return out
