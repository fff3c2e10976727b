"""The online roles: snapshot records every targets role's version, timestamp the snapshot."""

from __future__ import annotations

import hashlib
from datetime import datetime

from tuf.api.metadata import Metadata, MetaFile, Timestamp

from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState

__all__ = [
    "recorded_snapshot_version",
    "snapshot_meta",
    "stamp",
    "update_snapshot",
    "update_timestamp",
]


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
    stamp(state.timestamp, state.snapshot.signed.version, snapshot_bytes, now=now, policy=policy)
    state.fresh.pop("timestamp", None)
    state.mark("timestamp")


def snapshot_meta(version: int, snapshot_bytes: bytes) -> MetaFile:
    """What timestamp records of the snapshot: its version, and the length and sha256 of
    the bytes clients download."""
    return MetaFile(
        version=version,
        length=len(snapshot_bytes),
        hashes={"sha256": hashlib.sha256(snapshot_bytes).hexdigest()},
    )


def stamp(
    timestamp: Metadata[Timestamp],
    snapshot_version: int,
    snapshot_bytes: bytes,
    *,
    now: datetime,
    policy: ExpiryPolicy,
) -> None:
    """A new timestamp version (timestamp is never amended), expiry, no signatures, recording
    the snapshot: on the timestamp alone, all ``trustkeep timestamp`` needs to read."""
    timestamp.signed.version += 1
    timestamp.signed.expires = policy.expires("timestamp", now)
    timestamp.signatures.clear()
    timestamp.signed.snapshot_meta = snapshot_meta(snapshot_version, snapshot_bytes)


def recorded_snapshot_version(timestamp: Timestamp, snapshot_bytes: bytes) -> int | None:
    """The snapshot version ``timestamp`` records, when it records exactly these bytes."""
    meta = timestamp.snapshot_meta
    if meta.length != len(snapshot_bytes) or meta.hashes is None or "sha256" not in meta.hashes:
        return None
    if hashlib.sha256(snapshot_bytes).hexdigest() != meta.hashes["sha256"]:
        return None
    return meta.version
