"""The targets tree of a TUF repository: targets and every reachable delegated role.

Each delegated role is checked against the snapshot (listed, hashes, length,
version), against its delegator (threshold of the delegator's keys for it) and
for expiry; then every target a delegated role lists must lie inside the paths
delegated to that role along a path a client would actually search
(``path-not-delegated``), terminating delegations included.

The per-file work is :meth:`RoleChecker.check`, a pure function of a picklable
:class:`RoleTask` and the file's bytes: the tree is walked level by level and each
level's tasks go through a ``mapper`` (sequential by default; the service may pass a
process pool). The checker takes the bytes from the run's files itself, so a worker
reads the files it checks when the files are read on demand
(:class:`~trustkeep.core.verify.bundle.FileSource`); a file read a second time (by a
second delegator's check) must be the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from trustkeep.core.rolenames import role_filename
from trustkeep.core.verify._envelope import Envelope, Malformed, parse_envelope
from trustkeep.core.verify._run import PATH_FINDINGS_PER_ROLE, Run
from trustkeep.core.verify._tufkeys import KeyCache, KeyTable
from trustkeep.core.verify._tufmodel import (
    DelegatedRole,
    Delegations,
    MetaFile,
    RoleKeys,
    RootInfo,
    Succinct,
    count_signatures,
    matcher,
    parse_delegations,
    parse_targets,
    python_tuf_form,
)
from trustkeep.core.verify._tufrun import TufChecks
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Finding, RoleResult

__all__ = [
    "MAX_DELEGATIONS",
    "Mapper",
    "RoleChecker",
    "RoleOutcome",
    "RoleTask",
    "sequential",
    "verify_targets_tree",
]

#: roles a client visits per target search, as python-tuf's ``UpdaterConfig.max_delegations``
MAX_DELEGATIONS = 32

#: succinct_roles with more bins than this are checked only for the bins snapshot lists
_MAX_ENUMERATED_BINS = 2**16


class Edge(NamedTuple):
    """One delegation: ``delegator`` trusts a child role with ``keys`` from ``table``."""

    delegator: str
    keys: RoleKeys
    table: KeyTable
    role: DelegatedRole | None = None
    succinct: Succinct | None = None
    position: int = 0  # the child's place among its delegator's roles, or its bin number


class BinRule(NamedTuple):
    """A bin of succinct_roles delegated by top-level targets: its paths hash to ``number``."""

    bit_length: int
    number: int


class RoleTask(NamedTuple):
    """Everything needed to check one targets file but its bytes, picklable (plain data)."""

    name: str
    file: str | None  # None when missing
    size: int  # the bytes of ``file`` (the pool weighs its work by them)
    tried: tuple[str, ...]
    recorded: MetaFile | None
    unlisted: bool  # snapshot exists but does not list the role
    keys: RoleKeys
    keys_doc: Mapping[str, Any]
    delegator: str
    at: datetime
    bin_rule: BinRule | None
    detail: str = ""  # why the file a client fetches is missing, when it is


class RoleOutcome(NamedTuple):
    name: str
    findings: tuple[Finding, ...]
    result: RoleResult | None
    delegations: Any  # the raw "delegations" object of a loaded role (None if absent)
    targets: tuple[str, ...]  # paths left for the tree-wide check (empty if checked here)
    loaded: bool
    digest: bytes = b""  # sha256 of the bytes checked, when they are read on demand


#: ``map(fn, tasks)`` → results in order; may run ``fn`` in forked workers (results must
#: pickle, tasks are shared with the workers, not sent)
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Sequence[Any]]


def sequential(fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
    return [fn(t) for t in tasks]


def _outside_bin(targets: Mapping[str, Any], rule: BinRule) -> list[str]:
    """Target paths whose sha256 does not fall into the bin.

    Compares whole digests against the bin's bounds as bytes (a digest is in the
    bin exactly when its first four bytes are), no hex or integer conversion.
    """
    if not targets:
        return []
    shift = 32 - rule.bit_length
    lo = (rule.number << shift).to_bytes(4, "big")
    top = (rule.number + 1) << shift
    hi = top.to_bytes(4, "big") if top < 2**32 else b"\xff" * 33  # above every digest
    sha, encode = hashlib.sha256, str.encode  # local names: a third less per path
    digests = [sha(encode(p)).digest() for p in targets]
    if lo <= min(digests) and max(digests) < hi:
        return []
    return [p for p, d in zip(targets, digests, strict=True) if not lo <= d < hi]


def report_paths(run: Run, name: str, bad: Sequence[str]) -> None:
    for path in bad[:PATH_FINDINGS_PER_ROLE]:
        run.error(
            "path-not-delegated",
            name,
            f"target {path[:120]!r} is outside the paths delegated to {name}",
            found=path[:1024],
        )
    if len(bad) > PATH_FINDINGS_PER_ROLE:
        run.error(
            "path-not-delegated",
            name,
            f"and {len(bad) - PATH_FINDINGS_PER_ROLE} more targets of {name} "
            "outside its delegated paths",
        )


class RoleChecker:
    """Checks targets files of ``bundle``; holds the run's key cache (bins share one
    delegator's keys, parsed once). Forked pool workers each get a copy and fill their
    own."""

    def __init__(
        self, bundle: MetadataBundle, keys: KeyCache | None = None, *, fast_decoder: Any = None
    ) -> None:
        self.files = bundle.files
        self.on_demand = bundle.on_demand
        self.keys = keys or KeyCache()
        self.fast_decoder = fast_decoder

    def check(self, task: RoleTask) -> RoleOutcome:
        """Check one targets file against snapshot and its delegator; pure but for the
        read of the file when the bundle reads on demand."""
        raw = self.files[task.file] if task.file is not None else None
        files = {task.file: raw} if task.file is not None and raw is not None else {}
        run = TufChecks(
            MetadataBundle(files, source="task"),
            at=task.at,
            previous=None,
            keys=self.keys,
            fast_decoder=self.fast_decoder,
        )
        name = task.name

        def done(
            result: RoleResult | None = None,
            deleg: Any = None,
            targets: tuple[str, ...] = (),
            loaded: bool = False,
            digest: bytes = b"",
        ) -> RoleOutcome:
            return RoleOutcome(name, tuple(run.findings), result, deleg, targets, loaded, digest)

        if task.unlisted:
            run.error("missing-role", name, f"snapshot does not list {name}.json",
                      file=f"{name}.json")  # fmt: skip
        if task.file is None or raw is None:
            run.error("missing-role", name, f"no metadata file {task.tried[0]}{task.detail}",
                      file=task.tried[0])  # fmt: skip
            return done()
        rec, file = task.recorded, task.file
        seen: dict[str, bytes] = {}
        if rec is not None:
            seen = run.check_file(raw, role=name, name=file, length=rec.length,
                                  hashes=rec.hashes, recorded_by="snapshot")  # fmt: skip
        env = run.load_tuf(file, name)
        if env is None:
            return done()
        try:
            info = parse_targets(env.signed, where=file, cache=self.keys)
            table = self.keys.table(task.keys_doc, where=f"{task.delegator} delegations")
        except Malformed as e:
            run.error("malformed", name, str(e), file=file)
            return done()
        header = info.header
        if rec is not None and header.version != rec.version:
            wanted = f"snapshot records v{rec.version}"
            run.error("version-mismatch", name, f"{file} is v{header.version}, {wanted}",
                      file=file, expected=rec.version, found=header.version)  # fmt: skip
        counted = count_signatures(env, task.keys, table)
        run.check_threshold(name, file, len(counted), task.keys.threshold, task.delegator)
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
            signatures=len(counted),
            threshold=task.keys.threshold,
            delegated_by=None if name == "targets" else task.delegator,
            valid=not any(f.severity == "error" for f in run.findings),
            keyids=counted,
        )
        digest = b""
        if self.on_demand:  # a second delegator's check reads the file again: same bytes?
            digest = seen.get("sha256") or hashlib.sha256(raw).digest()
        return done(result, env.signed.get("delegations"), paths, True, digest)


def _children(
    run: TufChecks, name: str, d: Delegations, meta: Mapping[str, MetaFile] | None
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
        expected=2**sc.bit_length,
        found=len(listed),
    )
    for child in listed:
        suffix = child[len(sc.name_prefix) + 1 :]
        if len(suffix) == sc.suffix_len:
            try:
                yield child, Edge(name, sc.keys, d.keys, None, sc, int(suffix, 16))
            except ValueError:
                continue


def _file_for(
    run: TufChecks, name: str, recorded: MetaFile | None, consistent: bool
) -> tuple[str | None, tuple[str, ...], str]:
    """The file a client fetches for ``name`` (``N.<role>.json`` with consistent snapshots,
    ``<role>.json`` without), the names tried, and why it is missing when it is."""
    plain = role_filename(name)
    if consistent and run.bundle.client_cache and plain in run.bundle.files:
        return plain, (plain,), ""
    if consistent:
        wanted = f"{recorded.version}.{plain}" if recorded is not None else None
        wanted = wanted or run.latest_versioned(plain)
        tried = (wanted,) if wanted else (f"N.{plain}",)
        if wanted is not None and wanted in run.bundle.files:
            return wanted, tried, ""
        other = " (the plain name is present, but with consistent_snapshot clients fetch the "
        return None, tried, other + "versioned one)" if plain in run.bundle.files else ""
    if plain in run.bundle.files:
        return plain, (plain,), ""
    versioned = recorded and f"{recorded.version}.{plain}" in run.bundle.files
    other = " (a versioned copy is present, but without consistent_snapshot clients fetch "
    return None, (plain,), other + "the plain name)" if versioned else ""


def _task(
    run: TufChecks, name: str, edge: Edge, meta: Mapping[str, MetaFile] | None, consistent: bool
) -> RoleTask:
    recorded = meta.get(f"{name}.json") if meta is not None else None
    file, tried, detail = _file_for(run, name, recorded, consistent)
    rule = None
    if edge.succinct is not None and edge.delegator == "targets":
        rule = BinRule(edge.succinct.bit_length, edge.position)
    size = run.bundle.size(file) if file else 0
    unlisted = meta is not None and recorded is None
    # positional: a named tuple's keyword construction costs twice as much (16,384 bins)
    return RoleTask(name, file, size, tried, recorded, unlisted, edge.keys, edge.table.doc,
                    edge.delegator, run.at, rule, detail)  # fmt: skip


class _Loaded(NamedTuple):
    delegations: Delegations | None
    targets: tuple[str, ...]
    digest: bytes  # of the bytes checked, when read on demand (else empty)


def verify_targets_tree(
    run: TufChecks,
    root: RootInfo,
    meta: Mapping[str, MetaFile] | None,
    mapper: Mapper = sequential,
) -> None:
    edges: dict[str, list[Edge]] = {"targets": [Edge("root", root.roles["targets"], root.keys)]}
    loaded: dict[str, _Loaded | None] = {}
    checker = RoleChecker(run.bundle, run.keys, fast_decoder=run.fast_decoder)
    level = ["targets"]
    while level:
        tasks = [_task(run, n, edges[n][0], meta, root.consistent_snapshot) for n in level]
        for n in level:
            loaded[n] = None
        level = []
        checker.keys.accelerator.expect(len(tasks))
        for outcome in mapper(checker.check, tasks):
            run.findings.extend(outcome.findings)
            if outcome.result is not None:
                run.roles.append(outcome.result)
            if not outcome.loaded:
                continue
            deleg = _parse_delegations(run, outcome)
            loaded[outcome.name] = _Loaded(deleg, outcome.targets, outcome.digest)
            if deleg is None:
                continue
            for child, edge in _children(run, outcome.name, deleg, meta):
                edges.setdefault(child, []).append(edge)
                if child not in loaded and len(edges[child]) == 1:
                    level.append(child)
    for name, role_edges in edges.items():
        for edge in role_edges[1:]:
            if (info := loaded.get(name)) is not None:
                _extra_edge(run, name, edge, meta, root.consistent_snapshot, info.digest)
    _check_paths(run, loaded)


def _parse_delegations(run: TufChecks, outcome: RoleOutcome) -> Delegations | None:
    if outcome.delegations is None or outcome.result is None:
        return None
    where = outcome.result.file or outcome.name
    try:
        deleg = parse_delegations(outcome.delegations, where=where, cache=run.keys)
    except Malformed:  # already reported by the role's check
        return None
    run.key_findings(deleg.keys, outcome.name, where)
    return deleg


def _extra_edge(
    run: TufChecks,
    name: str,
    edge: Edge,
    meta: Mapping[str, MetaFile] | None,
    consistent: bool,
    digest: bytes,
) -> None:
    """A role delegated by a second delegator must meet that delegator's threshold too,
    with the bytes the first check saw (``digest``, when the files are read on demand)."""
    recorded = meta.get(f"{name}.json") if meta is not None else None
    file, _, _ = _file_for(run, name, recorded, consistent)
    if file is None:
        return
    raw = run.bundle.files[file]
    if digest and hashlib.sha256(raw).digest() != digest:
        run.error("malformed", name, f"{file} changed while it was being verified "
                  "(read twice, different bytes)", file=file)  # fmt: skip
        return
    try:
        env = parse_envelope(raw, name=file, fast=run.fast_decoder)
    except Malformed:
        return
    env = Envelope(env.name, env.raw, python_tuf_form(env.signed), env.signatures)
    valid = len(count_signatures(env, edge.keys, edge.table))
    run.check_threshold(name, file, valid, edge.keys.threshold, edge.delegator)


class _Index:
    """A delegator's roles indexed for one question: which of them may match a path?

    A glob can match only paths that start with its literal prefix (the characters
    before the first ``*``, ``?`` or ``[``), a hash prefix only digests that start
    with it; so the candidates for a path are found with one dictionary lookup per
    distinct prefix length, not one pattern match per role. Candidates are then
    matched exactly (:func:`~trustkeep.core.verify._tufmodel.matcher`), in delegation
    order.
    """

    def __init__(self, d: Delegations) -> None:
        self.roles = d.roles
        self.succinct = d.succinct
        self.globs: dict[int, dict[str, list[tuple[int, Callable[[str], bool]]]]] = {}
        self.hashes: dict[int, dict[str, list[int]]] = {}
        self.everywhere: list[tuple[int, Callable[[str], bool]]] = []
        for i, role in enumerate(d.roles):
            if role.paths is not None:
                for pattern in role.paths:
                    cut = min((pattern.find(c) for c in "*?[" if c in pattern), default=-1)
                    prefix = pattern if cut < 0 else pattern[:cut]
                    entry = (i, matcher(pattern))
                    if prefix:
                        self.globs.setdefault(len(prefix), {}).setdefault(prefix, []).append(entry)
                    else:
                        self.everywhere.append(entry)
            else:
                for hp in role.path_hash_prefixes or ():
                    self.hashes.setdefault(len(hp), {}).setdefault(hp, []).append(i)
        self.lengths = tuple(self.globs.items())

    def children(self, path: str, digest: list[str]) -> list[DelegatedRole]:
        """Roles matching ``path``, in delegation order (``digest``: its sha256 hex, filled
        on first use)."""
        found: set[int] = {i for i, match in self.everywhere if match(path)}
        for length, table in self.lengths:
            for i, match in table.get(path[:length], ()):
                if i not in found and match(path):
                    found.add(i)
        if self.hashes:
            if not digest:
                digest.append(hashlib.sha256(path.encode("utf-8")).hexdigest())
            for length, hashed in self.hashes.items():
                found.update(hashed.get(digest[0][:length], ()))
        if len(found) == 1:
            return [self.roles[found.pop()]]
        return [self.roles[i] for i in sorted(found)]


def _check_paths(run: TufChecks, loaded: Mapping[str, _Loaded | None]) -> None:
    """Each target of a delegated role must be reached by a client's search for it."""
    index = {
        name: _Index(info.delegations)
        for name, info in loaded.items()
        if info is not None and info.delegations is not None
    }
    for name, info in loaded.items():
        if name == "targets" or info is None or not info.targets:
            continue
        bad = [p for p in info.targets if not _searched(name, p, index)]
        report_paths(run, name, bad)


def _searched(name: str, path: str, index: Mapping[str, _Index]) -> bool:
    """Does python-tuf's pre-order search for ``path`` visit role ``name``?

    The Updater's walk (``_preorder_depth_first_walk``): depth first in delegation
    order, a matching terminating role (and every succinct bin) drops all roles
    still pending, a role is visited once, at most :data:`MAX_DELEGATIONS` roles
    after targets. It stops when some role lists ``path``; this walk goes on (a
    target listed where the search never arrives is what is reported). Each visit
    costs one index lookup per prefix length, so the whole check costs the size of
    the metadata times the delegation depth, however many roles there are.
    """
    digest: list[str] = []
    top = index.get("targets")
    if top is not None and top.succinct is None:
        first = top.children(path, digest)[:1]
        if first and first[0].name == name:  # the search's second visit: no walk needed
            return True
    stack = ["targets"]
    visited: set[str] = set()
    while stack and len(visited) <= MAX_DELEGATIONS:
        role = stack.pop()
        if role in visited:
            continue
        if role == name:
            return True
        visited.add(role)
        node = index.get(role)
        if node is None:
            continue
        if node.succinct is not None:
            stack = [node.succinct.role_for(path)]
            continue
        kids: list[str] = []
        for child in node.children(path, digest):
            kids.append(child.name)
            if child.terminating:
                stack = []
                break
        stack.extend(reversed(kids))
    return False
