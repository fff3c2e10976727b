"""Delegation operations of the repository service: roles, their keys, hashed bins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from trustkeep.core.tuf_repo import delegation as deleg
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.errors import InputError
from trustkeep.service._repo_base import RepoBase
from trustkeep.service._repo_support import (
    WriteResult,
    resolve_key,
    utc_now,
)

__all__ = ["DelegationOperations"]


class DelegationOperations(RepoBase):
    """Each method writes a new version of the delegator (staged unless signed here)."""

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
            now=utc_now(now),
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
        deleg.remove_delegation(state, role, now=utc_now(now), policy=ExpiryPolicy.parse(expires))
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
            now=utc_now(now),
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
            now=utc_now(now),
            policy=ExpiryPolicy.parse(expires),
        )
        return self._commit(directory, state, sign=sign, stage=stage)
