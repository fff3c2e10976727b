"""Key ceremony rules: what a holder is about to sign, who is still awaited, what expires.

Pure: metadata and key names come in as parameters; no I/O, no clock. The ceremony
service and the TUI render these values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from trustkeep.core.tuf_repo.staging import DiffEntry, DiffKind, RoleDiff
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RepoStatus, ThresholdCheck

__all__ = [
    "ExpiryLevel",
    "KeyChange",
    "SignReview",
    "ThresholdChange",
    "content_digest",
    "diff_lines",
    "expiring_roles",
    "expiry_level",
    "key_label",
    "review_role",
    "rotation_progress",
    "rotation_review",
    "threshold_consequences",
    "time_left",
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


#: online roles are renewed often: due this close to their expiry, not within the days
ONLINE_DUE = {"snapshot": timedelta(days=7), "timestamp": timedelta(days=1)}


ExpiryLevel = Literal["expired", "critical", "warning", "ok"]

#: (critical, warning) windows per role; delegated roles are treated like targets
_LEVELS = {
    "timestamp": (timedelta(hours=6), timedelta(days=1)),
    "snapshot": (timedelta(days=1), timedelta(days=7)),
    "root": (timedelta(days=14), timedelta(days=60)),
}
_OFFLINE_LEVELS = (timedelta(days=7), timedelta(days=30))


def expiry_level(role: str, expires: datetime, *, now: datetime) -> ExpiryLevel:
    """How urgent a role's renewal is (colour of the expiry dashboard)."""
    left = expires - now
    critical, warning = _LEVELS.get(role, _OFFLINE_LEVELS)
    if left <= timedelta(0):
        return "expired"
    if left < critical:
        return "critical"
    if left < warning:
        return "warning"
    return "ok"


def expiring_roles(status: RepoStatus, *, within_days: int, now: datetime) -> list[str]:
    """Roles that are expired or due: offline roles within the days, snapshot within a
    week and timestamp within a day (they live days, not months)."""
    due = []
    for r in status.roles:
        window = ONLINE_DUE.get(r.role, timedelta(days=within_days))
        if r.expired or r.expires - now < window:
            due.append(r.role)
    return due


def rotation_review(
    review: SignReview,
    names: Mapping[str, str],
    *,
    key_files: Mapping[str, str] | None = None,
    amends: int = 0,
    broken_pins: Sequence[tuple[str, Sequence[str]]] = (),
) -> list[str]:
    """What a new root version writes, as review lines: the signing review of the new root
    (keys added and removed, threshold, expiry), where public-only keys come from, what the
    threshold means, whose signatures publishing needs, and the pins it breaks.

    ``key_files``: keyid -> the holder's public key file it is imported from; ``amends``:
    the signatures dropped from a staged, unpublished root this version replaces;
    ``broken_pins``: (pin file, keyids it names that the new root retires), warned first.
    """
    lines = review.lines(names)
    digest_line = lines.pop()  # the sha256 goes last, after the consequences
    if amends:
        lines.insert(
            1,
            f"! amends the staged root v{review.version} (not published): its {amends} "
            "signature(s) are dropped and its holders sign again",
        )
    for keyid, path in (key_files or {}).items():
        lines.append(
            f"+ key {key_label(keyid, names)} from the public key file {path} "
            "(imported into this store as a public-only key)"
        )
    own = review.checks[-1] if review.checks else None
    if own is not None:
        count = len(own.signed) + len(own.unsigned)
        lines.append(f"root keys after: {count}, threshold {own.threshold}")
        lines += threshold_consequences(own.threshold, count)
    for c in review.checks:
        who = ", ".join(key_label(k, names) for k in (*c.signed, *c.unsigned))
        lines.append(f"needs {c.threshold} signature(s) of the {c.label} ({who})")
    warnings = [
        f"! the pins saved in {pin} name the retired key "
        f"{', '.join(key_label(k, names) for k in keyids)}: clients pinned with them need "
        "the pins of the new root (save them after it)"
        for pin, keyids in broken_pins
    ]
    lines[1:1] = warnings  # first, after the version: seen without scrolling
    lines.append(digest_line)
    return lines


