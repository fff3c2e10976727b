"""The targets tree of a TUF repository: targets and every reachable delegated role.

Each delegated role is checked against the snapshot (listed, hashes, length,
version), against its delegator (threshold of the delegator's keys for it) and
for expiry; then every target a delegated role lists must lie inside the paths
delegated to that role along a path a client would actually search
(``path-not-delegated``), terminating delegations included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trustkeep.core.rolenames import role_filename
from trustkeep.core.verify._envelope import Malformed
from trustkeep.core.verify._run import PATH_FINDINGS_PER_ROLE
from trustkeep.core.verify._tufkeys import KeyTable
from trustkeep.core.verify._tufmodel import (
    DelegatedRole,
    MetaFile,
    RoleKeys,
    RootInfo,
    Succinct,
    TargetsInfo,
    count_signatures,
    parse_targets,
)
from trustkeep.core.verify.report import RoleResult

if TYPE_CHECKING:
    from trustkeep.core.verify.tuf import TufRun

__all__ = ["Edge", "verify_targets_tree"]

#: succinct_roles with more bins than this are checked only for the bins snapshot lists
_MAX_ENUMERATED_BINS = 2**16


@dataclass(frozen=True)
class Edge:
    """One delegation: ``delegator`` trusts a child role with ``keys`` from ``table``."""

    delegator: str
    keys: RoleKeys
    table: KeyTable
    role: DelegatedRole | None = None
    succinct: Succinct | None = None
    index: int = 0

    @property
    def terminating(self) -> bool:
        return self.succinct is not None or (self.role is not None and self.role.terminating)

    def matches(self, path: str) -> bool:
        if self.succinct is not None:
            return self.succinct.index_for(path) == self.index
        return self.role is not None and self.role.matches(path)


def _children(
    run: TufRun, name: str, info: TargetsInfo, meta: dict[str, MetaFile] | None
) -> Iterator[tuple[str, Edge]]:
    d = info.delegations
    if d is None:
        return
    if d.succinct is None:
        for i, r in enumerate(d.roles):
            yield r.name, Edge(name, r.keys, d.keys, r, None, i)
        return
    sc = d.succinct
    if 2**sc.bit_length <= _MAX_ENUMERATED_BINS:
        for i, child in enumerate(sc.role_names()):
            yield child, Edge(name, sc.keys, d.keys, None, sc, i)
        return
    listed = sorted(n.removesuffix(".json") for n in (meta or {}) if n.startswith(sc.name_prefix))
    run.error(
        "missing-role",
        name,
        f"succinct_roles declares 2^{sc.bit_length} bins; only the {len(listed)} that snapshot "
        "lists are checked, the others have no metadata",
    )
    for child in listed:
        suffix = child[len(sc.name_prefix) + 1 :]
        if len(suffix) == sc.suffix_len:
            try:
                yield child, Edge(name, sc.keys, d.keys, None, sc, int(suffix, 16))
            except ValueError:
                continue


def _unhex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _verify_role(
    run: TufRun, name: str, edge: Edge, meta: dict[str, MetaFile] | None, consistent: bool
) -> TargetsInfo | None:
    recorded = meta.get(f"{name}.json") if meta is not None else None
    if meta is not None and recorded is None:
        run.error("missing-role", name, f"snapshot does not list {name}.json")
    names = [role_filename(name)]
    if recorded is not None:
        versioned = role_filename(name, recorded.version)
        names = [versioned, *names] if consistent else [*names, versioned]
    elif (latest := run.latest_versioned(role_filename(name))) is not None:
        names.append(latest)
    file = run.first_present(names)
    if file is None:
        run.error("missing-role", name, f"{run.bundle.source}: no metadata file {names[0]}")
        return None
    mark = run.mark()
    if recorded is not None:
        run.check_file(
            run.bundle.files[file],
            role=name,
            name=file,
            length=recorded.length,
            hashes=recorded.hashes,
            recorded_by="snapshot",
            decode=_unhex,
        )
    env = run.load_tuf(file, name)
    if env is None:
        return None
    try:
        info = parse_targets(env.signed, where=file)
    except Malformed as e:
        run.error("malformed", name, str(e))
        return None
    header = info.header
    if recorded is not None and header.version != recorded.version:
        run.error(
            "version-mismatch",
            name,
            f"{file} is v{header.version}, snapshot records v{recorded.version}",
        )
    valid = count_signatures(env, edge.keys, edge.table)
    run.check_threshold(name, file, valid, edge.keys.threshold, edge.delegator)
    run.check_expiry(name, file, header.expires, header.expires_text)
    if info.delegations is not None:
        run.key_findings(info.delegations.keys, name, file)
    run.roles.append(
        RoleResult(
            role=name,
            file=file,
            version=header.version,
            expires=header.expires_text,
            signatures=valid,
            threshold=edge.keys.threshold,
            delegated_by=None if name == "targets" else edge.delegator,
            valid=run.clean_since(mark, name),
        )
    )
    return info


def _extra_edge(run: TufRun, name: str, edge: Edge, meta: dict[str, MetaFile] | None) -> None:
    """A role delegated by a second delegator must meet that delegator's threshold too."""
    recorded = meta.get(f"{name}.json") if meta is not None else None
    names = [role_filename(name)] + ([role_filename(name, recorded.version)] if recorded else [])
    file = run.first_present(names)
    if file is None:
        return
    from trustkeep.core.verify._envelope import parse_envelope

    try:
        env = parse_envelope(run.bundle.files[file], name=file)
    except Malformed:
        return
    valid = count_signatures(env, edge.keys, edge.table)
    run.check_threshold(name, file, valid, edge.keys.threshold, edge.delegator)


