"""One client session: the I/O shell around :class:`TrustedState` (spec §5.3 in order).

Fetches through :class:`~trustkeep.adapters.http.Fetcher`, reads and writes the
local state through :mod:`trustkeep.adapters.client_dir`; every trust decision is
the core's. What the core accepted is persisted at once (partial progress is
kept: a snapshot that fails leaves the new timestamp trusted), as the exact bytes
received. Local files are tried first and re-checked against the final root's
keys; one that fails is ignored, which is what makes fast-forward recovery work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tuf.api.metadata import TargetFile, Targets

from trustkeep.adapters.client_dir import MetadataDir, TargetDir
from trustkeep.adapters.http import Fetcher, HTTPStatusError, Progress, TooLarge, join_url
from trustkeep.core.client import (
    MAX_ROLES,
    ClientError,
    EqualVersion,
    Found,
    TrustedState,
    check_length_and_hashes,
    find_target,
    metadata_path,
    target_file_name,
    target_path,
)
from trustkeep.core.verify._envelope import digest
from trustkeep.errors import InputError

__all__ = ["ClientSession", "Limits", "TargetResult"]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Size limits (bytes) where the metadata records no length, and search bounds."""

    root: int = 512_000
    timestamp: int = 16_384
    snapshot: int = 2_000_000
    targets: int = 5_000_000
    root_rotations: int = 256  # as python-tuf
    lookup_roles: int = MAX_ROLES
    mirror_roles: int = 4096


@dataclass(frozen=True)
class TargetResult:
    path: str
    file: Path
    length: int
    fetched: bool  # False: the file already in the target directory matched


