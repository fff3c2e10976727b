"""Notary v1 chain verification (NOTARY.md §2-3), pure: bytes in, a Report out.

root (x509 root certificates, CN = GUN, pins or a trusted root or first use)
→ timestamp → snapshot (hashes of root, targets and delegations) → targets →
``targets/…`` delegations with prefix paths. Every problem becomes a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from cryptography import x509

from trustkeep.core.notary_meta import b64decode_strict, verify_notary_signature
from trustkeep.core.pinning import certificate_problems
from trustkeep.core.rolenames import VERSIONED_ROOT_RE
from trustkeep.core.verify._envelope import Envelope, Malformed, peek_version
from trustkeep.core.verify._notarymodel import (
    Header,
    Keys,
    NRoot,
    NTargets,
    parse_header,
    parse_root,
    parse_targets,
)
from trustkeep.core.verify._run import PATH_FINDINGS_PER_ROLE, Run
from trustkeep.core.verify._tufmodel import RoleKeys
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Anchor, Report, RoleResult

__all__ = ["PinAnchor", "PinCheck", "verify_notary"]

PinCheck = Callable[[Sequence[str], Sequence[str], Sequence[x509.Certificate]], list[str]]
_VERSIONED_ROOT = VERSIONED_ROOT_RE
_X509 = ("ecdsa-x509", "rsa-x509")


@dataclass(frozen=True)
class PinAnchor:
    """Trust pins that decide for the GUN: ``check(cert_ids, canonical_ids, certs)`` → problems."""

    source: str
    gun: str
    mechanism: str
    check: PinCheck


def _count(env: Envelope, role: RoleKeys, keys: Keys, only: set[str] | None = None) -> int:
    """Distinct keys of ``role`` with a valid signature; wrong-ID keys never count, and a
    key listed twice (as a certificate and as a bare key) counts once."""
    allowed = set(role.keyids) if only is None else set(role.keyids) & only
    valid: set[str] = set()
    counted: set[bytes] = set()
    for s in env.signatures:
        key = keys.usable.get(s.keyid)
        if s.keyid in valid or s.keyid not in allowed or key is None or not key.keyid_matches:
            continue
        sig = b64decode_strict(s.sig)
        if sig is not None and env.verify_with(
            partial(verify_notary_signature, key, s.method, sig)
        ):
            valid.add(s.keyid)
            counted.add(key.material)
    return len(counted)


class NotaryRun(Run):
    def __init__(
        self,
        bundle: MetadataBundle,
        *,
        at: datetime,
        previous: MetadataBundle | None,
        gun: str | None,
    ) -> None:
        super().__init__(bundle, at=at, previous=previous)
        self.gun = gun
        self._reported: set[tuple[str, str]] = set()
        self._pending: tuple[int, int] = (0, 0)

    def key_findings(
        self, keys: Keys, role_keys: Sequence[RoleKeys], role: str, where: str
    ) -> None:
        used = {k for r in role_keys for k in r.keyids}
        for keyid in sorted(used):
            if (role, keyid) in self._reported:
                continue
            self._reported.add((role, keyid))
            key = keys.usable.get(keyid)
            if keyid in keys.bad:
                self.warning(
                    "malformed",
                    role,
                    f"{where}: key {keyid[:16]}: {keys.bad[keyid]}; its signatures are not counted",
                )
            elif key is not None and not key.keyid_matches:
                self.error(
                    "keyid-mismatch",
                    role,
                    f"{where}: keyid {keyid[:16]} is not the ID of its key "
                    f"({key.computed_id[:16]}); Notary rejects its signatures",
                )

    def parse_root(
        self, name: str, files: Mapping[str, bytes] | None = None
    ) -> tuple[Envelope, NRoot] | None:
        env = self.load(name, "root", files=files)
        if env is None:
            return None
        try:
            return env, parse_root(env.signed, where=name)
        except Malformed as e:
            self.error("malformed", "root", str(e))
            return None

    def root_chain(
        self, trusted: bytes | None, source: str | None, pins: PinAnchor | None
    ) -> tuple[NRoot | None, Anchor]:
        candidates = self._candidates()
        if pins is not None:
            start = {v: n for v, n in candidates.items() if n == "root.json"} or candidates
            candidates = {max(start): start[max(start)]} if start else {}
        anchor = Anchor(kind="none", gun=self.gun)
        if trusted is not None:
            name, files = source or "trusted root", {source or "trusted root": trusted}
            anchor = Anchor(kind="root", source=name, gun=self.gun)
        elif candidates:
            name, files = candidates[min(candidates)], dict(self.bundle.files)
            if pins is not None:
                anchor = Anchor(
                    kind="pins", source=pins.source, gun=pins.gun, mechanism=pins.mechanism
                )
                if pins.mechanism.startswith("tofu"):
                    self.warning(
                        "no-anchor",
                        None,
                        f"no pin in {pins.source} applies to {pins.gun}: trust on first use",
                    )
            else:
                self.warning(
                    "no-anchor",
                    None,
                    f"no --root or --pins given: the chain is checked from its own root ({name})",
                )
        else:
            self.error("missing-role", "root", f"{self.bundle.source}: no root.json")
            return None, anchor
        loaded = self.parse_root(name, files)
        if loaded is None:
            return None, anchor
        env, root = loaded
        mark = self.mark()
        self.key_findings(root.keys, [root.roles["root"]], "root", name)
        valid = _count(env, root.roles["root"], root.keys)
        self.check_threshold(
            "root", name, valid, root.roles["root"].threshold, f"root v{root.header.version}"
        )
        self.record_root(
            name, root.header, threshold=root.roles["root"].threshold, valid=valid, mark=mark
        )
        anchor = Anchor(
            kind=anchor.kind,
            source=anchor.source,
            version=root.header.version,
            gun=anchor.gun,
            mechanism=anchor.mechanism,
        )
        return self._walk(root, candidates), anchor

    def _candidates(self) -> dict[int, str]:
        found = {int(m.group(1)): n for n in self.bundle.files if (m := _VERSIONED_ROOT.match(n))}
        if "root.json" in self.bundle.files:
            env = self.load("root.json", "root")
            version = env.signed.get("version") if env else None
            if isinstance(version, int) and not isinstance(version, bool):
                found.setdefault(version, "root.json")
            elif env is not None:
                self.error("malformed", "root", "root.json: signed.version is not an integer")
        return found

    def _walk(self, root: NRoot, candidates: dict[int, str]) -> NRoot:
        version = root.header.version
        while version + 1 in candidates:
            name = candidates[version + 1]
            loaded = self.parse_root(name)
            if loaded is None:
                break
            env, new = loaded
            if new.header.version != version + 1:
                self.error(
                    "root-rotation-invalid",
                    "root",
                    f"{name} holds root v{new.header.version}, expected v{version + 1}",
                )
                break
            mark = self.mark()
            self.key_findings(new.keys, [new.roles["root"]], "root", name)
            old_role = root.roles["root"]
            by_old = _count(env, old_role, root.keys)
            if by_old < old_role.threshold:
                self.error(
                    "root-rotation-invalid",
                    "root",
                    f"{name}: root v{version + 1} has {by_old} valid signature(s) from root "
                    f"v{version}'s keys, threshold {old_role.threshold}",
                )
            by_new = _count(env, new.roles["root"], new.keys)
            self.check_threshold(
                "root", name, by_new, new.roles["root"].threshold, f"root v{version + 1}"
            )
            self.record_root(
                name, new.header, threshold=new.roles["root"].threshold, valid=by_new, mark=mark
            )
            root, version = new, version + 1
        later = sorted(v for v in candidates if v > version)
        if later and version + 1 not in candidates:
            self.error(
                "root-rotation-invalid",
                "root",
                f"root v{later[0]} ({candidates[later[0]]}) is present but v{version + 1} is "
                "missing (Notary fetches intermediate roots as N.root.json)",
            )
        self.check_expiry("root", f"root v{version}", root.header.expires, root.header.expires_text)
        self._previous_version("root", version, "root.json")
        return root

    def check_certificates(self, root: NRoot, pins: PinAnchor | None) -> None:
        """Root role keys must be usable x509 certificates (CN = GUN, valid at --at, not weak)."""
        role = root.roles["root"]
        certs: list[x509.Certificate] = []
        problems: list[str] = []
        for keyid in role.keyids:
            key = root.keys.usable.get(keyid)
            if key is None or key.certificate is None or key.keytype not in _X509:
                kind = key.keytype if key else "unusable"
                problems.append(f"root key {keyid[:16]} is {kind}, not an x509 certificate")
                continue
            issues = certificate_problems(key.certificate, self.gun or "", self.at)
            problems.extend(f"key {keyid[:16]}: {p}" for p in issues)
            if not issues:
                certs.append(key.certificate)
        severity = "error" if len(certs) < role.threshold else "warning"
        for p in problems:
            self.add(severity, "certificate-invalid", "root", p)  # type: ignore[arg-type]
        if pins is None:
            return
        valid_ids = [
            k
            for k in role.keyids
            if (key := root.keys.usable.get(k)) is not None and key.certificate in certs
        ]
        canonical = [c for k in valid_ids if (c := root.keys.usable[k].canonical_id) is not None]
        for problem in pins.check(valid_ids, canonical, certs):
            self.error("pin-mismatch", "root", problem)

    def _previous_version(self, role: str, version: int, name: str) -> None:
        raw = self.previous.files.get(name) if self.previous is not None else None
        if raw is None:
            return
        from trustkeep.core.verify._envelope import parse_envelope

        try:
            old = parse_envelope(raw, name=name).signed.get("version")
        except Malformed:
            return
        if isinstance(old, int) and not isinstance(old, bool) and old > version:
            self.error("rollback", role, f"{role} is v{version}, previously trusted v{old}")

    def check_recorded(
        self, role: str, name: str, entry: Any, recorded_by: str, version: int | None = None
    ) -> None:
        raw = self.bundle.files.get(name)
        if raw is None or not isinstance(entry, dict):
            return
        length, hashes = entry.get("length"), entry.get("hashes")
        self.check_file(
            raw,
            role=role,
            name=name,
            length=length if isinstance(length, int) else None,
            hashes=hashes if isinstance(hashes, dict) else None,
            recorded_by=recorded_by,
            decode=b64decode_strict,
        )
        wanted = entry.get("version")
        if isinstance(wanted, int) and version is not None and wanted != version:
            self.error(
                "version-mismatch", role, f"{name} is v{version}, {recorded_by} records v{wanted}"
            )

    def signed_role(
        self, role: str, kind: str, keys: RoleKeys, table: Keys, by: str
    ) -> tuple[Envelope, Header] | None:
        name = f"{role}.json"
        if name not in self.bundle.files:
            self.error("missing-role", role, f"{self.bundle.source}: no {name}")
            return None
        env = self.load(name, role)
        if env is None:
            return None
        try:
            header = parse_header(env.signed, kind, where=name)
        except Malformed as e:
            self.error("malformed", role, str(e))
            return None
        valid = _count(env, keys, table)
        self.check_threshold(role, name, valid, keys.threshold, by)
        self.check_expiry(role, name, header.expires, header.expires_text)
        self._previous_version(role, header.version, name)
        self._pending = (valid, keys.threshold)
        return env, header

    def result(self, role: str, header: Header, mark: int, delegated_by: str | None = None) -> None:
        valid, threshold = self._pending
        self.roles.append(
            RoleResult(
                role=role,
                file=f"{role}.json",
                version=header.version,
                expires=header.expires_text,
                signatures=valid,
                threshold=threshold,
                delegated_by=delegated_by,
                valid=self.clean_since(mark, role),
            )
        )

    def meta_of(self, env: Envelope, role: str) -> dict[str, Any]:
        meta = env.signed.get("meta")
        if not isinstance(meta, dict):
            self.error("malformed", role, f"{role}.json: meta is not an object")
            return {}
        return meta

    def timestamp_and_snapshot(self, root: NRoot) -> dict[str, Any]:
        by = f"root v{root.header.version}"
        mark = self.mark()
        ts = self.signed_role("timestamp", "Timestamp", root.roles["timestamp"], root.keys, by)
        if ts is not None:
            meta = self.meta_of(ts[0], "timestamp")
            if "snapshot" not in meta:
                self.error("malformed", "timestamp", "timestamp.json: meta does not list snapshot")
            self.result("timestamp", ts[1], mark)
            self.check_recorded(
                "snapshot",
                "snapshot.json",
                meta.get("snapshot"),
                "timestamp",
                peek_version(self.bundle.files.get("snapshot.json"), name="snapshot.json"),
            )
        mark = self.mark()
        snap = self.signed_role("snapshot", "Snapshot", root.roles["snapshot"], root.keys, by)
        if snap is None:
            return {}
        meta = self.meta_of(snap[0], "snapshot")
        self.result("snapshot", snap[1], mark)
        self.check_recorded("root", "root.json", meta.get("root"), "snapshot", root.header.version)
        return meta

    def targets_tree(self, root: NRoot, meta: dict[str, Any]) -> None:
        stack: list[tuple[str, RoleKeys, Keys, str, tuple[tuple[str, ...], ...]]] = [
            ("targets", root.roles["targets"], root.keys, f"root v{root.header.version}", ())
        ]
        seen: set[str] = set()
        while stack:
            role, keys, table, by, chain = stack.pop()
            if role in seen:
                continue
            seen.add(role)
            if role != "targets" and f"{role}.json" not in self.bundle.files and role not in meta:
                continue  # declared, never published: Notary treats it as empty
            mark = self.mark()
            loaded = self.signed_role(role, "Targets", keys, table, by)
            if loaded is None:
                continue
            env, header = loaded
            self.check_recorded(role, f"{role}.json", meta.get(role), "snapshot", header.version)
            if meta and role not in meta:
                self.error("missing-role", role, f"snapshot does not list {role}")
            try:
                info = parse_targets(env.signed, name=role, where=f"{role}.json")
            except Malformed as e:
                self.error("malformed", role, str(e))
                continue
            self.key_findings(info.keys, [d.keys for d in info.roles], role, f"{role}.json")
            self._check_paths(role, info, chain)
            self.result(role, header, mark, None if role == "targets" else by)
            for d in reversed(info.roles):
                stack.append((d.name, d.keys, info.keys, role, (*chain, d.paths)))

    def _check_paths(self, role: str, info: NTargets, chain: tuple[tuple[str, ...], ...]) -> None:
        if not chain:
            return
        bad = [t for t in info.targets if not all(any(t.startswith(p) for p in ps) for ps in chain)]
        for path in bad[:PATH_FINDINGS_PER_ROLE]:
            self.error(
                "path-not-delegated",
                role,
                f"target {path[:120]!r} is outside the path prefixes delegated to {role}",
            )
        if len(bad) > PATH_FINDINGS_PER_ROLE:
            self.error(
                "path-not-delegated",
                role,
                f"and {len(bad) - PATH_FINDINGS_PER_ROLE} more targets outside {role}'s paths",
            )


def verify_notary(
    bundle: MetadataBundle,
    *,
    at: datetime,
    gun: str | None = None,
    trusted_root: bytes | None = None,
    trusted_root_source: str | None = None,
    pins: PinAnchor | None = None,
    previous: MetadataBundle | None = None,
) -> Report:
    """Verify a Notary metadata cache as of ``at``; report every problem found."""
    run = NotaryRun(bundle, at=at, previous=previous, gun=gun or bundle.gun)
    root, anchor = run.root_chain(trusted_root, trusted_root_source, pins)
    if root is not None:
        run.check_certificates(root, pins)
        meta = run.timestamp_and_snapshot(root)
        run.targets_tree(root, meta)
    return run.report("notary", anchor)