def rotation_progress(checks: Sequence[ThresholdCheck], names: Mapping[str, str]) -> str:
    """``"signed by old root: 1 of 2, new root: 0 of 3 — waiting for carol, dave"``."""
    labels = ("old root", "new root") if len(checks) > 1 else ("new root",)
    parts = [
        f"{label}: {len(c.signed)} of {c.threshold}"
        for label, c in zip(labels, checks[-2:], strict=False)
    ]
    head = "signed by " + ", ".join(parts)
    if all(c.verified for c in checks):
        return f"{head} — every threshold met: publish it"
    who: list[str] = []
    for c in checks:
        if c.verified:
            continue
        ordered = sorted(c.unsigned, key=lambda k: (k not in names, names.get(k, ""), k))
        who += [n for n in (names.get(k) or k[:8] for k in ordered) if n not in who]
    if not who:
        return f"{head} — no key left that could sign"
    return f"{head} — waiting for {', '.join(who)}"


def threshold_consequences(m: int, n: int) -> list[str]:
    """What an m-of-n threshold means for the holders, spelled out."""
    if n < 1 or m < 1:
        return ["a role needs at least one key and a threshold of at least 1"]
    if m > n:
        return [f"threshold {m} is more than the {n} key(s): nothing could ever be signed"]
    lines = [f"any {m} of the {n} holders together can sign a new version"]
    if m == n:
        lines.append(
            "every holder must sign: one lost key or one absent holder and this root "
            "can never be rotated or renewed"
        )
    else:
        lines.append(
            f"up to {n - m} key(s) may be lost and the root can still be rotated; "
            f"losing {n - m + 1} locks it"
        )
    if m == 1:
        lines.append("one stolen key is enough for an attacker to sign a new root")
    else:
        lines.append(f"an attacker needs {m} keys to sign a new root")
    return lines


def time_left(expires: datetime, now: datetime) -> str:
    """``"expired 2 hours ago"``, ``"5 hours left"``, ``"12 days left"``."""
    seconds = int((expires - now).total_seconds())
    past = seconds <= 0
    seconds = abs(seconds)
    if seconds < 2 * 86400:
        amount = f"{seconds // 3600} hours" if seconds >= 3600 else f"{seconds // 60} minutes"
    else:
        amount = f"{seconds // 86400} days"
    return f"expired {amount} ago" if past else f"{amount} left"


def _seq(value: object) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def diff_entry_line(e: DiffEntry, names: Mapping[str, str]) -> str:
    k = e.kind
    if k == DiffKind.NEW_ROLE:
        return f"+ new role {e.subject} (v{e.new}; nothing published before)"
    if k == DiffKind.VERSION:
        return f"~ version {e.old} -> {e.new}"
    if k == DiffKind.EXPIRES:
        return f"~ expires {e.old} -> {e.new}"
    if k == DiffKind.KEY_ADDED:
        return f"+ key {key_label(str(e.new), names)} added to {e.subject}"
    if k == DiffKind.KEY_REMOVED:
        return f"- key {key_label(str(e.old), names)} removed from {e.subject}"
    if k == DiffKind.THRESHOLD:
        if e.old is None:
            return f"~ {e.subject} threshold {e.new}"
        return f"~ {e.subject} threshold {e.old} -> {e.new}"
    if k == DiffKind.CONSISTENT_SNAPSHOT:
        if e.old is None:
            return f"~ consistent snapshot {e.new}"
        return f"~ consistent snapshot {e.old} -> {e.new}"
    if k == DiffKind.DELEGATION_ADDED:
        return f"+ delegation to {e.subject} ({_seq(e.new)})"
    if k == DiffKind.DELEGATION_REMOVED:
        return f"- delegation to {e.subject} ({_seq(e.old)})"
    if k == DiffKind.PATHS:
        return f"~ {e.subject} paths {_seq(e.old)} -> {_seq(e.new)}"
    if k == DiffKind.TERMINATING:
        return f"~ {e.subject} terminating {e.old} -> {e.new}"
    if k == DiffKind.TARGET_ADDED:
        return f"+ target {e.subject} ({e.new} bytes)"
    if k == DiffKind.TARGET_REMOVED:
        return f"- target {e.subject}"
    if k == DiffKind.TARGET_CHANGED:
        return f"~ target {e.subject} sha256 {str(e.old)[:12]}… -> {str(e.new)[:12]}…"
    return f"~ {e.subject}: content changed"


def diff_lines(diff: RoleDiff, names: Mapping[str, str]) -> list[str]:
    """A staged role against its published version, one ``+``/``-``/``~`` line each."""
    base = "nothing published" if diff.old_version is None else f"published v{diff.old_version}"
    head = f"changes in {diff.role} v{diff.new_version} against {base}:"
    return [head, *(diff_entry_line(e, names) for e in diff.entries)]
