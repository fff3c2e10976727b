"""Key ceremony rules: what a holder is about to sign, who is still awaited, what expires.

Pure: metadata and key names come in as parameters; no I/O, no clock. The ceremony
service and the TUI render these values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RepoStatus, ThresholdCheck

__all__ = [
    "KeyChange",
    "SignReview",
    "ThresholdChange",
    "content_digest",
    "expiring_roles",
    "key_label",
    "review_role",
    "waiting_line",
]

_TIME = "%Y-%m-%d %H:%M:%SZ"


def key_label(keyid: str, names: Mapping[str, str]) -> str:
    """``carol (3c4d5e6f)`` for a named key, ``3c4d5e6f`` otherwise."""
    name = names.get(keyid)
    return f"{name} ({keyid[:8]})" if name else keyid[:8]


def content_digest(md: Metadata[Any]) -> str:
    """sha256 hex of the canonical bytes a signature covers (what a holder compares)."""
    return hashlib.sha256(md.signed_bytes).hexdigest()


def waiting_line(check: ThresholdCheck, names: Mapping[str, str]) -> str:
    """``"2 of 3 signatures — waiting for carol"`` or ``"… — threshold met"``."""
    head = f"{len(check.signed)} of {check.threshold} signatures"
    if check.verified:
        return f"{head} — threshold met"
    need = check.threshold - len(check.signed)
    ordered = sorted(check.unsigned, key=lambda k: (k not in names, names.get(k, ""), k))
    who = [names.get(k) or k[:8] for k in ordered]
    if not who:
        return f"{head} — no key left that could sign"
    if need >= len(who):
        return f"{head} — waiting for {' and '.join(who)}"
    return f"{head} — waiting for {need} more of {', '.join(who)}"


@dataclass(frozen=True)
class KeyChange:
    """A key added to or removed from a top-level role by a new root version."""

    role: str
    keyid: str
    added: bool


@dataclass(frozen=True)
class ThresholdChange:
    role: str
    old: int
    new: int


@dataclass(frozen=True)
class SignReview:
    """What signing ``role`` v``version`` means: its content, and for root, the change."""

    role: str
    version: int
    expires: datetime
    #: sha256 of the canonical bytes that are signed (compare it out of band)
    digest: str
    checks: tuple[ThresholdCheck, ...]
    previous_version: int | None = None
    previous_expires: datetime | None = None
    key_changes: tuple[KeyChange, ...] = ()
    threshold_changes: tuple[ThresholdChange, ...] = ()
    facts: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.verified for c in self.checks)

    def lines(self, names: Mapping[str, str]) -> list[str]:
        """The review as text lines, changes first."""
        out = [f"{self.role} version {self.version}, expires {self.expires:{_TIME}}"]
        if self.previous_version is not None and self.previous_expires is not None:
            out.append(
                f"replaces version {self.previous_version}; expiry "
                f"{self.previous_expires:{_TIME}} -> {self.expires:{_TIME}}"
            )
        for change in self.key_changes:
            sign = "+" if change.added else "-"
            verb = "added to" if change.added else "removed from"
            out.append(f"{sign} key {key_label(change.keyid, names)} {verb} {change.role}")
        for t in self.threshold_changes:
            out.append(f"~ {t.role} threshold {t.old} -> {t.new}")
        if self.previous_version is not None and not (self.key_changes or self.threshold_changes):
            out.append("no key or threshold change")
        out += list(self.facts)
        out.append(f"sha256 of the signed content: {self.digest}")
        return out


def _root_facts(root: Root, names: Mapping[str, str]) -> list[str]:
    facts = []
    for role_name, role in root.roles.items():
        who = ", ".join(key_label(k, names) for k in role.keyids)
        facts.append(f"{role_name}: {role.threshold} of {len(role.keyids)} keys ({who})")
    if root.consistent_snapshot:
        facts.append("consistent snapshot: on")
    return facts


def _root_changes(
    new: Root, old: Root
) -> tuple[tuple[KeyChange, ...], tuple[ThresholdChange, ...], list[str]]:
    keys: list[KeyChange] = []
    thresholds: list[ThresholdChange] = []
    for role_name in sorted(set(new.roles) | set(old.roles)):
        new_ids = list(new.roles[role_name].keyids) if role_name in new.roles else []
        old_ids = list(old.roles[role_name].keyids) if role_name in old.roles else []
        keys += [KeyChange(role_name, k, True) for k in new_ids if k not in old_ids]
        keys += [KeyChange(role_name, k, False) for k in old_ids if k not in new_ids]
        if role_name in new.roles and role_name in old.roles:
            before, after = old.roles[role_name].threshold, new.roles[role_name].threshold
            if before != after:
                thresholds.append(ThresholdChange(role_name, before, after))
    other = []
    if new.consistent_snapshot != old.consistent_snapshot:
        state = "on" if new.consistent_snapshot else "off"
        other.append(f"~ consistent snapshot turned {state}")
    return tuple(keys), tuple(thresholds), other


def _targets_facts(targets: Targets) -> list[str]:
    facts = [f"{len(targets.targets)} target(s)"]
    delegations = targets.delegations
    if delegations is not None:
        if delegations.roles:
            facts.append(f"delegates to: {', '.join(delegations.roles)}")
        if delegations.succinct_roles is not None:
            sr = delegations.succinct_roles
            facts.append(f"delegates to {sr.number_of_bins} hash bins {sr.name_prefix}-*")
    return facts


def _facts(md: Metadata[Any], names: Mapping[str, str]) -> list[str]:
    signed = md.signed
    if isinstance(signed, Root):
        return _root_facts(signed, names)
    if isinstance(signed, Targets):
        return _targets_facts(signed)
    if isinstance(signed, Snapshot):
        return [f"records {len(signed.meta)} targets role file(s)"]
    if isinstance(signed, Timestamp):
        return [f"records snapshot version {signed.snapshot_meta.version}"]
    return []  # pragma: no cover - every metadata type is listed above


def review_role(
    state: RepoState,
    role: str,
    checks: Sequence[ThresholdCheck],
    names: Mapping[str, str],
) -> SignReview:
    """The review a holder reads before signing ``role`` of ``state``."""
    md = state.role(role)
    digest = content_digest(md)
    facts = _facts(md, names)
    previous = state.previous_root if role == "root" else None
    review = SignReview(
        role=role,
        version=md.signed.version,
        expires=md.signed.expires,
        digest=digest,
        checks=tuple(checks),
        facts=tuple(facts),
    )
    if previous is None or previous.signed.version + 1 != md.signed.version:
        return review
    keys, thresholds, other = _root_changes(md.signed, previous.signed)
    return replace(
        review,
        previous_version=previous.signed.version,
        previous_expires=previous.signed.expires,
        key_changes=keys,
        threshold_changes=thresholds,
        facts=tuple(other + facts),
    )


def expiring_roles(status: RepoStatus, *, within_days: int) -> list[str]:
    """Offline roles (root, targets, delegated) that are expired or expire within the days.

    Snapshot and timestamp are left out: refreshing any role renews them.
    """
    return [
        r.role
        for r in status.roles
        if r.role not in ("snapshot", "timestamp") and (r.expired or r.days_left < within_days)
    ]
