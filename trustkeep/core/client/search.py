"""Finding a target in the delegation graph, and the names files have on a server.

Pre-order depth-first search in the order roles appear in their delegator
(spec §5.6.7): a role is visited at most once per lookup (cycles end), a
terminating delegation that matches stops backtracking, and a lookup loads at
most ``max_roles`` roles. Loading is a callback, so this module does no I/O: the
shell fetches and verifies ``role`` against ``delegator`` — the delegator on the
current lookup path, which matters when two roles delegate the same role.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from tuf.api.metadata import TargetFile, Targets

from trustkeep.core.rolenames import role_filename

__all__ = [
    "MAX_ROLES",
    "Found",
    "find_target",
    "metadata_path",
    "target_file_name",
    "target_path",
]

#: roles one lookup may load (python-tuf's ``max_delegations`` is 32 as well)
MAX_ROLES = 32

LoadRole = Callable[[str, str], Targets]


@dataclass(frozen=True)
class Found:
    target: TargetFile
    role: str
    visited: tuple[str, ...]


def find_target(path: str, load: LoadRole, *, max_roles: int = MAX_ROLES) -> Found | None:
    """The ``TargetFile`` for ``path`` from the first role in pre-order that lists it.

    ``load(role, delegator)`` returns the verified targets of ``role`` or raises.
    """
    stack: list[tuple[str, str]] = [("targets", "root")]
    visited: list[str] = []
    while stack and len(visited) < max_roles:
        role, delegator = stack.pop()
        if role in visited:
            continue
        targets = load(role, delegator)
        visited.append(role)
        found = targets.targets.get(path)
        if found is not None:
            return Found(found, role, tuple(visited))
        if targets.delegations is None:
            continue
        children: list[tuple[str, str]] = []
        for child, terminating in targets.delegations.get_roles_for_target(path):
            children.append((child, role))
            if terminating:
                stack = []
                break
        stack.extend(reversed(children))
    return None


def metadata_path(role: str, version: int | None) -> str:
    """``timestamp.json``, ``3.snapshot.json``, ``2.a%2Fb.json``: relative to the base URL."""
    return role_filename(role, version)


def target_path(target: TargetFile, *, consistent: bool) -> str:
    """The target's path below the targets URL: ``dir/HASH.base`` under consistent snapshots.

    The path is used verbatim (it is the repository's own name for the file); the
    hash is the first one the metadata lists.
    """
    if not consistent or not target.hashes:
        return target.path
    directory, sep, base = target.path.rpartition("/")
    first = next(iter(target.hashes.values()))
    return f"{directory}{sep}{first}.{base}"


#: longest file name written as is (most file systems allow 255 bytes)
_MAX_NAME = 200


def target_file_name(path: str) -> str:
    """One stable local file name per target path, with no path separator in it.

    The URL-quoted path; a name too long for a file system keeps its first 64
    characters and adds ``%~`` and the sha256 of the path (``quote`` never writes
    ``%~``, so such a name cannot be another path's quoted form).
    """
    name = quote(path, safe="")
    if len(name) > _MAX_NAME:
        return f"{name[:64]}%~{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()}"
    return {"": "%", ".": "%2E", "..": "%2E%2E"}.get(name, name)  # quote() never makes "%"
