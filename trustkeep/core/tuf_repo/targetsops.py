"""Targets: add and remove target files, each in the role the delegation tree assigns."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tuf.api.metadata import TargetFile

from trustkeep.core.tuf_repo.delegation import find_role_for_path, role_accepts_path
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.errors import InputError

__all__ = [
    "TargetEntry",
    "add_targets",
    "list_targets",
    "new_target",
    "parse_custom",
    "remove_targets",
    "target_file",
    "validate_target_path",
]


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_BAD_SEGMENT_RE = re.compile(r"(^|/)\.{0,2}(/|$)")
#: printable ASCII, no backslash, no leading space: then only the segment rule is left
_PLAIN_RE = re.compile(r"[\x21-\x5b\x5d-\x7e][\x20-\x5b\x5d-\x7e]*")


@dataclass(frozen=True)
class TargetEntry:
    path: str
    role: str
    length: int
    hashes: tuple[tuple[str, str], ...]


def validate_target_path(path: str) -> str:
    """A target path is a relative URL path: no empty, ``.`` or ``..`` segment, no ``\\``."""
    if _PLAIN_RE.fullmatch(path) and not _BAD_SEGMENT_RE.search(path):
        return path  # the common case, in one pass
    if not path or path.startswith("/") or "\\" in path:
        raise InputError(f"target path {path!r} must be relative and use '/' separators")
    if _CONTROL_RE.search(path):
        raise InputError(f"target path {path!r} contains NUL or control characters")
    if _SURROGATE_RE.search(path):
        raise InputError(f"target path {path!r} is not valid UTF-8 text (rename the file)")
    if _BAD_SEGMENT_RE.search(path):
        raise InputError(f"target path {path!r} has an empty, '.' or '..' segment")
    return path


def target_file(path: str, data: bytes) -> TargetFile:
    """Length and sha256 / sha512 of ``data`` for target ``path``."""
    return TargetFile(
        length=len(data),
        hashes={
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
        },
        path=validate_target_path(path),
    )


def new_target(
    path: str, length: int, hashes: Mapping[str, str], custom: Mapping[str, Any] | None = None
) -> TargetFile:
    """The entry for target ``path`` (checked by :func:`add_targets`); ``custom`` becomes
    its ``custom`` object."""
    extra = {"custom": dict(custom)} if custom is not None else {}
    return TargetFile(length, dict(hashes), path, unrecognized_fields=extra)


def _no_float(text: str) -> Any:
    raise InputError(f"--custom: {text} is not an integer (signed metadata holds no floats)")


def parse_custom(text: str) -> dict[str, Any]:
    """``--custom JSON``: a JSON object of integers, strings, booleans, lists and objects."""
    try:
        value = json.loads(text, parse_float=_no_float, parse_constant=_no_float)
    except json.JSONDecodeError as e:
        raise InputError(f"--custom: not valid JSON: {e.msg} (at character {e.pos})") from e
    if not isinstance(value, dict):
        raise InputError('--custom: a JSON object expected, e.g. \'{"version": "1.2"}\'')
    return value


def add_targets(
    state: RepoState,
    files: Iterable[TargetFile],
    *,
    role: str | None,
    now: datetime,
    policy: ExpiryPolicy,
) -> dict[str, list[str]]:
    """Add (or replace) targets; returns role -> paths added. Refuses undelegated paths.

    Without ``role``, a path top-level targets already lists is updated there; any other
    goes to the role a client reaches first for it (:func:`find_role_for_path`).
    """
    placed: dict[str, list[TargetFile]] = {}
    for tf in files:
        validate_target_path(tf.path)
        if role is not None:
            state.targets_role(role)
            if not role_accepts_path(state, role, tf.path):
                raise InputError(f"target {tf.path!r} is not delegated to role {role!r}")
            owner = role
        elif tf.path in state.targets.signed.targets:
            owner = "targets"  # clients find it there first: update it in place
        else:
            owner = find_role_for_path(state, tf.path)
        placed.setdefault(owner, []).append(tf)
    for owner, tfs in placed.items():
        state.touch(owner, now, policy)
        table = state.targets_role(owner).signed.targets
        for tf in tfs:
            table[tf.path] = tf
    return {owner: [tf.path for tf in tfs] for owner, tfs in placed.items()}


def _owners(state: RepoState, path: str) -> list[str]:
    names = ["targets", *state.delegated]
    return [n for n in names if path in state.targets_role(n).signed.targets]


def remove_targets(
    state: RepoState,
    paths: Sequence[str],
    *,
    role: str | None,
    now: datetime,
    policy: ExpiryPolicy,
) -> dict[str, list[str]]:
    """Remove targets from the role that lists them; returns role -> paths removed."""
    removed: dict[str, list[str]] = {}
    for path in paths:
        owners = [role] if role is not None else _owners(state, path)
        owners = [o for o in owners if path in state.targets_role(o).signed.targets]
        if not owners:
            where = f"role {role!r}" if role is not None else "any role"
            raise InputError(f"target {path!r} is not listed in {where}")
        for owner in owners:
            removed.setdefault(owner, []).append(path)
    for owner, owned in removed.items():
        state.touch(owner, now, policy)
        table = state.targets_role(owner).signed.targets
        for path in owned:
            del table[path]
    return removed


def list_targets(state: RepoState, role: str | None = None) -> list[TargetEntry]:
    names = [role] if role is not None else ["targets", *state.delegated]
    out: list[TargetEntry] = []
    for name in names:
        for path, tf in sorted(state.targets_role(name).signed.targets.items()):
            out.append(TargetEntry(path, name, tf.length, tuple(sorted(tf.hashes.items()))))
    return out
