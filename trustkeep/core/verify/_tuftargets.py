"""The targets tree of a TUF repository: targets and every reachable delegated role.

Each delegated role is checked against the snapshot (listed, hashes, length,
version), against its delegator (threshold of the delegator's keys for it) and
for expiry; then every target a delegated role lists must lie inside the paths
delegated to that role along a path a client would actually search
(``path-not-delegated``), terminating delegations included.

The per-file work is :func:`check_role`, a pure function of a picklable
:class:`RoleTask`: the tree is walked level by level and each level's tasks go
through a ``mapper`` (sequential by default; the service may pass a process pool).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from importlib import import_module
from typing import TYPE_CHECKING, Any

from trustkeep.core.rolenames import role_filename
from trustkeep.core.verify._envelope import Malformed
from trustkeep.core.verify._run import PATH_FINDINGS_PER_ROLE
from trustkeep.core.verify._tufkeys import KeyTable, parse_tuf_keys
from trustkeep.core.verify._tufmodel import (
    DelegatedRole,
    Delegations,
    MetaFile,
    RoleKeys,
    RootInfo,
    Succinct,
    count_signatures,
    parse_delegations,
    parse_targets,
)
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Finding, RoleResult

if TYPE_CHECKING:
    from trustkeep.core.verify.tuf import TufRun

__all__ = ["Mapper", "RoleOutcome", "RoleTask", "check_role", "sequential", "verify_targets_tree"]


def _fast_sha256() -> Callable[[bytes], Any]:
    """CPython's built-in sha256 (no OpenSSL context per call: twice as fast on the short
    target paths hashed for every bin check), else hashlib's."""
    for name in ("_sha256", "_sha2"):
        try:
            constructor: Callable[[bytes], Any] = import_module(name).sha256
        except (ImportError, AttributeError):
            continue
        if constructor(b"abc").digest() == sha256(b"abc").digest():
            return constructor
    return sha256


_sha256 = _fast_sha256()

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


@dataclass(frozen=True)
class BinRule:
    """A bin of succinct_roles delegated by top-level targets: its paths hash to ``index``."""

    bit_length: int
    index: int


@dataclass(frozen=True)
class RoleTask:
    """Everything needed to check one targets file, picklable (bytes and plain data)."""

    name: str
    file: str | None
    raw: bytes | None
    tried: tuple[str, ...]
    recorded: MetaFile | None
    unlisted: bool  # snapshot exists but does not list the role
    keys: RoleKeys
    keys_doc: Mapping[str, Any]
    delegator: str
    at: datetime
    bin_rule: BinRule | None


@dataclass(frozen=True)
class RoleOutcome:
    name: str
    findings: tuple[Finding, ...]
    result: RoleResult | None
    delegations: Any  # the raw "delegations" object of a loaded role (None if absent)
    targets: tuple[str, ...]  # paths left for the tree-wide check (empty if checked here)
    loaded: bool


#: ``map(fn, tasks)`` → results in order; may run ``fn`` in forked workers (results must
#: pickle, tasks are shared with the workers, not sent)
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Sequence[Any]]