def verify_targets_tree(run: TufRun, root: RootInfo, meta: dict[str, MetaFile] | None) -> None:
    consistent = root.consistent_snapshot
    top_edge = Edge("root", root.roles["targets"], root.keys)
    loaded: dict[str, TargetsInfo | None] = {}
    edges: dict[str, list[Edge]] = {"targets": [top_edge]}
    stack = ["targets"]
    while stack:
        name = stack.pop()
        info = _verify_role(run, name, edges[name][0], meta, consistent)
        loaded[name] = info
        if info is None:
            continue
        fresh: list[str] = []
        for child, edge in _children(run, name, info, meta):
            edges.setdefault(child, []).append(edge)
            if child not in loaded and child not in fresh and len(edges[child]) == 1:
                fresh.append(child)
        stack.extend(reversed(fresh))
    for name, role_edges in edges.items():
        for edge in role_edges[1:]:
            if loaded.get(name) is not None:
                _extra_edge(run, name, edge, meta)
    _check_paths(run, loaded, edges)


def _check_paths(
    run: TufRun, loaded: dict[str, TargetsInfo | None], edges: dict[str, list[Edge]]
) -> None:
    terminating = any(
        e.terminating and (e.succinct is None or e.delegator != "targets")
        for es in edges.values()
        for e in es
    )
    searches: dict[str, set[tuple[str, str]]] = {}
    for name, info in loaded.items():
        if name == "targets" or info is None or not info.targets:
            continue
        if terminating:
            bad = [p for p in info.targets if not _searched(name, p, loaded, searches)]
        else:
            bad = [p for p in info.targets if not _reachable(name, p, edges, frozenset())]
        for path in bad[:PATH_FINDINGS_PER_ROLE]:
            run.error(
                "path-not-delegated",
                name,
                f"target {path[:120]!r} is outside the paths delegated to {name}",
            )
        if len(bad) > PATH_FINDINGS_PER_ROLE:
            run.error(
                "path-not-delegated",
                name,
                f"and {len(bad) - PATH_FINDINGS_PER_ROLE} more targets of {name} "
                "outside its delegated paths",
            )


def _reachable(name: str, path: str, edges: dict[str, list[Edge]], seen: frozenset[str]) -> bool:
    """Without terminating roles: some chain of delegations from targets matches ``path``."""
    if name == "targets":
        return True
    inner = seen | {name}
    return any(
        e.matches(path) and e.delegator not in inner and _reachable(e.delegator, path, edges, inner)
        for e in edges.get(name, ())
    )


def _searched(
    name: str,
    path: str,
    loaded: dict[str, TargetsInfo | None],
    cache: dict[str, set[tuple[str, str]]],
) -> bool:
    """With terminating roles: does a client's pre-order search for ``path`` visit ``name``?"""
    if path not in cache:
        cache[path] = _search(path, loaded)
    return any(role == name for role, _ in cache[path])


def _search(path: str, loaded: dict[str, TargetsInfo | None]) -> set[tuple[str, str]]:
    """python-tuf's / the spec's pre-order depth-first walk (without the found-stop)."""
    visited: set[tuple[str, str]] = set()
    stack = [("targets", "root")]
    while stack:
        role, parent = stack.pop()
        if (role, parent) in visited:
            continue
        visited.add((role, parent))
        info = loaded.get(role)
        if info is None or info.delegations is None:
            continue
        d = info.delegations
        kids: list[tuple[str, str]] = []
        if d.succinct is not None:
            kids.append((d.succinct.role_for(path), role))
            stack.clear()
        else:
            for r in d.roles:
                if r.matches(path):
                    kids.append((r.name, role))
                    if r.terminating:
                        stack.clear()
                        break
        stack.extend(reversed(kids))
    return visited
