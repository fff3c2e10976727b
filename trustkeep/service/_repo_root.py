"""Root operations of the repository service: keys, thresholds, expiry, rotation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from trustkeep.core.tuf_repo import rootops
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.errors import InputError
from trustkeep.service._repo_base import RepoBase
from trustkeep.service._repo_support import (
    WriteResult,
    resolve_key,
    threshold_guard,
    utc_now,
)

__all__ = ["RootOperations"]


class RootOperations(RepoBase):
    """Each method stages root N+1 (published at once when this store signs it fully)."""

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
        rootops.add_root_keys(state, role, keys, now=utc_now(now), policy=policy)
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
        rootops.remove_root_keys(state, role, keyids, now=utc_now(now), policy=policy)
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
        rootops.set_threshold(state, role, threshold, now=utc_now(now), policy=policy)
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
        rootops.set_root_expiry(state, now=utc_now(now), policy=policy)
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
            state,
            role,
            remove=remove,
            add=add,
            threshold=threshold,
            now=utc_now(now),
            policy=policy,
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
        when = utc_now(now)
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
