"""RepoService: the TUF repository workflow for the CLI and the TUI.

Each method loads the directory, applies a pure core operation, signs the changed
roles with the keys of this store that hold a private half, and writes atomically.
Results are frozen values; nothing here prints or prompts (secrets go through the
key service's secrets handler).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securesystemslib.signer import Key
from tuf.api.metadata import TOP_LEVEL_ROLE_NAMES, Root

from trustkeep.adapters import repo_dir, staging_area, target_files
from trustkeep.adapters.atomic import atomic_write
from trustkeep.core.progress import Progress, no_progress, report_every
from trustkeep.core.tuf_repo import delegation as deleg
from trustkeep.core.tuf_repo import online, rootops, targetsops
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.staging import RoleDiff
from trustkeep.core.tuf_repo.state import RepoState, apply_signatures
from trustkeep.core.tuf_repo.status import RepoStatus, repo_status, role_checks
from trustkeep.errors import InputError, StorageError
from trustkeep.service._repo_sign import sign_file
from trustkeep.service._repo_support import (
    ResolvedKey,
    RoleChange,
    SignerPool,
    SignResult,
    WriteResult,
    authorized_keys,
    resolve_key,
    role_change,
    threshold_guard,
)
from trustkeep.service.staging import MergeResult, StagedRole, StagingService

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = ["RepoService", "RoleChange", "SignResult", "WriteResult"]


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


class RepoService:
    """``RepoService(keys)``; every method takes the repository directory first."""

    def __init__(self, keys: KeyService, progress: Progress = no_progress) -> None:
        self.keys = keys
        self.progress = progress
        self.staging = StagingService(keys, progress)

    # -- helpers -------------------------------------------------------------------

    def names(self) -> dict[str, str]:
        """keyid -> name for the named keys of this store."""
        return self.staging.names()

    def resolve(self, refs: Sequence[str]) -> list[ResolvedKey]:
        return [resolve_key(self.keys, r) for r in refs]

    def _keys(self, refs: Sequence[str]) -> list[Key]:
        """The public keys of ``refs`` (keyids, names or files)."""
        return [r.key for r in self.resolve(refs)]

    def load(self, directory: Path) -> RepoState:
        """The published repository (what clients read)."""
        return repo_dir.load_repo(directory)

    def working(self, directory: Path) -> RepoState:
        """The repository as it will be once the staged changes are published."""
        return staging_area.load_working(directory)[1]

    def _sign(self, state: RepoState, pool: SignerPool, roles: Sequence[str], sign: bool) -> None:
        if not sign:
            return
        for n, role in enumerate(roles, 1):
            state.sign_role(role, pool.signers(authorized_keys(state, role)))
            report_every(self.progress, "signing", n, len(roles))

    def _commit(
        self,
        directory: Path,
        state: RepoState,
        *,
        sign: bool = True,
        stage: bool = False,
        expires: str | None = None,
        now: datetime | None = None,
    ) -> WriteResult:
        """Sign the changed roles, stage them, and publish at once when nothing is missing.

        ``expires`` / ``now``: of the snapshot and timestamp that publishing writes.
        """
        pool = SignerPool(self.keys)
        self._sign(state, pool, [r for r in state.changed if r != "timestamp"], sign)
        return self.staging.stage(
            directory, state, force=stage or not sign, now=now, expires=expires
        )

    def _commit_online(
        self,
        directory: Path,
        state: RepoState,
        *,
        timestamp_now: datetime | None = None,
        policy: ExpiryPolicy | None = None,
    ) -> WriteResult:
        """Online roles on the published state: sign, timestamp the snapshot, write."""
        pool = SignerPool(self.keys)
        self._sign(state, pool, [r for r in state.changed if r != "timestamp"], True)
        if timestamp_now is not None:
            # the bytes clients will download: new ones if written now, else the file's own
            snap = (
                repo_dir.serialize(state.snapshot)
                if "snapshot" in state.changed or state.snapshot_bytes is None
                else state.snapshot_bytes
            )
            online.update_timestamp(state, snap, now=timestamp_now, policy=policy or ExpiryPolicy())
            self._sign(state, pool, ["timestamp"], True)
        return self._write(directory, state)

    def _write(self, directory: Path, state: RepoState) -> WriteResult:
        """Write the changed roles; the result reports each one's thresholds."""
        changes = tuple(
            role_change(state, r, directory / repo_dir.files_for_role(state, r)[0])
            for r in state.changed
        )
        written = repo_dir.write_changed(directory, state, progress=self.progress)
        return WriteResult(directory, changes, tuple(written), self.names())

    # -- repo init -----------------------------------------------------------------

    def init(
        self,
        directory: Path,
        *,
        keys: dict[str, Sequence[str]],
        thresholds: dict[str, int] | None = None,
        expires: str | None = None,
        consistent_snapshot: bool = False,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        """Version-1 metadata for root, targets, snapshot and timestamp in ``directory``."""
        if (directory / "root.json").exists():
            raise InputError(f"{directory}: already holds a repository (root.json exists)")
        if staging_area.staged_path(directory, "root").exists():
            raise InputError(
                f"{directory}: a new repository is already staged here (staged/root.json)",
                hint="publish it once signed, or discard it first",
            )
        if directory.exists() and not directory.is_dir():
            raise InputError(f"{directory}: exists and is not a directory")
        policy = ExpiryPolicy.parse(expires, known_roles=tuple(sorted(TOP_LEVEL_ROLE_NAMES)))
        resolved: dict[str, Sequence[Key]] = {role: self._keys(refs) for role, refs in keys.items()}
        state = rootops.new_repository(
            keys=resolved,
            thresholds=thresholds or {},
            now=_now(now),
            policy=policy,
            consistent_snapshot=consistent_snapshot,
        )
        pool = SignerPool(self.keys)
        self._sign(state, pool, ["root", "targets", "snapshot"], sign)
        snap = repo_dir.serialize(state.snapshot)
        online.update_timestamp(state, snap, now=_now(now), policy=policy)
        state.timestamp.signed.version = 1
        self._sign(state, pool, ["timestamp"], sign)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{directory}: cannot create directory: {e.strerror}") from e
        result = self.staging.stage(directory, state, force=stage or not sign, now=now)
        return replace(result, warnings=threshold_guard(state, ("root", "targets")))

    # -- root ----------------------------------------------------------------------

    def root_add_key(
        self,
        directory: Path,
        refs: Sequence[str],
        *,
        role: str = "root",
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        keys = self._keys(refs)
        policy = ExpiryPolicy.parse(expires)
        rootops.add_root_keys(state, role, keys, now=_now(now), policy=policy)
        return self._commit(directory, state, sign=sign, stage=stage)

    def root_remove_key(
        self,
        directory: Path,
        refs: Sequence[str],
        *,
        role: str = "root",
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        keyids = [self._keyid_in_root(state, role, r) for r in refs]
        policy = ExpiryPolicy.parse(expires)
        rootops.remove_root_keys(state, role, keyids, now=_now(now), policy=policy)
        return self._commit(directory, state, sign=sign, stage=stage)

    def _keyid_in_root(self, state: RepoState, role: str, ref: str) -> str:
        """A key to remove may be gone from the store: accept a keyid (prefix) from root."""
        role_keys = state.root.signed.roles[role].keyids if role in state.root.signed.roles else []
        matches = [k for k in role_keys if len(ref) >= 8 and k.startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
        return resolve_key(self.keys, ref).keyid

    def root_threshold(
        self,
        directory: Path,
        threshold: int,
        *,
        role: str = "root",
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        policy = ExpiryPolicy.parse(expires)
        rootops.set_threshold(state, role, threshold, now=_now(now), policy=policy)
        result = self._commit(directory, state, sign=sign, stage=stage)
        return replace(result, warnings=threshold_guard(state, (role,)))

    def root_expire(
        self,
        directory: Path,
        *,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        policy = ExpiryPolicy.parse(expires)
        rootops.set_root_expiry(state, now=_now(now), policy=policy)
        return self._commit(directory, state, sign=sign, stage=stage)

    def root_rotate(
        self,
        directory: Path,
        *,
        old: Sequence[str],
        new: Sequence[str],
        role: str = "root",
        threshold: int | None = None,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        remove = [self._keyid_in_root(state, role, r) for r in old]
        add = self._keys(new)
        policy = ExpiryPolicy.parse(expires)
        rootops.rotate_keys(
            state, role, remove=remove, add=add, threshold=threshold, now=_now(now), policy=policy
        )
        result = self._commit(directory, state, sign=sign, stage=stage)
        guard = threshold_guard(state, (role,)) if threshold is not None else ()
        return replace(result, warnings=guard)

    def root_change_state(
        self,
        directory: Path,
        *,
        old: Sequence[str] = (),
        new: Sequence[str] = (),
        threshold: int | None = None,
        expires: str | None = None,
        now: datetime | None = None,
    ) -> RepoState:
        """The working repository with one new root version applied; nothing is written.

        Keys replaced, added or removed as ``root rotate`` does (threshold too), else a new
        root threshold as ``root threshold``, else only a new expiry as ``root expire``.
        """
        state = self.working(directory)
        policy = ExpiryPolicy.parse(expires)
        when = _now(now)
        if old or new:
            remove = [self._keyid_in_root(state, "root", r) for r in old]
            rootops.rotate_keys(
                state,
                "root",
                remove=remove,
                add=self._keys(new),
                threshold=threshold,
                now=when,
                policy=policy,
            )
        elif threshold is not None and threshold != state.root.signed.roles["root"].threshold:
            rootops.set_threshold(state, "root", threshold, now=when, policy=policy)
        elif expires:
            rootops.set_root_expiry(state, now=when, policy=policy)
        else:
            raise InputError(
                "nothing to change: choose root keys to remove or add, a new threshold "
                "or a new expiry"
            )
        return state

    def root_commit(
        self, directory: Path, state: RepoState, *, sign: bool = True, stage: bool = False
    ) -> WriteResult:
        """Write a state made by :meth:`root_change_state` (staged unless all signed here)."""
        result = self._commit(directory, state, sign=sign, stage=stage)
        return replace(result, warnings=threshold_guard(state, ("root",)))

    # -- delegations ---------------------------------------------------------------

    def delegation_add(
        self,
        directory: Path,
        role: str,
        *,
        keys: Sequence[str],
        delegator: str = "targets",
        threshold: int = 1,
        paths: Sequence[str] | None = None,
        hash_prefixes: Sequence[str] | None = None,
        terminating: bool = False,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        resolved = self._keys(keys)
        deleg.add_delegation(
            state,
            role,
            delegator=delegator,
            keys=resolved,
            threshold=threshold,
            paths=paths,
            hash_prefixes=hash_prefixes,
            terminating=terminating,
            now=_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        return self._commit(directory, state, sign=sign, stage=stage)

    def delegation_remove(
        self,
        directory: Path,
        role: str,
        *,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        deleg.remove_delegation(state, role, now=_now(now), policy=ExpiryPolicy.parse(expires))
        return self._commit(directory, state, sign=sign, stage=stage)

    def delegation_keys(
        self,
        directory: Path,
        role: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        threshold: int | None = None,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        """Add/remove keys of delegated ``role`` (``PREFIX-*``: succinct bins), set its
        threshold; ``remove`` takes keyids, keyid prefixes, names or public key files."""
        if not add and not remove and threshold is None:
            raise InputError(f"role {role!r}: give keys to add or remove, or a threshold")
        state = self.working(directory)
        keyids = deleg.delegation_of(state, role)[1].keyids
        gone = [self.delegation_keyid(ref, keyids) for ref in remove]
        deleg.change_delegation_keys(
            state,
            role,
            add=self._keys(add),
            remove=gone,
            threshold=threshold,
            now=_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        return self._commit(directory, state, sign=sign, stage=stage)

    def delegation_keyid(self, ref: str, keyids: Sequence[str]) -> str:
        """The one of ``keyids`` that ``ref`` names (the key need not be in this store)."""
        names = self.names()
        hits = [k for k in keyids if k.startswith(ref.lower()) or names.get(k) == ref]
        if len(hits) == 1 and (len(ref) >= 4 or names.get(hits[0]) == ref):
            return hits[0]
        if not hits and ("/" in ref or Path(ref).is_file()):
            return resolve_key(self.keys, ref).keyid
        shown = ", ".join(names.get(k, k[:8]) for k in keyids)
        raise InputError(f"key {ref!r} names none (or several) of the role's keys: {shown}")

    def delegation_list(self, directory: Path) -> list[deleg.DelegationInfo]:
        return deleg.delegation_tree(self.load(directory))

    def delegation_bins(
        self,
        directory: Path,
        *,
        count: int,
        keys: Sequence[str],
        delegator: str = "targets",
        threshold: int = 1,
        name_prefix: str = "bins",
        style: deleg.BinStyle = "succinct",
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> WriteResult:
        state = self.working(directory)
        resolved = self._keys(keys)
        deleg.add_bins(
            state,
            delegator=delegator,
            count=count,
            keys=resolved,
            threshold=threshold,
            name_prefix=name_prefix,
            style=style,
            now=_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        return self._commit(directory, state, sign=sign, stage=stage)

    # -- targets -------------------------------------------------------------------

    def targets_add(
        self,
        directory: Path,
        files: Sequence[str | Path],
        *,
        base: Path | None = None,
        role: str | None = None,
        custom: Mapping[str, Any] | None = None,
        targets_dir: Path | None = None,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> tuple[WriteResult, dict[str, list[str]]]:
        """Add target files (directories: every file under them); the target path is the
        path relative to ``base`` (default cwd). With consistent snapshots, the
        ``<sha256>.<name>`` copies clients fetch go to ``targets_dir`` (default
        ``DIR/../targets``) before any metadata names them."""
        state = self.working(directory)
        consistent = state.root.signed.consistent_snapshot
        if targets_dir is not None and not consistent:
            raise InputError(
                f"--targets-dir: {directory} does not use consistent snapshots "
                "(clients fetch targets by their own names from where you publish them)"
            )
        copies_dir = targets_dir or target_files.default_targets_dir(directory)
        local = target_files.collect(files, base or Path.cwd(), targets_dir=copies_dir)
        hashed = self._hash_targets(local)
        entries = [
            targetsops.new_target(t.path, length, hashes, custom) for t, length, hashes in hashed
        ]
        placed = targetsops.add_targets(
            state, entries, role=role, now=_now(now), policy=ExpiryPolicy.parse(expires)
        )
        if consistent:
            copies = [(t, length, hashes["sha256"]) for t, length, hashes in hashed]
            target_files.write_hashed_copies(copies_dir, copies, progress=self.progress)
        return self._commit(directory, state, sign=sign, stage=stage), placed

    def _hash_targets(
        self, local: Sequence[target_files.LocalTarget]
    ) -> list[tuple[target_files.LocalTarget, int, dict[str, str]]]:
        out = []
        for n, target in enumerate(local, 1):
            length, hashes = repo_dir.hash_file(target.file)
            out.append((target, length, hashes))
            report_every(self.progress, "hashing targets", n, len(local))
        return out

    def targets_remove(
        self,
        directory: Path,
        paths: Sequence[str],
        *,
        role: str | None = None,
        expires: str | None = None,
        sign: bool = True,
        stage: bool = False,
        now: datetime | None = None,
    ) -> tuple[WriteResult, dict[str, list[str]]]:
        state = self.working(directory)
        removed = targetsops.remove_targets(
            state, paths, role=role, now=_now(now), policy=ExpiryPolicy.parse(expires)
        )
        return self._commit(directory, state, sign=sign, stage=stage), removed

    def targets_list(
        self, directory: Path, *, role: str | None = None
    ) -> list[targetsops.TargetEntry]:
        return targetsops.list_targets(self.load(directory), role)

    # -- online roles, refresh, signing, status --------------------------------------

    def snapshot(
        self, directory: Path, *, expires: str | None = None, now: datetime | None = None
    ) -> WriteResult:
        state = repo_dir.load_repo(directory, entries=False)  # versions, not target entries
        online.update_snapshot(state, now=_now(now), policy=ExpiryPolicy.parse(expires))
        return self._commit_online(directory, state)

    def timestamp(
        self, directory: Path, *, expires: str | None = None, now: datetime | None = None
    ) -> WriteResult:
        """New timestamp of the current snapshot; reads root, timestamp and snapshot only."""
        inputs = repo_dir.load_for_timestamp(directory)
        md = inputs.timestamp
        online.stamp(
            md,
            inputs.snapshot_version,
            inputs.snapshot_bytes,
            now=_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        root = inputs.root.signed
        apply_signatures(md, SignerPool(self.keys).signers(root.roles["timestamp"].keyids))
        path = directory / "timestamp.json"
        atomic_write(path, repo_dir.serialize(md))
        change = RoleChange(
            role="timestamp",
            version=md.signed.version,
            expires=md.signed.expires,
            signed_by=tuple(sorted(md.signatures)),
            checks=role_checks(root, "timestamp", md),
            file=path,
        )
        return WriteResult(directory, (change,), (path,), self.names())

    def refresh(
        self,
        directory: Path,
        *,
        roles: Sequence[str] = (),
        expires: str | None = None,
        now: datetime | None = None,
    ) -> WriteResult:
        """New version and expiry, re-signed: the given roles, then snapshot, then timestamp.

        No role: targets (only when this store can sign it by threshold and nothing
        is staged, so an online machine holding only the snapshot and timestamp keys
        never touches targets), snapshot, timestamp. Roles other than snapshot and
        timestamp change like any other command (staged unless fully signed here);
        a role with a staged change is refused. ``root`` stages a root version alone.
        Roles may be globs (``bins-*``).
        """
        policy = ExpiryPolicy.parse(expires)
        when = _now(now)
        if list(roles) == ["root"]:
            state = self.working(directory)
            rootops.set_root_expiry(state, now=when, policy=policy)
            return self._commit(directory, state)
        state = self.load(directory)
        staged = set(staging_area.read_staged(directory))
        wanted = self._expand_roles(state, roles)
        busy = [r for r in wanted if r in staged]
        if busy:
            raise InputError(
                f"{directory}: {', '.join(busy)} has a staged change; refreshing the published "
                "version would race it",
                hint="publish or discard the staged change first",
            )
        if not wanted:
            wanted = ["snapshot"]
            threshold = state.root.signed.roles["targets"].threshold
            signable = SignerPool(self.keys).available(authorized_keys(state, "targets"))
            if len(signable) >= threshold and not staged:
                wanted.insert(0, "targets")
        if "root" in wanted:
            raise InputError("refresh --role root stages a root version alone; give it alone")
        offline = [r for r in wanted if r not in ("snapshot", "timestamp")]
        if offline:
            # like any change: staged unless fully signed here; publish renews snapshot, timestamp
            state = self.working(directory)
            for role in offline:
                state.touch(role, when, policy)
            return self._commit(directory, state, expires=expires, now=when)
        if "timestamp" not in wanted or len(wanted) > 1:
            online.update_snapshot(state, now=when, policy=policy)
        return self._commit_online(directory, state, timestamp_now=when, policy=policy)

    @staticmethod
    def _expand_roles(state: RepoState, patterns: Sequence[str]) -> list[str]:
        """Role names, ``*`` globs allowed (``bins-*``); unknown names are refused."""
        known = state.all_roles()
        out: list[str] = []
        for pattern in patterns:
            if "*" in pattern:
                matched = [r for r in known if fnmatch.fnmatchcase(r, pattern)]
                if not matched:
                    raise InputError(f"no role of this repository matches {pattern!r}")
            else:
                state.role(pattern)  # refuses unknown roles before any change
                matched = [pattern]
            out += [r for r in matched if r not in out]
        return out

    def sign(self, file: Path, key: str) -> SignResult:
        """Add one signature to a metadata file (keeps every other signature)."""
        return sign_file(self.keys, file, key, names=self.names())

    def status(
        self, directory: Path, *, now: datetime | None = None, warn_days: int = 30
    ) -> RepoStatus:
        """The published repository's status, and the staged roles' beside it."""
        return self.staging.status(directory, now=_now(now), warn_days=warn_days)

    def root_info(self, directory: Path) -> tuple[Root, RepoStatus]:
        state = self.load(directory)
        return state.root.signed, repo_status(state, now=_now(None), names=self.names())

    # -- the staging area (see StagingService) -----------------------------------------

    def staged(self, directory: Path) -> list[StagedRole]:
        return self.staging.staged(directory)

    def diff(self, directory: Path, role: str | None = None) -> list[RoleDiff]:
        return self.staging.diff(directory, role)

    def sign_staged(self, directory: Path, role: str, key_ref: str) -> SignResult:
        return self.staging.sign_staged(directory, role, key_ref)

    def merge(self, directory: Path, files: Sequence[Path]) -> MergeResult:
        return self.staging.merge(directory, files)

    def discard(self, directory: Path, role: str | None = None) -> list[str]:
        return self.staging.discard(directory, role)

    def publish(
        self, directory: Path, *, now: datetime | None = None, expires: str | None = None
    ) -> WriteResult:
        return self.staging.publish(directory, now=now, expires=expires)
