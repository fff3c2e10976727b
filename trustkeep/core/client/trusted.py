"""The trusted set: the client workflow of spec §5.3 as a no-I/O state machine.

Bytes go in, verified python-tuf objects come out, or a :class:`ClientError`
whose code is the verification report's. The shell (``service/pull.py``) does the
I/O in the order of the spec and persists exactly what this set accepted. The
reference time is a parameter.

Order: the trusted root (self-signed, expiry not checked) → each root N+1 →
:meth:`TrustedState.final_root` (expiry) → timestamp → snapshot → targets →
delegated targets. A file that fails a check is not added, except where the
spec keeps it as a rollback reference: a timestamp or snapshot that verifies
but is expired (or, for snapshot, not the version the timestamp records) is
kept before the error is raised, so a newer file can still be checked against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from securesystemslib.signer import Key
from tuf.api.metadata import MetaFile, Root, Snapshot, Targets, Timestamp

from trustkeep.core.client.checks import Loaded, check_length_and_hashes, check_threshold, load
from trustkeep.core.client.errors import ClientError, EqualVersion

__all__ = ["TrustedState"]

_Top = TypeVar("_Top", Timestamp, Snapshot)


class TrustedState:
    """``TrustedState(root_bytes, at=...)``; then ``update_*`` in the order of the spec."""

    def __init__(self, root_data: bytes, *, at: datetime) -> None:
        self.at = at
        root = load(root_data, Root, "root")
        role = root.signed.roles["root"]
        count = check_threshold(
            root, keyids=role.keyids, threshold=role.threshold, keys=root.signed.keys, by="root"
        )
        self._root: Loaded[Root] = root
        self._timestamp: Loaded[Timestamp] | None = None
        self._snapshot: Loaded[Snapshot] | None = None
        self._targets: dict[str, Loaded[Targets]] = {}
        self._verified_by: set[tuple[str, str]] = set()  # (delegator, role) pairs
        #: role -> (valid signatures, threshold) of the trusted file
        self.signatures: dict[str, tuple[int, int]] = {"root": (count, role.threshold)}
        #: every root trusted in this run, oldest first, with (signatures, threshold)
        self.roots: list[tuple[Loaded[Root], tuple[int, int]]] = [(root, (count, role.threshold))]

    # -- accessors ---------------------------------------------------------------

    @property
    def root(self) -> Loaded[Root]:
        return self._root

    @property
    def timestamp(self) -> Loaded[Timestamp] | None:
        return self._timestamp

    @property
    def snapshot(self) -> Loaded[Snapshot] | None:
        return self._snapshot

    def targets(self, role: str) -> Loaded[Targets] | None:
        return self._targets.get(role)

    def contains(self, role: str, delegator: str) -> bool:
        """``role`` is trusted as verified against ``delegator``'s keys (diamonds differ)."""
        return (delegator, role) in self._verified_by

    def recorded(self, role: str) -> MetaFile | None:
        """What the trusted snapshot records for ``role`` (None when not listed)."""
        return self._snapshot.signed.meta.get(f"{role}.json") if self._snapshot else None

    # -- root ----------------------------------------------------------------------

    def update_root(self, data: bytes) -> Loaded[Root]:
        """Root N+1: version N+1, signed by N's threshold and by its own (§5.3.4-5.3.6)."""
        if self._timestamp is not None:
            raise RuntimeError("root cannot change after timestamp")
        old = self._root.signed
        new = load(data, Root, "root")
        old_role = old.roles["root"]
        try:
            check_threshold(
                new, keyids=old_role.keyids, threshold=old_role.threshold, keys=old.keys, by="root"
            )
        except ClientError as e:
            raise ClientError(
                "root-rotation-invalid", "root", f"root v{new.signed.version}: {e.message}"
            ) from e
        if new.signed.version != old.version + 1:
            raise ClientError(
                "root-rotation-invalid",
                "root",
                f"root v{old.version} is followed by v{new.signed.version}, not v{old.version + 1}",
            )
        role = new.signed.roles["root"]
        count = check_threshold(
            new, keyids=role.keyids, threshold=role.threshold, keys=new.signed.keys, by="root"
        )
        self._root = new
        self.signatures["root"] = (count, role.threshold)
        self.roots.append((new, (count, role.threshold)))
        return new

    def final_root(self) -> None:
        """The final root must not be expired (§5.3.10), checked after it is persisted."""
        if self._root.signed.is_expired(self.at):
            raise ClientError(
                "expired", "root", f"root v{self._root.signed.version} expired {_when(self._root)}"
            )

    # -- timestamp -----------------------------------------------------------------

    def update_timestamp(self, data: bytes) -> Loaded[Timestamp]:
        """Signed by root's timestamp keys, no rollback; equal version → :class:`EqualVersion`."""
        if self._snapshot is not None:
            raise RuntimeError("timestamp cannot change after snapshot")
        self.final_root()
        new, counted = self._verify_top(data, Timestamp, "timestamp")
        old = self._timestamp
        if old is not None:
            if new.signed.version < old.signed.version:
                raise ClientError(
                    "rollback",
                    "timestamp",
                    f"timestamp v{new.signed.version} is older than trusted v{old.signed.version}",
                )
            if new.signed.version == old.signed.version:
                raise EqualVersion("timestamp", new.signed.version)
            was, now = old.signed.snapshot_meta.version, new.signed.snapshot_meta.version
            if now < was:
                raise ClientError(
                    "rollback",
                    "snapshot",
                    f"timestamp v{new.signed.version} records snapshot v{now}, "
                    f"older than trusted v{was}",
                )
        self._timestamp = new
        self.signatures["timestamp"] = counted
        self._final_timestamp()
        return new

    def _final_timestamp(self) -> Loaded[Timestamp]:
        ts = self._timestamp
        if ts is None:
            raise RuntimeError("no trusted timestamp")
        if ts.signed.is_expired(self.at):
            raise ClientError(
                "expired", "timestamp", f"timestamp v{ts.signed.version} expired {_when(ts)}"
            )
        return ts

    # -- snapshot ------------------------------------------------------------------

    def update_snapshot(self, data: bytes, *, local: bool = False) -> Loaded[Snapshot]:
        """Hashes from timestamp (not for the local copy), no role removed or rolled back.

        ``local``: the copy in the metadata directory. Its hash is not checked against
        the new timestamp, so a stale local snapshot still serves for rollback checks;
        its version must still be the one the timestamp records to be final.
        """
        if self._targets:
            raise RuntimeError("snapshot cannot change after targets")
        meta = self._final_timestamp().signed.snapshot_meta
        if not local:
            check_length_and_hashes(
                data, length=meta.length, hashes=meta.hashes, what="snapshot", role="snapshot"
            )
        new, counted = self._verify_top(data, Snapshot, "snapshot")
        if self._snapshot is not None:
            _no_rollback(self._snapshot, new)
        self._snapshot = new
        self.signatures["snapshot"] = counted
        self._final_snapshot()
        return new

    def _final_snapshot(self) -> Loaded[Snapshot]:
        snap = self._snapshot
        if snap is None:
            raise RuntimeError("no trusted snapshot")
        if snap.signed.is_expired(self.at):
            raise ClientError(
                "expired", "snapshot", f"snapshot v{snap.signed.version} expired {_when(snap)}"
            )
        expected = self._final_timestamp().signed.snapshot_meta.version
        if snap.signed.version != expected:
            raise ClientError(
                "version-mismatch",
                "snapshot",
                f"snapshot is v{snap.signed.version}, timestamp records v{expected}",
            )
        return snap

    # -- targets -------------------------------------------------------------------

    def update_targets(self, data: bytes, role: str, delegator: str) -> Loaded[Targets]:
        """``role`` as recorded by snapshot and signed by a threshold of ``delegator``'s keys.

        ``delegator`` is the role on the current lookup path ("root" for targets): a role
        reached through two delegators is verified against each on its own path.
        """
        self._final_snapshot()
        meta = self.recorded(role)
        if meta is None:
            raise ClientError("missing-role", role, f"snapshot does not list {role}")
        check_length_and_hashes(data, length=meta.length, hashes=meta.hashes, what=role, role=role)
        new = load(data, Targets, role)
        keyids, threshold, keys = self._delegation(role, delegator)
        count = check_threshold(new, keyids=keyids, threshold=threshold, keys=keys, by=delegator)
        if new.signed.version != meta.version:
            raise ClientError(
                "version-mismatch",
                role,
                f"{role} is v{new.signed.version}, snapshot records v{meta.version}",
            )
        if new.signed.is_expired(self.at):
            raise ClientError("expired", role, f"{role} v{new.signed.version} expired {_when(new)}")
        self._targets[role] = new
        self._verified_by.add((delegator, role))
        self.signatures[role] = (count, threshold)
        return new

    def _delegation(self, role: str, delegator: str) -> tuple[list[str], int, Mapping[str, Key]]:
        if delegator == "root":
            if role != "targets":
                raise RuntimeError("root delegates only the top-level roles")
            r = self._root.signed.roles["targets"]
            return r.keyids, r.threshold, self._root.signed.keys
        parent = self._targets.get(delegator)
        if parent is None:
            raise RuntimeError(f"{delegator} is not trusted yet")
        delegations = parent.signed.delegations
        if delegations is None:
            raise ClientError("missing-role", role, f"{delegator} delegates no roles")
        try:
            delegated = parent.signed.get_delegated_role(role)
        except ValueError as e:
            raise ClientError("missing-role", role, f"{delegator} does not delegate {role}") from e
        return delegated.keyids, delegated.threshold, delegations.keys

    # -- shared --------------------------------------------------------------------

    def _verify_top(
        self, data: bytes, kind: type[_Top], name: str
    ) -> tuple[Loaded[_Top], tuple[int, int]]:
        """``data`` signed by a threshold of root's keys for ``name``; (signed, threshold)."""
        new = load(data, kind, name)
        role = self._root.signed.roles[name]
        count = check_threshold(
            new,
            keyids=role.keyids,
            threshold=role.threshold,
            keys=self._root.signed.keys,
            by="root",
        )
        return new, (count, role.threshold)


def _when(loaded: Loaded[Root] | Loaded[Timestamp] | Loaded[Snapshot] | Loaded[Targets]) -> str:
    return loaded.signed.expires.strftime("%Y-%m-%dT%H:%M:%SZ")


def _no_rollback(old: Loaded[Snapshot], new: Loaded[Snapshot]) -> None:
    """Every role the trusted snapshot lists is still listed, at no lower version."""
    for name, info in old.signed.meta.items():
        now = new.signed.meta.get(name)
        if now is None:
            raise ClientError(
                "rollback", "snapshot", f"snapshot no longer lists {name} (was v{info.version})"
            )
        if now.version < info.version:
            raise ClientError(
                "rollback",
                name.removesuffix(".json"),
                f"snapshot records {name} v{now.version}, older than trusted v{info.version}",
            )
