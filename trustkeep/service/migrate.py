"""MigrateService: a verified Notary repository → a TUF 1.0 repository with the same targets.

The new repository is built with trustkeep's core repository functions over
python-tuf's Metadata API (``rootops.new_repository``, ``delegation.add_delegation``,
``online.update_timestamp``) and written with ``repo_dir.write_changed`` (atomic
writes). Beside it, ``migration/statement.json`` — outside what clients fetch — names
the GUN, the sha256 of the last verified Notary root and of the new TUF root, signed
by the new root keys and, when it is in the store, by the retiring Notary root key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from securesystemslib.signer import Key, SSlibKey
from tuf.api.metadata import Metadata, MetaFile, Root, TargetFile
from tuf.api.serialization import DeserializationError

from trustkeep.adapters import repo_dir, staging_area
from trustkeep.adapters.atomic import atomic_write
from trustkeep.adapters.metadata_source import read_input_file
from trustkeep.core import migration as mig
from trustkeep.core.keys import KeyEntry
from trustkeep.core.notary_meta import NotaryKey
from trustkeep.core.tuf_repo import delegation as deleg
from trustkeep.core.tuf_repo import online, rootops
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState, apply_signatures
from trustkeep.core.tuf_repo.targetsops import validate_target_path
from trustkeep.errors import InputError, StorageError, TrustkeepError
from trustkeep.service._migrate_results import (
    CarriedKey,
    CarriedRole,
    MigrationCheck,
    MigrationResult,
    NotCarried,
)
from trustkeep.service._repo_support import SignerPool, resolve_key
from trustkeep.service.evacuate import VerifiedNotary, load_verified
from trustkeep.service.keys import KeyService
from trustkeep.service.verify import VerifyService, parse_reference_time

__all__ = [
    "STATEMENT_FILE",
    "CarriedKey",
    "CarriedRole",
    "MigrateService",
    "MigrationCheck",
    "MigrationResult",
    "NotCarried",
]

STATEMENT_FILE = Path("migration") / "statement.json"
_X509 = ("ecdsa-x509", "rsa-x509")


class _Build:
    """One migration's working state: the TUF repository and the report being written."""

    def __init__(self, keys: KeyService, state: RepoState, now: datetime) -> None:
        self.keys, self.state, self.now = keys, state, now
        self.policy = ExpiryPolicy()
        self.carried: dict[str, tuple[int, tuple[CarriedKey, ...], mig.PathMapping | None]] = {}
        self.not_carried: list[NotCarried] = []
        self.notes: list[str] = []
        self.by_canonical = {e.notary_canonical_id: e for e in keys.list() if e.notary_canonical_id}

    def entry_for(self, key: NotaryKey) -> KeyEntry | None:
        canonical = key.canonical_id
        if canonical is not None and canonical in self.by_canonical:
            return self.by_canonical[canonical]
        scheme, _ = mig.tuf_scheme(key.public_key)
        if scheme is None:
            return None
        return self.keys.get(mig.tuf_key(key.public_key).keyid)

    def convert(self, role: str, key: NotaryKey) -> tuple[Key, CarriedKey] | None:
        scheme, why = mig.tuf_scheme(key.public_key)
        if scheme is None:
            self.not_carried.append(NotCarried(f"{role} key {key.keyid[:16]}", why))
            return None
        entry = self.entry_for(key)
        tuf: Key = entry.sslib_key() if entry is not None else mig.tuf_key(key.public_key)
        how = f"{key.keytype} → {scheme}"
        if key.keytype in _X509:
            how = (
                f"{key.keytype} certificate → its public key ({scheme}); "
                "the certificate's validity dates and CN are not carried"
            )
        return tuf, CarriedKey(key.keyid, tuf.keyid, how, key.canonical_id)

    def add_targets(self, role: mig.NotaryRole) -> int:
        md = self.state.targets_role(role.name)
        count = 0
        for t in role.targets:
            what = f"target {t.name[:120]!r} ({role.name})"
            try:
                validate_target_path(t.name)
            except InputError as e:
                self.not_carried.append(NotCarried(what, e.message))
                continue
            if t.length < 0 or not t.hashes:
                self.not_carried.append(NotCarried(what, "no length or no sha256/sha512 hash"))
                continue
            if t.dropped:
                self.notes.append(f"{what}: hash algorithm(s) {', '.join(t.dropped)} not carried")
            extra = {"custom": t.custom} if t.custom is not None else {}
            md.signed.targets[t.name] = TargetFile(t.length, dict(t.hashes), t.name, extra)
            count += 1
        return count

    def add_role(self, role: mig.NotaryRole, names: Sequence[str]) -> None:
        if role.delegated_by not in self.carried:
            reason = f"its delegator {role.delegated_by} was not carried over"
            self.not_carried.append(NotCarried(f"role {role.name}", reason))
            return
        converted = [c for k in role.keys if (c := self.convert(role.name, k)) is not None]
        for keyid, why in role.unusable_keys:
            self.not_carried.append(NotCarried(f"{role.name} key {keyid[:16]}", why))
        if len(converted) < role.threshold:
            reason = f"{len(converted)} usable key(s), threshold {role.threshold}"
            self.not_carried.append(NotCarried(f"role {role.name}", reason))
            return
        if role.paths is not None and not role.paths:
            reason = "it has no path prefix, so it can sign nothing in Notary either"
            self.not_carried.append(NotCarried(f"role {role.name}", reason))
            return
        mapping = mig.map_prefixes(role.name, role.paths or ("",), names=names)
        try:
            deleg.add_delegation(
                self.state,
                role.name,
                delegator=role.delegated_by,
                keys=[k for k, _ in converted],
                threshold=role.threshold,
                paths=mapping.paths,
                hash_prefixes=mapping.hash_prefixes,
                terminating=False,
                now=self.now,
                policy=self.policy,
            )
        except InputError as e:
            self.not_carried.append(NotCarried(f"role {role.name}", e.message))
            return
        self.carried[role.name] = (role.threshold, tuple(c for _, c in converted), mapping)

    def precedence_notes(self, repo: mig.NotaryRepo) -> None:
        seen: dict[str, tuple[str, Any]] = {}
        for role in repo.roles:
            for t in role.targets:
                if t.name in seen and seen[t.name][1] != t.sha256:
                    self.notes.append(
                        f"target {t.name[:120]!r} differs in {seen[t.name][0]} and {role.name}: "
                        f"TUF clients take {seen[t.name][0]}'s (the first in the delegation "
                        "order); Docker took targets/releases'"
                    )
                seen.setdefault(t.name, (role.name, t.sha256))