def sequential(fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
    return [fn(t) for t in tasks]


def _unhex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _outside_bin(targets: Mapping[str, Any], rule: BinRule) -> list[str]:
    """Target paths whose sha256 does not fall into the bin.

    Compares whole digests against the bin's bounds as bytes (a digest is in the
    bin exactly when its first four bytes are), no hex or integer conversion.
    """
    if not targets:
        return []
    shift = 32 - rule.bit_length
    lo = (rule.index << shift).to_bytes(4, "big")
    top = (rule.index + 1) << shift
    hi = top.to_bytes(4, "big") if top < 2**32 else b"\xff" * 33  # above every digest
    digests = [_sha256(p.encode()).digest() for p in targets]
    if lo <= min(digests) and max(digests) < hi:
        return []
    return [p for p, d in zip(targets, digests, strict=True) if not lo <= d < hi]


def report_paths(run: Any, name: str, bad: Sequence[str]) -> None:
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


#: the last delegations ``keys`` object parsed, by identity: the bins of one delegator
#: share it, so it is parsed once per delegator instead of once per bin
_LAST_TABLE: list[tuple[Mapping[str, Any], str, KeyTable]] = []


def _key_table(doc: Mapping[str, Any], *, where: str) -> KeyTable:
    last = _LAST_TABLE[0] if _LAST_TABLE else None
    if last is not None and last[0] is doc and last[1] == where:
        return last[2]
    table = parse_tuf_keys(doc, where=where)
    _LAST_TABLE[:] = [(doc, where, table)]
    return table


def check_role(task: RoleTask) -> RoleOutcome:
    """Check one targets file against snapshot and its delegator; pure."""
    from trustkeep.core.verify.tuf import TufRun

    files = {task.file: task.raw} if task.file is not None and task.raw is not None else {}
    run = TufRun(MetadataBundle(files, source="task"), at=task.at, previous=None)
    name = task.name

    def done(
        result: RoleResult | None = None,
        deleg: Any = None,
        targets: tuple[str, ...] = (),
        loaded: bool = False,
    ) -> RoleOutcome:
        return RoleOutcome(name, tuple(run.findings), result, deleg, targets, loaded)

    if task.unlisted:
        run.error("missing-role", name, f"snapshot does not list {name}.json")
    if task.file is None or task.raw is None:
        run.error("missing-role", name, f"no metadata file {task.tried[0]}")
        return done()
    rec, file = task.recorded, task.file
    if rec is not None:
        run.check_file(task.raw, role=name, name=file, length=rec.length, hashes=rec.hashes,
                       recorded_by="snapshot", decode=_unhex)  # fmt: skip
    env = run.load_tuf(file, name)
    if env is None:
        return done()
    try:
        info = parse_targets(env.signed, where=file)
        table = _key_table(task.keys_doc, where=f"{task.delegator} delegations")
    except Malformed as e:
        run.error("malformed", name, str(e))
        return done()
    header = info.header
    if rec is not None and header.version != rec.version:
        wanted = f"snapshot records v{rec.version}"
        run.error("version-mismatch", name, f"{file} is v{header.version}, {wanted}")
    valid = count_signatures(env, task.keys, table)
    run.check_threshold(name, file, valid, task.keys.threshold, task.delegator)
    run.check_expiry(name, file, header.expires, header.expires_text)
    paths: tuple[str, ...] = ()
    if task.bin_rule is not None:
        report_paths(run, name, _outside_bin(info.targets, task.bin_rule))
    elif name != "targets":
        paths = tuple(info.targets)
    result = RoleResult(
        role=name,
        file=file,
        version=header.version,
        expires=header.expires_text,
        signatures=valid,
        threshold=task.keys.threshold,
        delegated_by=None if name == "targets" else task.delegator,
        valid=not any(f.severity == "error" for f in run.findings),
    )
    return done(result, env.signed.get("delegations"), paths, True)


def _children(
    run: TufRun, name: str, d: Delegations, meta: Mapping[str, MetaFile] | None
) -> Iterator[tuple[str, Edge]]:
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


def _task(
    run: TufRun, name: str, edge: Edge, meta: Mapping[str, MetaFile] | None, consistent: bool
) -> RoleTask:
    recorded = meta.get(f"{name}.json") if meta is not None else None
    names = [role_filename(name)]
    if recorded is not None:
        versioned = role_filename(name, recorded.version)
        names = [versioned, *names] if consistent else [*names, versioned]
    elif (latest := run.latest_versioned(role_filename(name))) is not None:
        names.append(latest)
    file = run.first_present(names)
    rule = None
    if edge.succinct is not None and edge.delegator == "targets":
        rule = BinRule(edge.succinct.bit_length, edge.index)
    return RoleTask(
        name=name,
        file=file,
        raw=run.bundle.files.get(file) if file else None,
        tried=tuple(names),
        recorded=recorded,
        unlisted=meta is not None and recorded is None,
        keys=edge.keys,
        keys_doc=edge.table.doc,
        delegator=edge.delegator,
        at=run.at,
        bin_rule=rule,
    )


@dataclass(frozen=True)
class _Loaded:
    delegations: Delegations | None
    targets: tuple[str, ...]


def verify_targets_tree(
    run: TufRun, root: RootInfo, meta: Mapping[str, MetaFile] | None, mapper: Mapper = sequential
) -> None:
    edges: dict[str, list[Edge]] = {"targets": [Edge("root", root.roles["targets"], root.keys)]}
    loaded: dict[str, _Loaded | None] = {}
    level = ["targets"]
    while level:
        tasks = [_task(run, n, edges[n][0], meta, root.consistent_snapshot) for n in level]
        for n in level:
            loaded[n] = None
        level = []
        for outcome in mapper(check_role, tasks):
            run.findings.extend(outcome.findings)
            if outcome.result is not None:
                run.roles.append(outcome.result)
            if not outcome.loaded:
                continue
            deleg = _parse_delegations(run, outcome)
            loaded[outcome.name] = _Loaded(deleg, outcome.targets)
            if deleg is None:
                continue
            for child, edge in _children(run, outcome.name, deleg, meta):
                edges.setdefault(child, []).append(edge)
                if child not in loaded and len(edges[child]) == 1:
                    level.append(child)
    for name, role_edges in edges.items():
        for edge in role_edges[1:]:
            if loaded.get(name) is not None:
                _extra_edge(run, name, edge, meta)
    _check_paths(run, loaded, edges)


def _parse_delegations(run: TufRun, outcome: RoleOutcome) -> Delegations | None:
    if outcome.delegations is None or outcome.result is None:
        return None
    where = outcome.result.file or outcome.name
    try:
        deleg = parse_delegations(outcome.delegations, where=where)
    except Malformed:  # already reported by check_role
        return None
    run.key_findings(deleg.keys, outcome.name, where)
    return deleg


def _extra_edge(run: TufRun, name: str, edge: Edge, meta: Mapping[str, MetaFile] | None) -> None:
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


def _check_paths(
    run: TufRun, loaded: Mapping[str, _Loaded | None], edges: Mapping[str, list[Edge]]
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
            bad = [p for p in info.targets if not _reachable(name, p, edges)]
        report_paths(run, name, bad)


def _reachable(name: str, path: str, edges: Mapping[str, list[Edge]]) -> bool:
    """Without terminating roles: some chain of delegations from targets matches ``path``."""
    stack, seen = [name], {name}
    while stack:
        role = stack.pop()
        if role == "targets":
            return True
        for e in edges.get(role, ()):
            if e.delegator not in seen and e.matches(path):
                seen.add(e.delegator)
                stack.append(e.delegator)
    return False


def _searched(
    name: str,
    path: str,
    loaded: Mapping[str, _Loaded | None],
    cache: dict[str, set[tuple[str, str]]],
) -> bool:
    """With terminating roles: does a client's pre-order search for ``path`` visit ``name``?"""
    if path not in cache:
        cache[path] = _search(path, loaded)
    return any(role == name for role, _ in cache[path])


def _search(path: str, loaded: Mapping[str, _Loaded | None]) -> set[tuple[str, str]]:
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
