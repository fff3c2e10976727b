"""TUF 1.0 chain verification (specification §5.3), pure: bytes in, a Report out.

The order follows the client workflow: root chain from the anchor, timestamp,
snapshot, targets, then every delegated role reachable from targets. Unlike a
client it does not stop at the first problem: every check that can still be
made is made, and each problem becomes a finding.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from trustkeep.core.rolenames import versioned_root_version
from trustkeep.core.rotation import check_root_rotation
from trustkeep.core.verify._envelope import Envelope, Malformed, fast_decoder, peek_version
from trustkeep.core.verify._tufkeys import KeyCache
from trustkeep.core.verify._tufmodel import (
    MetaFile,
    RootInfo,
    count_signatures,
    parse_header,
    parse_meta,
    parse_root,
)
from trustkeep.core.verify._tufprevious import PreviousState, latest_root, meta_or_none
from trustkeep.core.verify._tuftargets import Mapper, sequential, verify_targets_tree
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Anchor, Report, RoleResult

__all__ = ["FAST_PARSE_BYTES", "TufRun", "verify_tuf"]

#: from this much metadata on, files are parsed by the fast decoders (identical results;
#: below it, importing msgspec costs more than it saves)
FAST_PARSE_BYTES = 8 * 1024 * 1024


class TufRun(PreviousState):
    """One TUF verification; see :func:`verify_tuf`."""

    def __init__(
        self, bundle: MetadataBundle, *, at: datetime, previous: MetadataBundle | None
    ) -> None:
        size = bundle.total_size()
        super().__init__(
            bundle,
            at=at,
            previous=previous,
            keys=KeyCache(),
            fast_decoder=fast_decoder() if size >= FAST_PARSE_BYTES else None,
        )
        self._plain_root: int | None = None
        self._bad_plain_root = False

    # root chain ---------------------------------------------------------
    def root_candidates(self) -> dict[int, str]:
        """``N.root.json`` files by version: the only files a root rotation steps through.

        A plain ``root.json`` is what a client fetches nothing from: it is the first
        root only when there is no ``N.root.json`` at all, a copy of one must be
        identical, and one ahead of the chain is reported (:meth:`_plain_root_ahead`).
        """
        found: dict[int, str] = {}
        for name in self.bundle.files:
            version = versioned_root_version(name)
            if version is not None:
                found[version] = name
        raw = self.bundle.files.get("root.json")
        if raw is not None:
            version = peek_version(raw, name="root.json")
            if version is None:
                if self.load_tuf("root.json", "root") is not None:
                    self.error(
                        "malformed",
                        "root",
                        "root.json: signed.version is not an integer",
                        file="root.json",
                    )
                self._bad_plain_root = True
            elif version in found and self.bundle.files[found[version]] != raw:
                self.error(
                    "root-rotation-invalid",
                    "root",
                    f"root.json and {found[version]} are different files for root v{version}",
                    file="root.json",
                    expected=hashlib.sha256(self.bundle.files[found[version]]).hexdigest(),
                    found=hashlib.sha256(raw).hexdigest(),
                )
            self._plain_root = version
        return found

    def first_root(
        self, trusted: bytes | None, source: str | None, candidates: dict[int, str]
    ) -> tuple[RootInfo | None, Anchor]:
        anchor_kind = "root"
        if trusted is None and self.previous is not None:
            latest = latest_root(self.previous.files)
            if latest is not None:
                trusted = self.previous.files[latest]
                source = f"{self.previous.source}/{latest}"
                anchor_kind = "previous"
        if trusted is not None:
            name = source or "trusted root"
            files: Mapping[str, bytes] = {name: trusted}
        elif candidates or (self._plain_root is not None and "root.json" in self.bundle.files):
            name = candidates[min(candidates)] if candidates else "root.json"
            files = self.bundle.files
            anchor_kind = "none"
            self.warning(
                "no-anchor",
                None,
                f"no --root or --pins given: the chain is checked from its own first root ({name})",
                file=name,
            )
        else:
            if not self._bad_plain_root:
                self.error("missing-role", "root", f"{self.bundle.source}: no root metadata")
            return None, Anchor(kind="none", source=None)
        info = self._self_signed_root(name, files)
        anchor = Anchor(
            kind=anchor_kind,  # type: ignore[arg-type]
            source=name,
            version=info.header.version if info else None,
            sha256=hashlib.sha256(files[name]).hexdigest(),
        )
        return info, anchor

    def _self_signed_root(self, name: str, files: Mapping[str, bytes]) -> RootInfo | None:
        loaded = self._load_root(name, files)
        if loaded is None:
            return None
        env, info = loaded
        mark = self.mark()
        self.key_findings(info.keys, "root", name)
        role = info.roles["root"]
        counted = count_signatures(env, role, info.keys)
        self.check_threshold(
            "root", name, len(counted), role.threshold, f"root v{info.header.version}"
        )
        self.record_root(
            name,
            info.header,
            threshold=role.threshold,
            valid=len(counted),
            mark=mark,
            keyids=counted,
        )
        return info

    def _load_root(
        self, name: str, files: Mapping[str, bytes] | None = None
    ) -> tuple[Envelope, RootInfo] | None:
        """Load and parse one root file; a parse problem is a ``malformed`` finding."""
        env = self.load_tuf(name, "root", files)
        if env is None:
            return None
        try:
            return env, parse_root(env.signed, where=name, cache=self.keys)
        except Malformed as e:
            self.error("malformed", "root", str(e), file=name)
            return None

    def _parse_step(self, name: str, expect: int) -> tuple[Envelope, RootInfo] | None:
        loaded = self._load_root(name)
        if loaded is None:
            return None
        env, new = loaded
        if new.header.version != expect:
            self.error(
                "root-rotation-invalid",
                "root",
                f"{name} holds root v{new.header.version}, expected v{expect}",
                file=name,
                expected=expect,
                found=new.header.version,
            )
            return None
        return env, new

    def _apply_step(
        self,
        old: RootInfo,
        name: str,
        new: RootInfo,
        counts: tuple[tuple[str, ...], tuple[str, ...]],
    ) -> None:
        expect = new.header.version
        mark = self.mark()
        self.key_findings(new.keys, "root", name)
        old_role, new_role = old.roles["root"], new.roles["root"]
        by_old, by_new = counts
        problems = check_root_rotation(
            old_version=old.header.version,
            new_version=expect,
            old_threshold=old_role.threshold,
            by_old=len(by_old),
            new_threshold=new_role.threshold,
            by_new=len(by_new),
        )
        for p in problems:
            code = "threshold-not-met" if p.kind == "new-threshold" else "root-rotation-invalid"
            self.error(
                code,
                "root",
                f"{name}: {p.describe(old.header.version, expect)}",
                file=name,
                expected=p.expected,
                found=p.found,
            )
        self.record_root(
            name, new.header, threshold=new_role.threshold, valid=len(by_new), mark=mark,
            keyids=by_new,
        )  # fmt: skip

    def root_chain(
        self, trusted: bytes | None, source: str | None, mapper: Mapper = sequential
    ) -> tuple[RootInfo | None, Anchor]:
        """Walk N+1 from the anchor; the signature checks of all steps go through ``mapper``."""
        candidates = self.root_candidates()
        root, anchor = self.first_root(trusted, source, candidates)
        if root is None:
            return None, anchor
        version = root.header.version
        steps: list[tuple[str, Envelope, RootInfo, RootInfo]] = []
        current = root
        while version + 1 in candidates:
            parsed = self._parse_step(candidates[version + 1], version + 1)
            if parsed is None:
                break
            steps.append((candidates[version + 1], parsed[0], current, parsed[1]))
            current, version = parsed[1], version + 1
        counts = mapper(_rotation_counts, [(env, old, new) for _, env, old, new in steps])
        for (name, _env, old, new), step_counts in zip(steps, counts, strict=True):
            self._apply_step(old, name, new, step_counts)
        later = sorted(v for v in candidates if v > version)
        if later and version + 1 not in candidates:
            self.error(
                "root-rotation-invalid",
                "root",
                f"root v{later[0]} ({candidates[later[0]]}) is present but v{version + 1} is "
                "missing: root versions must follow one another",
                file=f"{version + 1}.root.json",
                expected=version + 1,
                found=later[0],
            )
        self._plain_root_ahead(version)
        self._behind_previous(anchor, candidates, version)
        final = current.header
        self.check_expiry("root", f"root v{version}", final.expires, final.expires_text)
        self._root_rollback(version)
        return current, anchor

    def _plain_root_ahead(self, version: int) -> None:
        plain = self._plain_root
        if plain is not None and plain > version:
            self.warning(
                "missing-role",
                "root",
                f"root.json is root v{plain} but {version + 1}.root.json is missing: clients "
                f"fetch N.root.json only, so they stay at root v{version} (the chain is "
                "checked as they see it)",
                file=f"{version + 1}.root.json",
                expected=plain,
                found=version,
            )

    # timestamp and snapshot -------------------------------------------------
    def timestamp(self, root: RootInfo) -> MetaFile | None:
        name = "timestamp.json"
        if name not in self.bundle.files:
            self.error("missing-role", "timestamp", f"{self.bundle.source}: no timestamp.json")
            return None
        env = self.load_tuf(name, "timestamp")
        if env is None:
            return None
        try:
            header = parse_header(env.signed, "timestamp", where=name)
            meta = parse_meta(env.signed, "timestamp", where=name)["snapshot.json"]
        except Malformed as e:
            self.error("malformed", "timestamp", str(e), file=name)
            return None
        mark = self.mark()
        role = root.roles["timestamp"]
        counted = count_signatures(env, role, root.keys)
        self.check_threshold(
            "timestamp", name, len(counted), role.threshold, f"root v{root.header.version}"
        )
        self.check_expiry("timestamp", name, header.expires, header.expires_text)
        prev = self._previous_trusted("timestamp.json", "timestamp", root)
        if prev is not None:
            self._no_rollback("timestamp", header.version, prev, name)
            prev_meta = meta_or_none(prev, "timestamp")
            if prev_meta and "snapshot.json" in prev_meta:
                old = prev_meta["snapshot.json"].version
                if meta.version < old:
                    self.error(
                        "rollback",
                        "snapshot",
                        f"timestamp records snapshot v{meta.version}, previously v{old}",
                        file=name,
                        expected=old,
                        found=meta.version,
                    )
        self.roles.append(
            _result("timestamp", name, header.version, header.expires_text, counted,
                    role.threshold, None, self.clean_since(mark, "timestamp"))
        )  # fmt: skip
        return meta

    def _snapshot_name(self, root: RootInfo, version: int | None) -> str | None:
        """The snapshot file a client fetches: ``N.snapshot.json`` with consistent
        snapshots (N from timestamp), ``snapshot.json`` without."""
        wanted: str | None
        if root.consistent_snapshot and self.bundle.client_cache:
            wanted = "snapshot.json"
        elif root.consistent_snapshot:
            wanted = f"{version}.snapshot.json" if version is not None else None
            wanted = wanted or self.latest_versioned("snapshot.json")
        else:
            wanted = "snapshot.json"
        if wanted is not None and wanted in self.bundle.files:
            return wanted
        detail = ""
        if root.consistent_snapshot and "snapshot.json" in self.bundle.files:
            detail = " (snapshot.json is present, but with consistent_snapshot clients fetch "
            detail += "the versioned name)"
        elif not root.consistent_snapshot and self.latest_versioned("snapshot.json"):
            detail = " (versioned copies are present, but without consistent_snapshot clients "
            detail += "fetch snapshot.json)"
        missing = wanted or "N.snapshot.json"
        self.error(
            "missing-role",
            "snapshot",
            f"{self.bundle.source}: no {missing}{detail}",
            file=missing,
        )
        return None

    def snapshot(self, root: RootInfo, recorded: MetaFile | None) -> dict[str, MetaFile] | None:
        version = recorded.version if recorded else None
        name = self._snapshot_name(root, version)
        if name is None:
            return None
        mark = self.mark()
        if recorded is not None:
            self.check_file(
                self.bundle.files[name],
                role="snapshot",
                name=name,
                length=recorded.length,
                hashes=recorded.hashes,
                recorded_by="timestamp",
            )
        env = self.load_tuf(name, "snapshot")
        if env is None:
            return None
        try:
            header = parse_header(env.signed, "snapshot", where=name)
            meta = parse_meta(env.signed, "snapshot", where=name)
        except Malformed as e:
            self.error("malformed", "snapshot", str(e), file=name)
            return None
        role = root.roles["snapshot"]
        counted = count_signatures(env, role, root.keys)
        self.check_threshold(
            "snapshot", name, len(counted), role.threshold, f"root v{root.header.version}"
        )
        self.check_expiry("snapshot", name, header.expires, header.expires_text)
        if version is not None and header.version != version:
            self.error(
                "version-mismatch",
                "snapshot",
                f"{name} is v{header.version}, timestamp records v{version}",
                file=name,
                expected=version,
                found=header.version,
            )
        prev = self._previous_trusted("snapshot.json", "snapshot", root)
        if prev is not None:
            self._no_rollback("snapshot", header.version, prev, name)
            self._snapshot_rollback(meta, meta_or_none(prev, "snapshot"), name)
        self.roles.append(
            _result("snapshot", name, header.version, header.expires_text, counted,
                    role.threshold, None, self.clean_since(mark, "snapshot"))
        )  # fmt: skip
        return meta


def _rotation_counts(
    step: tuple[Envelope, RootInfo, RootInfo],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Keyids with valid signatures on a new root: the old root's and its own."""
    env, old, new = step
    return (
        count_signatures(env, old.roles["root"], old.keys),
        count_signatures(env, new.roles["root"], new.keys),
    )


