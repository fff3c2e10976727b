"""TUF 1.0 chain verification (specification §5.3), pure: bytes in, a Report out.

The order follows the client workflow: root chain from the anchor, timestamp,
snapshot, targets, then every delegated role reachable from targets. Unlike a
client it does not stop at the first problem: every check that can still be
made is made, and each problem becomes a finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from trustkeep.core.verify._envelope import Envelope, Malformed, peek_version
from trustkeep.core.verify._run import Run
from trustkeep.core.verify._tufkeys import KeyTable
from trustkeep.core.verify._tufmodel import (
    MetaFile,
    RootInfo,
    count_signatures,
    parse_header,
    parse_meta,
    parse_root,
)
from trustkeep.core.verify._tuftargets import Mapper, sequential, verify_targets_tree
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Anchor, Report, RoleResult

__all__ = ["TufRun", "verify_tuf"]

_VERSIONED_ROOT = re.compile(r"^([0-9]{1,12})\.root\.json$")


class TufRun(Run):
    """One TUF verification; see :func:`verify_tuf`."""

    def __init__(
        self, bundle: MetadataBundle, *, at: datetime, previous: MetadataBundle | None
    ) -> None:
        super().__init__(bundle, at=at, previous=previous)
        self._seen_key_findings: set[tuple[str, str]] = set()
        self._bad_plain_root = False

    def load_tuf(
        self, name: str, role: str, files: Mapping[str, bytes] | None = None
    ) -> Envelope | None:
        env = self.load(name, role, files=files)
        if env is not None:
            keyids = [s.keyid for s in env.signatures]
            if len(set(keyids)) != len(keyids):
                self.error(
                    "malformed",
                    role,
                    f"{name}: two signatures carry the same keyid (python-tuf rejects the file; "
                    "a key is counted once)",
                )
        return env

    def key_findings(self, table: KeyTable, role: str, where: str) -> None:
        for keyid, reason in table.unsupported.items():
            if ("unsupported", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("unsupported", keyid))
                self.warning(
                    "malformed",
                    role,
                    f"{where}: key {keyid[:16]}: {reason}; its signatures are not counted",
                )
        for keyid, reason in table.unknown.items():
            if ("unknown", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("unknown", keyid))
                self.error(
                    "malformed",
                    role,
                    f"{where}: key {keyid[:16]}: {reason} (TUF clients such as python-tuf "
                    "reject the file)",
                )
        for keyid in table.mismatched:
            if ("mismatch", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("mismatch", keyid))
                self.warning(
                    "keyid-mismatch",
                    role,
                    f"{where}: keyid {keyid[:16]} is not the sha256 of its key "
                    "(some clients, e.g. tough, reject it)",
                )

    # root chain ---------------------------------------------------------
    def root_candidates(self) -> dict[int, str]:
        found: dict[int, str] = {}
        for name in self.bundle.files:
            m = _VERSIONED_ROOT.match(name)
            if m:
                found[int(m.group(1))] = name
        raw = self.bundle.files.get("root.json")
        if raw is not None:
            version = peek_version(raw, name="root.json")
            if version is None:
                if self.load_tuf("root.json", "root") is not None:
                    self.error("malformed", "root", "root.json: signed.version is not an integer")
                self._bad_plain_root = True
            elif version not in found:
                found[version] = "root.json"
            elif self.bundle.files[found[version]] != raw:
                self.error(
                    "root-rotation-invalid",
                    "root",
                    f"root.json and {found[version]} are different files for root v{version}",
                )
        return found

    def first_root(
        self, trusted: bytes | None, source: str | None, candidates: dict[int, str]
    ) -> tuple[RootInfo | None, Anchor]:
        if trusted is not None:
            name = source or "trusted root"
            files = {name: trusted}
            anchor_kind = "root"
        elif candidates:
            name = candidates[min(candidates)]
            files = dict(self.bundle.files)
            anchor_kind = "none"
            self.warning(
                "no-anchor",
                None,
                f"no --root or --pins given: the chain is checked from its own first root ({name})",
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
        valid = count_signatures(env, role, info.keys)
        self.check_threshold("root", name, valid, role.threshold, f"root v{info.header.version}")
        self.record_root(
            name, info.header, threshold=info.roles["root"].threshold, valid=valid, mark=mark
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
            return env, parse_root(env.signed, where=name)
        except Malformed as e:
            self.error("malformed", "root", str(e))
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
            )
            return None
        return env, new

    def _apply_step(self, old: RootInfo, name: str, new: RootInfo, counts: tuple[int, int]) -> None:
        expect = new.header.version
        mark = self.mark()
        self.key_findings(new.keys, "root", name)
        old_role, new_role = old.roles["root"], new.roles["root"]
        by_old, by_new = counts
        if by_old < old_role.threshold:
            self.error(
                "root-rotation-invalid",
                "root",
                f"{name}: root v{expect} has {by_old} valid signature(s) from root "
                f"v{expect - 1}'s keys, threshold {old_role.threshold}",
            )
        self.check_threshold("root", name, by_new, new_role.threshold, f"root v{expect}")
        self.record_root(
            name, new.header, threshold=new.roles["root"].threshold, valid=by_new, mark=mark
        )

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
            )
        final = current.header
        self.check_expiry("root", f"root v{version}", final.expires, final.expires_text)
        self._root_rollback(version)
        return current, anchor

    def _root_rollback(self, version: int) -> None:
        if self.previous is None:
            return
        prev = [int(m.group(1)) for n in self.previous.files if (m := _VERSIONED_ROOT.match(n))]
        raw = self.previous.files.get("root.json")
        if raw is not None and (v := peek_version(raw, name="root.json")) is not None:
            prev.append(v)
        if prev and max(prev) > version:
            self.error(
                "rollback",
                "root",
                f"root is v{version}, previously trusted metadata has root v{max(prev)}",
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
            self.error("malformed", "timestamp", str(e))
            return None
        mark = self.mark()
        role = root.roles["timestamp"]
        valid = count_signatures(env, role, root.keys)
        self.check_threshold(
            "timestamp", name, valid, role.threshold, f"root v{root.header.version}"
        )
        self.check_expiry("timestamp", name, header.expires, header.expires_text)
        self._previous_version("timestamp", header.version, "timestamp.json")
        prev_meta = self._previous_meta("timestamp.json", "timestamp")
        if prev_meta and "snapshot.json" in prev_meta:
            old = prev_meta["snapshot.json"].version
            if meta.version < old:
                self.error(
                    "rollback",
                    "snapshot",
                    f"timestamp records snapshot v{meta.version}, previously v{old}",
                )
        self.roles.append(
            _result(
                "timestamp",
                name,
                header.version,
                header.expires_text,
                valid,
                role.threshold,
                None,
                self.clean_since(mark, "timestamp"),
            )
        )
        return meta

    def snapshot(self, root: RootInfo, recorded: MetaFile | None) -> dict[str, MetaFile] | None:
        version = recorded.version if recorded else None
        names = ["snapshot.json"]
        if version is not None:
            versioned = f"{version}.snapshot.json"
            names = [versioned, *names] if root.consistent_snapshot else [*names, versioned]
        elif (latest := self.latest_versioned("snapshot.json")) is not None:
            names.append(latest)
        name = self.first_present(names)
        if name is None:
            self.error("missing-role", "snapshot", f"{self.bundle.source}: no {' or '.join(names)}")
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
                decode=_unhex,
            )
        env = self.load_tuf(name, "snapshot")
        if env is None:
            return None
        try:
            header = parse_header(env.signed, "snapshot", where=name)
            meta = parse_meta(env.signed, "snapshot", where=name)
        except Malformed as e:
            self.error("malformed", "snapshot", str(e))
            return None
        role = root.roles["snapshot"]
        valid = count_signatures(env, role, root.keys)
        self.check_threshold(
            "snapshot", name, valid, role.threshold, f"root v{root.header.version}"
        )
        self.check_expiry("snapshot", name, header.expires, header.expires_text)
        if version is not None and header.version != version:
            self.error(
                "version-mismatch",
                "snapshot",
                f"{name} is v{header.version}, timestamp records v{version}",
            )
        self._previous_version("snapshot", header.version, "snapshot.json")
        self._snapshot_rollback(meta)
        self.roles.append(
            _result(
                "snapshot",
                name,
                header.version,
                header.expires_text,
                valid,
                role.threshold,
                None,
                self.clean_since(mark, "snapshot"),
            )
        )
        return meta

    def _snapshot_rollback(self, meta: dict[str, MetaFile]) -> None:
        prev = self._previous_meta("snapshot.json", "snapshot")
        for filename, old in (prev or {}).items():
            role = filename.removesuffix(".json")
            new = meta.get(filename)
            if new is None:
                self.error(
                    "rollback",
                    role,
                    f"snapshot no longer lists {filename} (previously v{old.version})",
                )
            elif new.version < old.version:
                self.error(
                    "rollback",
                    role,
                    f"snapshot records {filename} v{new.version}, previously v{old.version}",
                )

    # previous metadata ------------------------------------------------------
    def _previous_env(self, name: str) -> Envelope | None:
        if self.previous is None:
            return None
        if name not in self.previous.files:
            versions = [
                int(head)
                for n in self.previous.files
                if (parts := n.partition("."))[2] == name
                and (head := parts[0]).isdigit()
                and len(head) < 13
            ]
            if not versions:
                return None
            name = f"{max(versions)}.{name}"
        from trustkeep.core.verify._envelope import parse_envelope

        try:
            return parse_envelope(self.previous.files[name], name=f"--previous {name}")
        except Malformed:
            return None

    def _previous_version(self, role: str, version: int, name: str) -> None:
        env = self._previous_env(name)
        old = env.signed.get("version") if env else None
        if isinstance(old, int) and not isinstance(old, bool) and old > version:
            self.error("rollback", role, f"{role} is v{version}, previously trusted v{old}")

    def _previous_meta(self, name: str, kind: str) -> dict[str, MetaFile] | None:
        env = self._previous_env(name)
        if env is None:
            return None
        try:
            return parse_meta(env.signed, kind, where=f"--previous {name}")
        except Malformed:
            return None


def _rotation_counts(step: tuple[Envelope, RootInfo, RootInfo]) -> tuple[int, int]:
    """Valid signatures on a new root from the old root's keys and from its own."""
    env, old, new = step
    return (
        count_signatures(env, old.roles["root"], old.keys),
        count_signatures(env, new.roles["root"], new.keys),
    )


def _unhex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _result(
    role: str,
    name: str,
    version: int,
    expires: str,
    valid: int,
    threshold: int,
    delegated_by: str | None,
    ok: bool,
) -> RoleResult:
    return RoleResult(
        role=role,
        file=name,
        version=version,
        expires=expires,
        signatures=valid,
        threshold=threshold,
        delegated_by=delegated_by,
        valid=ok,
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
    process pool's map to use several cores; results are identical).
    """
    run = TufRun(bundle, at=at, previous=previous)
    root, anchor = run.root_chain(trusted_root, trusted_root_source, mapper)
    if root is not None:
        recorded = run.timestamp(root)
        meta = run.snapshot(root, recorded)
        verify_targets_tree(run, root, meta, mapper)
    return Report(format="tuf", anchor=anchor, roles=tuple(run.roles), findings=tuple(run.findings))
