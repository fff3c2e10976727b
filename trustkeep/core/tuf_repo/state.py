"""The working set of a TUF repository's metadata, and the rules for changing a role.

Pure: no I/O, no clock. The adapter loads a :class:`RepoState` from a directory and
writes back the roles listed in ``changed``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Key, Signature, Signer
from tuf.api.metadata import (
    TOP_LEVEL_ROLE_NAMES,
    Metadata,
    Root,
    Snapshot,
    Targets,
    Timestamp,
)
from tuf.api.serialization import SerializationError

from trustkeep.core.canonical import fast_canonical
from trustkeep.core.rotation import check_root_rotation
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.errors import InputError

__all__ = [
    "RepoState",
    "apply_signatures",
    "signed_payload",
    "walk_delegations",
]


@dataclass
class RepoState:
    """Top-level roles, delegated targets roles, and the previous root version (if any)."""

    root: Metadata[Root]
    targets: Metadata[Targets]
    snapshot: Metadata[Snapshot]
    timestamp: Metadata[Timestamp]
    delegated: dict[str, Metadata[Targets]] = field(default_factory=dict)
    previous_root: Metadata[Root] | None = None
    #: delegated roles named in the tree whose metadata file is absent
    missing: list[str] = field(default_factory=list)
    #: roles to write, in the order they were changed
    changed: list[str] = field(default_factory=list)
    #: snapshot.json as read (timestamp records the hash of these bytes, not of a re-dump)
    snapshot_bytes: bytes | None = None
    #: False: targets roles were loaded without their target entries (a new snapshot only)
    entries_loaded: bool = True
    #: role -> keyids whose signatures over the role's current content this process made
    #: with a proven key (see :meth:`sign_role`, :meth:`trusted_signers`)
    fresh: dict[str, frozenset[str]] = field(default_factory=dict)
    #: keyid -> the key (as a delegator lists it) a signature of this process verified with
    proven: dict[str, Key] = field(default_factory=dict)
    #: ``changed`` as a set, and role -> delegator: O(1) lookups in trees of 65,536 bins
    _marked: set[str] = field(default_factory=set, repr=False, compare=False)
    _delegators: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: (role, file names): published copies of one role version whose bytes differ
    twins_differ: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: roles whose metadata comes from the staging area (not yet published)
    staged: set[str] = field(default_factory=set)
    #: where the published chain of ``N.root.json`` breaks: (version, missing), a root
    #: its predecessor does not vouch for, or a version with no file (clients stop there)
    root_chain_break: tuple[int, bool] | None = None

    def mark(self, role: str) -> None:
        if len(self._marked) != len(self.changed):  # ``changed`` was edited directly
            self._marked = set(self.changed)
        if role not in self._marked:
            self.changed.append(role)
            self._marked.add(role)

    def role(self, name: str) -> Metadata[Any]:
        top: dict[str, Metadata[Any]] = {
            "root": self.root,
            "targets": self.targets,
            "snapshot": self.snapshot,
            "timestamp": self.timestamp,
        }
        if name in top:
            return top[name]
        if name in self.delegated:
            return self.delegated[name]
        raise InputError(f"role {name!r} is not in this repository")

    def targets_role(self, name: str) -> Metadata[Targets]:
        if name == "targets":
            return self.targets
        if name in self.delegated:
            return self.delegated[name]
        if name in self.missing:
            raise InputError(f"role {name!r} is delegated but its metadata file is missing")
        raise InputError(f"role {name!r} is not a targets role of this repository")

    def delegator_of(self, role: str) -> str:
        """The role that delegates ``role`` (``root`` for top-level roles).

        When several do, the first in the order targets, then the delegated roles as
        loaded. Answers come from an index, checked on use and rebuilt when stale.
        """
        if role in TOP_LEVEL_ROLE_NAMES:
            return "root"
        cached = self._delegators.get(role)
        if cached is not None and self._delegates(cached, role):
            return cached
        self._delegators = self._delegator_index()
        found = self._delegators.get(role)
        if found is None:
            raise InputError(f"role {role!r} is not delegated by any role of this repository")
        return found

    def _delegates(self, delegator: str, role: str) -> bool:
        md = self.targets if delegator == "targets" else self.delegated.get(delegator)
        delegations = md.signed.delegations if md is not None else None
        if delegations is None:
            return False
        if delegations.roles is not None:
            return role in delegations.roles
        succinct = delegations.succinct_roles
        return succinct is not None and succinct.is_delegated_role(role)

    def _delegator_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for name in ["targets", *self.delegated]:
            md = self.targets if name == "targets" else self.delegated[name]
            delegations = md.signed.delegations
            if delegations is None:
                continue
            if delegations.roles is not None:
                children: Iterable[str] = delegations.roles
            elif delegations.succinct_roles is not None:
                children = delegations.succinct_roles.get_roles()
            else:
                continue
            for child in children:
                index.setdefault(child, name)
        return index

    def delegator_signed(self, role: str) -> Root | Targets:
        """The signed part of the role that delegates ``role`` (root for top-level roles)."""
        delegator = self.delegator_of(role)
        return self.root.signed if delegator == "root" else self.targets_role(delegator).signed

    def all_roles(self) -> list[str]:
        """Every role with metadata, top-level first, then the delegation tree in order."""
        names = ["root", "targets"]
        names += [child for _, child in walk_delegations(self) if child in self.delegated]
        return [*names, "snapshot", "timestamp"]

    # -- changing a role -------------------------------------------------------------

    def is_pending(self, role: str) -> bool:
        """Whether ``role``'s current version was never published, so it may be amended.

        A targets role is pending when snapshot does not record its version yet; snapshot
        when timestamp does not; root when it is not yet signed by its thresholds.
        A staged role is always pending. Timestamp is otherwise never pending.
        """
        if role in self.staged:
            return True
        if role == "timestamp":
            return False
        if role == "snapshot":
            return self.snapshot.signed.version > self.timestamp.signed.snapshot_meta.version
        if role == "root":
            return not root_is_verified(self.root, self.previous_root)
        meta = self.snapshot.signed.meta.get(f"{role}.json")
        return meta is None or self.role(role).signed.version > meta.version

    def touch(self, role: str, now: datetime, policy: ExpiryPolicy) -> None:
        """Start a change of ``role``: new version (unless pending), new expiry, no signatures."""
        md = self.role(role)
        if not self.is_pending(role):
            if role == "root":
                self.previous_root = copy.deepcopy(self.root)
            md.signed.version += 1
        md.signed.expires = policy.expires(role, now)
        md.signatures.clear()
        self.fresh.pop(role, None)
        self.mark(role)

    def sign_role(self, role: str, signers: Sequence[Signer]) -> list[str]:
        """Add one signature per signer to ``role`` (keeping the others); returns keyids.

        The payload is encoded once. The first signature of each key is verified with the
        key the delegator lists under that keyid; the role's later status need not verify
        signatures this process made with proven keys (``trusted_signers``).
        """
        md = self.role(role)
        payload = signed_payload(md, role)
        delegator = self.delegator_signed(role) if role != "root" else None
        keyids: list[str] = []
        for signer in signers:
            signature = signer.sign(payload)
            md.signatures[signature.keyid] = signature
            keyids.append(signature.keyid)
            if delegator is not None and signature.keyid not in self.proven:
                self._prove(delegator, signature, payload)
        if delegator is not None:
            self.fresh[role] = frozenset(
                k for k in keyids if self.proven.get(k) == _listed_key(delegator, k)
            )
        return keyids

    def _prove(self, delegator: Root | Targets, signature: Signature, payload: bytes) -> None:
        key = _listed_key(delegator, signature.keyid)
        if key is None:
            return
        try:
            key.verify_signature(signature, payload)
        except UnverifiedSignatureError:
            return
        self.proven[signature.keyid] = key

    def trusted_signers(self, role: str) -> frozenset[str] | None:
        """The keyids of ``role``'s signatures when this process made all of them, over the
        current content, with keys it verified before; else None (verify them)."""
        fresh = self.fresh.get(role)
        if fresh is None or fresh != set(self.role(role).signatures):
            return None
        return fresh


def _listed_key(delegator: Root | Targets, keyid: str) -> Key | None:
    try:
        return delegator.get_key(keyid)
    except ValueError:
        return None


def root_is_verified(root: Metadata[Root], previous: Metadata[Root] | None) -> bool:
    """Root's own threshold, and with ``previous`` the rotation rule of
    :func:`trustkeep.core.rotation.check_root_rotation` (exact +1, both thresholds)."""
    payload = signed_payload(root, "root")
    own = root.signed.get_verification_result("root", payload, root.signatures)
    if previous is None:
        return bool(own.verified)
    prev = previous.signed
    old = prev.get_verification_result("root", payload, root.signatures)
    problems = check_root_rotation(
        old_version=prev.version,
        new_version=root.signed.version,
        old_threshold=old.threshold,
        by_old=len(old.signed),
        new_threshold=own.threshold,
        by_new=len(own.signed),
    )
    return not problems


def walk_delegations(state: RepoState) -> Iterator[tuple[str, str]]:
    """(delegator, delegated role) pairs in the order a client visits them (pre-order).

    Succinct hashed bins yield every bin name. Cycles are not followed twice.
    """
    seen = {"targets"}
    stack: list[str] = ["targets"]
    while stack:
        parent = stack.pop()
        md = state.targets if parent == "targets" else state.delegated.get(parent)
        if md is None or md.signed.delegations is None:
            continue
        children: list[str] = []
        delegations = md.signed.delegations
        if delegations.succinct_roles is not None:
            children = list(delegations.succinct_roles.get_roles())
        elif delegations.roles is not None:
            children = list(delegations.roles)
        pushed: list[str] = []
        for child in children:
            yield parent, child
            if child not in seen:
                seen.add(child)
                pushed.append(child)
        stack.extend(reversed(pushed))


def signed_payload(md: Metadata[Any], role: str) -> bytes:
    """The canonical JSON a signer signs; InputError when ``md`` has none (floats, NaN)."""
    fast = fast_canonical(md.signed.to_dict())
    if fast is not None:
        return fast
    try:
        return md.signed_bytes
    except SerializationError as e:
        raise InputError(
            f"role {role!r}: metadata cannot be written as canonical JSON "
            "(a float, NaN or invalid character in it)"
        ) from e


def apply_signatures(md: Metadata[Any], signers: Sequence[Signer]) -> list[str]:
    """Add one signature per signer (keeping the others); returns the keyids that signed."""
    payload = signed_payload(md, md.signed.type)
    signed: list[str] = []
    for signer in signers:
        signature = signer.sign(payload)
        md.signatures[signature.keyid] = signature
        signed.append(signature.keyid)
    return signed
