"""The online roles: snapshot records every targets role's version, timestamp the snapshot."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tuf.api.metadata import MetaFile

from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState

__all__ = ["update_snapshot", "update_timestamp"]


def update_snapshot(state: RepoState, *, now: datetime, policy: ExpiryPolicy) -> None:
    """New snapshot version listing the current version of targets and every delegated role.

    Roles no longer delegated keep their last entry: clients refuse a snapshot that drops
    a role the previous one listed.
    """
    meta = dict(state.snapshot.signed.meta)
    meta["targets.json"] = MetaFile(version=state.targets.signed.version)
    for name, md in state.delegated.items():
        meta[f"{name}.json"] = MetaFile(version=md.signed.version)
    state.touch("snapshot", now, policy)
    state.snapshot.signed.meta = meta


def update_timestamp(
    state: RepoState, snapshot_bytes: bytes, *, now: datetime, policy: ExpiryPolicy
) -> None:
    """New timestamp version recording snapshot's version, length and sha256 of its bytes."""
    state.touch("timestamp", now, policy)
    state.timestamp.signed.snapshot_meta = MetaFile(
        version=state.snapshot.signed.version,
        length=len(snapshot_bytes),
        hashes={"sha256": hashlib.sha256(snapshot_bytes).hexdigest()},
    )