def _result(
    role: str,
    name: str,
    version: int,
    expires: str,
    counted: tuple[str, ...],
    threshold: int,
    delegated_by: str | None,
    ok: bool,
) -> RoleResult:
    return RoleResult(
        role=role,
        file=name,
        version=version,
        expires=expires,
        signatures=len(counted),
        threshold=threshold,
        delegated_by=delegated_by,
        valid=ok,
        keyids=counted,
    )


def verify_tuf(
    bundle: MetadataBundle,
    *,
    at: datetime,
    trusted_root: bytes | None = None,
    trusted_root_source: str | None = None,
    previous: MetadataBundle | None = None,
    mapper: Mapper = sequential,
) -> Report:
    """Verify a TUF metadata directory as of ``at``; report every problem found.

    ``mapper`` runs the per-file checks of each level of the targets tree (pass a
    process pool's map to use several cores; results are identical). With
    ``previous`` and no ``trusted_root``, the newest root of ``previous`` is the
    anchor, as a client's cached root is.
    """
    with collector_paused():
        run = TufRun(bundle, at=at, previous=previous)
        root, anchor = run.root_chain(trusted_root, trusted_root_source, mapper)
        if root is not None:
            recorded = run.timestamp(root)
            meta = run.snapshot(root, recorded)
            verify_targets_tree(run, root, meta, mapper)
        return run.report("tuf", anchor)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector stays off while a run verifies (and in the
    workers a run forks): parsing builds millions of short-lived containers, freed by
    reference counting as each file is done, and the collector would walk them, and
    the run's results, again and again for nothing (0.2 to 0.8 s of a million
    targets). Whatever cycles a run leaves are collected after it, as usual."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