class ClientSession:
    """``refresh()``, then ``find(path)`` / ``download(found)`` / ``mirror()`` on one state."""

    def __init__(
        self,
        *,
        metadata_dir: Path,
        metadata_url: str,
        at: datetime,
        fetcher: Fetcher | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.dir = MetadataDir(metadata_dir)
        self.url = metadata_url
        self.at = at
        self.fetcher = fetcher or Fetcher()
        self.limits = limits or Limits()
        self.state: TrustedState | None = None
        self.delegators: dict[str, str] = {"targets": "root"}

    # -- top-level refresh ------------------------------------------------------------

    def start(self) -> TrustedState:
        """The local root, self-signed by its threshold, before any request."""
        data = self.dir.read("root", limit=self.limits.root)
        if data is None:
            raise InputError(
                f"{self.dir.file('root')}: no trusted root",
                hint="give a trust anchor (--root FILE, or the client's init command)",
            )
        self.state = TrustedState(data, at=self.at)
        return self.state

    def refresh(self) -> TrustedState:
        state = self.state or self.start()
        self._update_root(state)
        state.final_root()
        self._update_timestamp(state)
        self._update_snapshot(state)
        self.load_role("targets", "root")
        return state

    def _fetch(self, role: str, version: int | None, limit: int) -> bytes:
        url = join_url(self.url, metadata_path(role, version))
        try:
            return self.fetcher.fetch(url, limit=limit)
        except TooLarge as e:
            raise ClientError("length-mismatch", role, f"{url}: more than {limit} bytes") from e

    def _update_root(self, state: TrustedState) -> None:
        first = state.root.signed.version + 1
        for version in range(first, first + self.limits.root_rotations):
            if self._local_root(state, version):
                continue
            try:
                data = self._fetch("root", version, self.limits.root)
            except HTTPStatusError as e:
                if e.status in (403, 404):
                    return
                raise
            state.update_root(data)
            self.dir.write_root(version, data)

    def _local_root(self, state: TrustedState, version: int) -> bool:
        """Root ``version`` from ``root_history/`` when it is there and verifies (no request).

        root.json is written after its history copy, so an interrupted run can leave
        root.json one version behind; the copy is checked like a downloaded root.
        """
        data = self.dir.read_root(version, limit=self.limits.root)
        if data is None:
            return False
        try:
            state.update_root(data)
        except ClientError:
            return False
        self.dir.write_root(version, data)
        return True

    def _update_timestamp(self, state: TrustedState) -> None:
        local = self.dir.read("timestamp", limit=self.limits.timestamp)
        if local is not None:
            # an expired local timestamp stays trusted as the rollback reference
            with contextlib.suppress(ClientError):
                state.update_timestamp(local)
        data = self._fetch("timestamp", None, self.limits.timestamp)
        try:
            state.update_timestamp(data)
        except EqualVersion:
            return  # the trusted timestamp is kept as it is on disk
        self.dir.write("timestamp", data)

    def _update_snapshot(self, state: TrustedState) -> None:
        assert state.timestamp is not None
        meta = state.timestamp.signed.snapshot_meta
        # the local copy may be a stale, larger snapshot: still the rollback reference
        local = self.dir.read("snapshot", limit=max(meta.length or 0, self.limits.snapshot))
        if local is not None:
            try:
                state.update_snapshot(local, local=True)
                return  # valid, and the version the timestamp records
            except ClientError:
                pass  # kept as rollback reference when it verified
        version = meta.version if state.root.signed.consistent_snapshot else None
        data = self._fetch("snapshot", version, meta.length or self.limits.snapshot)
        state.update_snapshot(data)
        self.dir.write("snapshot", data)

    # -- targets roles --------------------------------------------------------------

    def load_role(self, role: str, delegator: str) -> Targets:
        """``role`` verified against ``delegator``: trusted, else local, else fetched."""
        state = self._state()
        trusted = state.targets(role)
        if trusted is not None and state.contains(role, delegator):
            return trusted.signed
        limit = self.limits.targets
        meta = state.recorded(role)
        if meta is not None and meta.length:
            limit = meta.length
        local = self.dir.read(role, limit=limit)
        if local is not None:
            try:
                return state.update_targets(local, role, delegator).signed
            except ClientError:
                pass
        if meta is None:
            raise ClientError(
                "missing-role", role, f"{delegator} delegates {role}: not in snapshot"
            )
        version = meta.version if state.root.signed.consistent_snapshot else None
        data = self._fetch(role, version, limit)
        loaded = state.update_targets(data, role, delegator)
        self.dir.write(role, data)
        self.delegators.setdefault(role, delegator)
        return loaded.signed

    def _state(self) -> TrustedState:
        if self.state is None:
            raise RuntimeError("refresh() first")
        return self.state

    def find(self, path: str) -> Found:
        found = find_target(path, self._load_recording, max_roles=self.limits.lookup_roles)
        if found is None:
            raise ClientError("missing-role", None, f"no trusted role lists target {path!r}")
        return found

    def _load_recording(self, role: str, delegator: str) -> Targets:
        targets = self.load_role(role, delegator)
        self.delegators.setdefault(role, delegator)
        return targets

    def mirror(self) -> int:
        """Every delegated role, pre-order, each once, verified on its first path."""
        seen = {"targets"}
        stack = list(reversed(list(_children(self.load_role("targets", "root"), "targets"))))
        while stack:
            role, delegator = stack.pop()
            if role in seen:
                continue
            if len(seen) >= self.limits.mirror_roles:
                raise ClientError(
                    "malformed", role, f"more than {self.limits.mirror_roles} delegated roles"
                )
            seen.add(role)
            targets = self._load_recording(role, delegator)
            stack.extend(reversed(list(_children(targets, role))))
        return len(seen)

    # -- target files ---------------------------------------------------------------

    def download(
        self,
        found: Found,
        *,
        target_dir: Path,
        targets_url: str,
        progress: Progress | None = None,
    ) -> TargetResult:
        """The target, verified (length, every hash) before it is written; cached if it matches."""
        info = found.target
        _known_hashes(info, found.role)
        directory = TargetDir(target_dir)
        name = target_file_name(info.path)
        check = _target_check(info, found.role)
        existing = directory.read(name, limit=info.length)
        if existing is not None:
            try:
                check(existing)
                return TargetResult(info.path, directory.path / name, info.length, False)
            except ClientError:
                pass
        consistent = bool(self._state().root.signed.consistent_snapshot)
        url = join_url(targets_url, target_path(info, consistent=consistent))
        try:
            data = self.fetcher.fetch(url, limit=info.length, progress=progress)
        except TooLarge as e:
            raise ClientError(
                "length-mismatch", found.role, f"target {info.path}: more than {info.length} bytes"
            ) from e
        check(data)
        written = directory.write(name, data)
        return TargetResult(info.path, written, info.length, True)


def _children(targets: Targets, role: str) -> Iterator[tuple[str, str]]:
    delegations = targets.delegations
    if delegations is None:
        return
    if delegations.roles is not None:
        for child in delegations.roles:
            yield child, role
    elif delegations.succinct_roles is not None:
        for child in delegations.succinct_roles.get_roles():
            yield child, role


def _known_hashes(info: TargetFile, role: str) -> None:
    for algorithm in info.hashes:
        if digest(algorithm, b"") is None:
            raise ClientError(
                "hash-mismatch", role, f"target {info.path}: unknown hash algorithm {algorithm!r}"
            )


def _target_check(info: TargetFile, role: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        check_length_and_hashes(
            data, length=info.length, hashes=info.hashes, what=f"target {info.path}", role=role
        )

    return check