def _names_below(repo: mig.NotaryRepo, role: str) -> list[str]:
    return [
        t.name
        for r in repo.roles
        if r.name.startswith(f"{role}/") or r.name == role
        for t in r.targets
    ]


class MigrateService:
    """``migrate(source, gun=..., to=..., root_keys=..., targets_keys=...)`` → result."""

    def __init__(self, keys: KeyService, verify: VerifyService) -> None:
        self.keys = keys
        self.verify = verify

    def migrate(
        self,
        source: Path,
        *,
        gun: str,
        to: Path,
        root_keys: Sequence[str],
        targets_keys: Sequence[str],
        snapshot_keys: Sequence[str] = (),
        timestamp_keys: Sequence[str] = (),
        root_threshold: int = 1,
        keep_root_key: bool = False,
        at: datetime | None = None,
        now: datetime | None = None,
    ) -> MigrationResult:
        if (to / "root.json").exists() or (to / STATEMENT_FILE).exists():
            raise InputError(f"{to}: already holds a repository; migrate into a new directory")
        if to.exists() and not to.is_dir():
            raise InputError(f"{to}: exists and is not a directory")
        if to.is_dir() and any(to.iterdir()):
            raise InputError(f"{to}: is not empty; migrate into a new (or empty) directory")
        if source.is_dir() and to.resolve().is_relative_to(source.resolve()):
            raise InputError(
                f"{to}: is inside {source}; the Notary data is kept as it is, "
                "migrate into a directory outside it"
            )
        verified = load_verified(self.verify, source, gun=gun, at=at)
        when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        notary_entries = self._notary_root_entries(verified.repo)
        roots, kept = self._root_keys(root_keys, notary_entries if keep_root_key else None, gun)
        targets = [resolve_key(self.keys, r).key for r in targets_keys]
        state = rootops.new_repository(
            keys={
                "root": roots,
                "targets": targets,
                "snapshot": [resolve_key(self.keys, r).key for r in snapshot_keys] or targets,
                "timestamp": [resolve_key(self.keys, r).key for r in timestamp_keys] or targets,
            },
            thresholds={"root": root_threshold},
            now=when,
            policy=ExpiryPolicy(),
            consistent_snapshot=False,
        )
        build = _Build(self.keys, state, when)
        carried = self._build(build, verified.repo)
        build.notes += self._key_notes(verified.repo, kept, notary_entries)
        # every signature is made before the first byte is written
        statement, notary_signed = self._statement(verified, state, notary_entries, when)
        # a role still waiting for signatures is not published: the whole new repository
        # is staged (DIR/staged/), signed there, then published
        complete = all(r.signatures >= r.threshold for r in carried)
        written = self._write(to, state, statement, stage=not complete)
        return MigrationResult(
            directory=to,
            gun=gun,
            source=source,
            notary_root_version=verified.repo.root_version,
            roles=carried,
            not_carried=tuple(build.not_carried),
            notes=tuple(build.notes),
            root_keys=tuple(k.keyid for k in roots),
            kept_notary_root_key=kept,
            statement=written[-1],
            notary_signed=notary_signed,
            written=tuple(written),
        )

    @staticmethod
    def _key_notes(
        repo: mig.NotaryRepo, kept: str | None, entries: Sequence[tuple[str, KeyEntry]]
    ) -> list[str]:
        held = {keyid for keyid, _ in entries}
        notes = [
            "snapshot and timestamp are signed with the new keys; Notary's server-held "
            "timestamp (and snapshot) keys stay with the notary server"
        ]
        if kept is None:
            notes.append(
                f"the Notary root key(s) {', '.join(k[:12] for k in repo.root_keys)} are not "
                "TUF root keys (--keep-root-key makes the ones in the store root keys)"
            )
        missing = [k[:12] for k in repo.root_keys if k not in held]
        if missing:
            notes.append(
                f"Notary root key(s) {', '.join(missing)} are not in the store: they did not "
                "sign the migration statement"
            )
        return notes

    def _root_keys(
        self,
        refs: Sequence[str],
        keep: Sequence[tuple[str, KeyEntry]] | None,
        gun: str,
    ) -> tuple[list[Key], str | None]:
        """The new root keys; with ``keep``, the Notary root key from the store joins them."""
        roots: list[Key] = [resolve_key(self.keys, r).key for r in refs]
        if keep is None:
            return roots, None
        if not keep:
            raise InputError(
                f"--keep-root-key: no private key of {gun}'s Notary root is in the store",
                hint="import it first: trustkeep key import ~/.docker/trust/private/<id>.key",
            )
        for _, entry in keep:  # every key of the last Notary root that the store holds
            if all(k.keyid != entry.keyid for k in roots):
                roots.append(entry.sslib_key())
        return roots, keep[0][1].keyid

    @staticmethod
    def _write(to: Path, state: RepoState, statement: bytes, *, stage: bool) -> list[Path]:
        path = to / STATEMENT_FILE
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{path.parent}: cannot create directory: {e.strerror}") from e
        if stage:
            written = staging_area.write_staged(to, state, list(state.all_roles()))
            state.changed.clear()
        else:
            written = repo_dir.write_changed(to, state)
        atomic_write(path, statement)
        return [*written, path]

    def _notary_root_entries(self, repo: mig.NotaryRepo) -> list[tuple[str, KeyEntry]]:
        """(Notary root keyid, store entry with a private half) for the last root's keys."""
        by_canonical = {e.notary_canonical_id: e for e in self.keys.list() if e.has_private}
        return [
            (keyid, by_canonical[key.canonical_id])
            for keyid, key in repo.root_keys.items()
            if key.canonical_id in by_canonical
        ]

    def _build(self, build: _Build, repo: mig.NotaryRepo) -> tuple[CarriedRole, ...]:
        """Targets, delegations, snapshot and timestamp, all signed with the store's keys."""
        state = build.state
        top = next(r for r in repo.roles if r.name == "targets")
        build.carried["targets"] = (1, (), None)
        counts = {"targets": build.add_targets(top)}
        for role in repo.roles:
            if role.name == "targets":
                continue
            build.add_role(role, _names_below(repo, role.name))
            if role.name in build.carried:
                counts[role.name] = build.add_targets(role)
        build.precedence_notes(repo)
        # a new repository: every top-level role is v1 (as staging requires), whatever
        # the delegations added on the way bumped
        state.targets.signed.version = 1
        state.snapshot.signed.version = 1
        meta = {"targets.json": MetaFile(version=state.targets.signed.version)}
        meta.update(
            {f"{n}.json": MetaFile(version=md.signed.version) for n, md in state.delegated.items()}
        )
        state.snapshot.signed.meta = meta
        pool = SignerPool(self.keys)
        for name in ["root", "targets", *state.delegated, "snapshot"]:
            apply_signatures(state.role(name), pool.signers(self._authorized(state, name)))
        online.update_timestamp(
            state, repo_dir.serialize(state.snapshot), now=build.now, policy=build.policy
        )
        state.timestamp.signed.version = 1
        apply_signatures(state.timestamp, pool.signers(self._authorized(state, "timestamp")))
        for name in state.all_roles():
            state.mark(name)
        return tuple(self._carried(state, build, n, counts.get(n, 0)) for n in build.carried)

    @staticmethod
    def _authorized(state: RepoState, role: str) -> list[str]:
        if role in ("root", "targets", "snapshot", "timestamp"):
            return list(state.root.signed.roles[role].keyids)
        return list(state.delegator_signed(role).get_delegated_role(role).keyids)

    def _carried(self, state: RepoState, build: _Build, name: str, count: int) -> CarriedRole:
        threshold, keys, mapping = build.carried[name]
        authorized = self._authorized(state, name)
        if name == "targets":
            threshold = state.root.signed.roles["targets"].threshold
        signed = [k for k in authorized if k in state.role(name).signatures]
        delegator = "root" if name == "targets" else state.delegator_of(name)
        waiting = tuple(k for k in authorized if k not in signed)
        return CarriedRole(name, delegator, threshold, keys, mapping, count, len(signed), waiting)

    def _statement(
        self,
        verified: VerifiedNotary,
        state: RepoState,
        notary_entries: Sequence[tuple[str, KeyEntry]],
        now: datetime,
    ) -> tuple[bytes, bool]:
        """The signed statement document, and whether the Notary root key signed it."""
        signed = mig.statement_signed(
            gun=verified.gun,
            notary_root=verified.repo.root_bytes,
            notary_root_version=verified.repo.root_version,
            tuf_root=repo_dir.serialize(state.root),
            tuf_root_version=state.root.signed.version,
            verified_at=verified.at,
            migrated_at=now,
        )
        payload = mig.statement_payload(signed)
        pool = SignerPool(self.keys)
        root_signers = pool.signers(self._authorized(state, "root"))
        signatures = [
            {"keyid": s.keyid, "sig": s.signature} for s in (r.sign(payload) for r in root_signers)
        ]
        notary = [
            {"keyid": keyid, "sig": pool.signer(entry.keyid).sign(payload).signature}
            for keyid, entry in notary_entries
        ]
        doc = {"signed": signed, "signatures": signatures, "notary_signatures": notary}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"), bool(notary)

    def check(
        self,
        directory: Path,
        source: Path,
        *,
        gun: str | None = None,
        statement: Path | None = None,
    ) -> MigrationCheck:
        """``verify DIR --migrated-from OUT``: the statement against both chains."""
        path = statement or directory / STATEMENT_FILE
        try:
            doc = json.loads(read_input_file(path, what="migration statement"))
        except (ValueError, RecursionError) as e:
            raise InputError(f"{path}: migration statement is not valid JSON") from e
        signed = doc.get("signed") if isinstance(doc, dict) else None
        named = signed.get("gun") if isinstance(signed, dict) else None
        if not isinstance(named, str) or not named:
            raise InputError(f"{path}: not a migration statement (no signed.gun)")
        at_text = signed.get("notary_verified_at") if isinstance(signed, dict) else None
        at = parse_reference_time(at_text) if isinstance(at_text, str) else None
        try:
            verified = load_verified(self.verify, source, gun=named, at=at)
        except TrustkeepError as e:
            problem = f"{source}: the Notary chain of {named} does not check: {e.message}"
            return MigrationCheck(path, source, mig.StatementCheck(named, (problem,), (), 0, 0, ()))
        tuf_raw = read_input_file(directory / "1.root.json", what="TUF root v1")
        try:
            tuf_root: Metadata[Root] = Metadata[Root].from_bytes(tuf_raw)
        except DeserializationError as e:
            raise InputError(f"{directory / '1.root.json'}: not TUF root metadata") from e
        role = tuf_root.signed.roles["root"]
        keys = {k: tuf_root.signed.keys[k] for k in role.keyids if k in tuf_root.signed.keys}
        result = mig.check_statement(
            doc,
            notary_root=verified.repo.root_bytes,
            notary_root_keys={k: v.public_key for k, v in verified.repo.root_keys.items()},
            tuf_root=tuf_raw,
            tuf_root_keys={k: v for k, v in keys.items() if isinstance(v, SSlibKey)},
            tuf_threshold=role.threshold,
            gun=gun,
        )
        return MigrationCheck(path, source, result)
