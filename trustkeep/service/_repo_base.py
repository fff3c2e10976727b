"""The repository service's shared steps: resolve keys, load, sign, stage or write.

:class:`RepoBase` holds them; the root and delegation operations (``_repo_root``,
``_repo_delegations``) and :class:`~trustkeep.service.repo.RepoService` build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from securesystemslib.signer import Key
from tuf.api.metadata import Metadata, Root

from trustkeep.adapters import repo_dir, staging_area
from trustkeep.core.progress import Progress, no_progress, report_every
from trustkeep.core.tuf_repo import online
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import root_checks, unmet_lines
from trustkeep.errors import TrustFailure
from trustkeep.service._repo_support import (
    ResolvedKey,
    SignerPool,
    WriteResult,
    authorized_keys,
    online_keyids,
    resolve_key,
    role_change,
)
from trustkeep.service.staging import StagingService

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = ["RepoBase"]


class RepoBase:
    """``RepoBase(keys)``: what every repository operation needs."""

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

    def _sign(
        self,
        state: RepoState,
        pool: SignerPool,
        roles: Sequence[str],
        sign: bool,
        ahead: Sequence[str] = (),
    ) -> None:
        """Sign ``roles`` with the keys of this store; ``ahead``: keyids needed next (the
        online keys of a publish), unlocked together with the roles' own."""
        if not sign:
            return
        keys = [authorized_keys(state, role) for role in roles]
        pool.prefetch([*{k for authorized in keys for k in authorized}, *ahead])
        for n, (role, authorized) in enumerate(zip(roles, keys, strict=True), 1):
            state.sign_role(role, pool.signers(authorized))
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
        pool: SignerPool | None = None,
    ) -> WriteResult:
        """Sign the changed roles, stage them, and publish at once when nothing is missing.

        ``expires`` / ``now``: of the snapshot and timestamp that publishing writes.
        ``pool``: signers the command has started unlocking already.
        """
        pool = pool or SignerPool(self.keys)
        force = stage or not sign
        publishing = not force and not state.staged  # then snapshot and timestamp are signed
        self._sign(
            state,
            pool,
            [r for r in state.changed if r != "timestamp"],
            sign,
            ahead=online_keyids(state) if publishing else (),
        )
        return self.staging.stage(
            directory, state, force=force, now=now, expires=expires, pool=pool
        )

    def _require_verified_root(
        self, directory: Path, root: Metadata[Root], previous: Metadata[Root] | None
    ) -> None:
        """Online keys sign only under a root that clients accept: its own threshold, and
        root N-1's when that file is there (what publish requires of a staged change).
        A root.json edited or published short of signatures is refused, exit 1."""
        checks = root_checks(root, previous.signed if previous is not None else None)
        if all(c.verified for c in checks):
            return
        unmet = unmet_lines("root", root.signed.version, checks, self.names())
        raise TrustFailure(
            f"{directory}: nothing signed: the published root does not verify: " + "; ".join(unmet),
            hint=f"online keys sign only under a root that verifies; "
            f"'trustkeep status {directory}' shows its signatures",
        )

    def _commit_online(
        self,
        directory: Path,
        state: RepoState,
        *,
        timestamp_now: datetime | None = None,
        policy: ExpiryPolicy | None = None,
        pool: SignerPool | None = None,
    ) -> WriteResult:
        """Online roles on the published state: sign, timestamp the snapshot, write."""
        self._require_verified_root(directory, state.root, state.previous_root)
        pool = pool or SignerPool(self.keys)
        ahead = online_keyids(state) if timestamp_now is not None else ()
        self._sign(state, pool, [r for r in state.changed if r != "timestamp"], True, ahead)
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
