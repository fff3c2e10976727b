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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securesystemslib.signer import Key
from tuf.api.metadata import TOP_LEVEL_ROLE_NAMES, Root

from trustkeep.adapters import repo_dir, staging_area, target_files
from trustkeep.adapters.atomic import atomic_write
from trustkeep.core.progress import report_every
from trustkeep.core.tuf_repo import online, rootops, targetsops
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.staging import RoleDiff
from trustkeep.core.tuf_repo.state import RepoState, apply_signatures
from trustkeep.core.tuf_repo.status import RepoStatus, repo_status, role_checks
from trustkeep.errors import InputError, StorageError
from trustkeep.service._repo_delegations import DelegationOperations
from trustkeep.service._repo_root import RootOperations
from trustkeep.service._repo_sign import sign_file
from trustkeep.service._repo_support import (
    RoleChange,
    SignerPool,
    SignResult,
    WriteResult,
    authorized_keys,
    likely_targets_keyids,
    threshold_guard,
    utc_now,
)
from trustkeep.service.staging import MergeResult, StagedRole

if TYPE_CHECKING:
    pass

__all__ = ["RepoService", "RoleChange", "SignResult", "WriteResult"]


class RepoService(RootOperations, DelegationOperations):
    """``RepoService(keys)``; every method takes the repository directory first."""

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
            now=utc_now(now),
            policy=policy,
            consistent_snapshot=consistent_snapshot,
        )
        pool = SignerPool(self.keys)
        self._sign(state, pool, ["root", "targets", "snapshot"], sign)
        snap = repo_dir.serialize(state.snapshot)
        online.update_timestamp(state, snap, now=utc_now(now), policy=policy)
        state.timestamp.signed.version = 1
        self._sign(state, pool, ["timestamp"], sign)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{directory}: cannot create directory: {e.strerror}") from e
        result = self.staging.stage(directory, state, force=stage or not sign, now=now)
        return replace(result, warnings=threshold_guard(state, ("root", "targets")))

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
        pool = SignerPool(self.keys)  # the likely keys unlock while the files are hashed
        if sign:
            pool.prefetch(likely_targets_keyids(state, online=not stage and not state.staged))
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
            state, entries, role=role, now=utc_now(now), policy=ExpiryPolicy.parse(expires)
        )
        if consistent:
            copies = [(t, length, hashes["sha256"]) for t, length, hashes in hashed]
            target_files.write_hashed_copies(copies_dir, copies, progress=self.progress)
        return self._commit(directory, state, sign=sign, stage=stage, pool=pool), placed

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
            state, paths, role=role, now=utc_now(now), policy=ExpiryPolicy.parse(expires)
        )
        return self._commit(directory, state, sign=sign, stage=stage), removed

    def targets_list(
        self, directory: Path, *, role: str | None = None
    ) -> list[targetsops.TargetEntry]:
        return targetsops.list_targets(self.load(directory), role)

    # -- online roles, refresh, signing, status --------------------------------------

    def snapshot(
        self,
        directory: Path,
        *,
        expires: str | None = None,
        now: datetime | None = None,
        pool: SignerPool | None = None,
    ) -> WriteResult:
        """New snapshot of the current roles. ``pool``: signers to use (from
        ``Service.signers_ahead``); the snapshot keys unlock while the roles load."""
        pool = pool or SignerPool(self.keys)
        state = repo_dir.load_repo(  # versions, not target entries
            directory,
            entries=False,
            on_root=lambda root: pool.prefetch(root.signed.roles["snapshot"].keyids),
        )
        online.update_snapshot(state, now=utc_now(now), policy=ExpiryPolicy.parse(expires))
        return self._commit_online(directory, state, pool=pool)

    def timestamp(
        self,
        directory: Path,
        *,
        expires: str | None = None,
        now: datetime | None = None,
        pool: SignerPool | None = None,
    ) -> WriteResult:
        """New timestamp of the current snapshot; reads root, timestamp and snapshot only.
        ``pool``: as for :meth:`snapshot`."""
        pool = pool or SignerPool(self.keys)  # the timestamp keys unlock while it reads
        inputs = repo_dir.load_for_timestamp(
            directory, on_root=lambda root: pool.prefetch(root.signed.roles["timestamp"].keyids)
        )
        self._require_verified_root(directory, inputs.root, inputs.previous_root)
        md = inputs.timestamp
        online.stamp(
            md,
            inputs.snapshot_version,
            inputs.snapshot_bytes,
            now=utc_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        root = inputs.root.signed
        apply_signatures(md, pool.signers(root.roles["timestamp"].keyids))
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
        when = utc_now(now)
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
        return self.staging.status(directory, now=utc_now(now), warn_days=warn_days)

    def root_info(self, directory: Path) -> tuple[Root, RepoStatus]:
        state = self.load(directory)
        return state.root.signed, repo_status(state, now=utc_now(None), names=self.names())

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
