"""Signature and expiry status of every role: what ``status`` shows and ``sign`` reports.

Pure: ``now`` comes in as a parameter; key names come in as a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tuf.api.exceptions import LengthOrHashMismatchError
from tuf.api.metadata import Metadata, Root, Targets

from trustkeep.core.tuf_repo.pubkeys import keyid_is_hash
from trustkeep.core.tuf_repo.state import RepoState, signed_payload

__all__ = [
    "RepoStatus",
    "RoleStatus",
    "ThresholdCheck",
    "by_name",
    "describe_checks",
    "repo_status",
    "role_checks",
    "root_checks",
    "state_checks",
]

ONLINE_ROLES = ("snapshot", "timestamp")
#: online roles live days, not months: warn only this close to their expiry
ONLINE_WARN = {"snapshot": timedelta(days=1), "timestamp": timedelta(hours=6)}
OFFLINE_ROLES = ("root", "targets")


@dataclass(frozen=True)
class ThresholdCheck:
    """``threshold`` of ``keyids`` must sign; ``signed`` did, with valid signatures."""

    label: str
    threshold: int
    signed: tuple[str, ...]
    unsigned: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return len(self.signed) >= self.threshold


@dataclass(frozen=True)
class RoleStatus:
    role: str
    version: int
    expires: datetime
    days_left: int
    checks: tuple[ThresholdCheck, ...]
    expired: bool
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.checks) and bool(self.checks)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RepoStatus:
    roles: tuple[RoleStatus, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.roles)


def _check(label: str, result: Any) -> ThresholdCheck:
    return ThresholdCheck(
        label=label,
        threshold=result.threshold,
        signed=tuple(sorted(result.signed)),
        unsigned=tuple(sorted(result.unsigned)),
    )


def root_checks(root: Metadata[Root], previous: Root | None) -> tuple[ThresholdCheck, ...]:
    """The root's own threshold and, when ``previous`` is root N-1, the old threshold too."""
    payload = signed_payload(root, "root")
    own = root.signed.get_verification_result("root", payload, root.signatures)
    checks = [_check(f"root v{root.signed.version} keys", own)]
    if previous is not None and previous.version + 1 == root.signed.version:
        old = previous.get_verification_result("root", payload, root.signatures)
        checks.insert(0, _check(f"root v{previous.version} keys", old))
    return tuple(checks)


def role_checks(
    delegator: Root | Targets, role: str, md: Metadata[Any]
) -> tuple[ThresholdCheck, ...]:
    """The delegator's threshold for ``role`` over ``md``'s signatures."""
    result = delegator.get_verification_result(role, signed_payload(md, role), md.signatures)
    return (_check(f"{role} keys", result),)


def state_checks(state: RepoState, role: str) -> tuple[ThresholdCheck, ...]:
    """The thresholds ``role`` must meet: root's own (and N-1's), else its delegator's."""
    if role == "root":
        prev = state.previous_root.signed if state.previous_root is not None else None
        return root_checks(state.root, prev)
    delegator = state.delegator_signed(role)
    trusted = state.trusted_signers(role)
    if trusted is None:
        return role_checks(delegator, role, state.role(role))
    delegated = delegator.get_delegated_role(role)  # signed just now: no need to verify
    return (
        ThresholdCheck(
            label=f"{role} keys",
            threshold=delegated.threshold,
            signed=tuple(sorted(k for k in delegated.keyids if k in trusted)),
            unsigned=tuple(sorted(k for k in delegated.keyids if k not in trusted)),
        ),
    )


def describe_checks(checks: tuple[ThresholdCheck, ...], names: Mapping[str, str]) -> list[str]:
    """``"root v2 keys: 2 of 3 — still missing: carol (3c4d5e6f…)"`` per check."""
    lines = []
    for c in checks:
        if c.verified:
            lines.append(f"{c.label}: threshold {c.threshold} met ({len(c.signed)} signed)")
            continue
        text = f"{c.label}: {len(c.signed)} of {c.threshold}"
        if c.unsigned:
            who = ", ".join(_who(k, names) for k in by_name(c.unsigned, names))
            text += f" — still missing: {who}"
        lines.append(text)
    return lines


def by_name(keyids: tuple[str, ...], names: Mapping[str, str]) -> list[str]:
    """Named keys first, by name; then the others by keyid."""
    return sorted(keyids, key=lambda k: (k not in names, names.get(k, ""), k))


def _who(keyid: str, names: Mapping[str, str]) -> str:
    name = names.get(keyid)
    return f"{name} ({keyid[:8]}…)" if name else f"{keyid[:8]}…"


def _keys_of(state: RepoState) -> dict[str, set[str]]:
    """keyid -> roles that use it, over root and every delegation."""
    uses: dict[str, set[str]] = {}
    for name, role in state.root.signed.roles.items():
        for k in role.keyids:
            uses.setdefault(k, set()).add(name)
    for md_name in ["targets", *state.delegated]:
        delegations = state.targets_role(md_name).signed.delegations
        if delegations is None:
            continue
        for name, r in (delegations.roles or {}).items():
            for k in r.keyids:
                uses.setdefault(k, set()).add(name)
        if delegations.succinct_roles is not None:
            for k in delegations.succinct_roles.keyids:
                uses.setdefault(k, set()).add(f"{delegations.succinct_roles.name_prefix}-*")
    return uses


def _repo_warnings(state: RepoState, names: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for keyid, roles in sorted(_keys_of(state).items()):
        online = roles & set(ONLINE_ROLES)
        offline = roles - set(ONLINE_ROLES)
        if online and offline:
            out.append(
                f"key {_who(keyid, names)} is shared by online role(s) {', '.join(sorted(online))}"
                f" and offline role(s) {', '.join(sorted(offline))}"
            )
    all_keys = dict(state.root.signed.keys)
    for md_name in ["targets", *state.delegated]:
        delegations = state.targets_role(md_name).signed.delegations
        if delegations is not None:
            all_keys.update(delegations.keys)
    for keyid, key in sorted(all_keys.items()):
        if not keyid_is_hash(keyid, key.keytype, key.scheme, key.keyval):
            out.append(f"keyid {keyid[:16]}… is not the sha256 of its key (some clients reject it)")
    return out


def _threshold_warnings(state: RepoState) -> list[str]:
    out = []
    for name, role in state.root.signed.roles.items():
        if role.threshold > len(role.keyids):
            out.append(f"role {name!r}: threshold {role.threshold} > its {len(role.keyids)} key(s)")
    for md_name in ["targets", *state.delegated]:
        delegations = state.targets_role(md_name).signed.delegations
        for name, r in (delegations.roles or {}).items() if delegations else ():
            if r.threshold > len(r.keyids):
                out.append(f"role {name!r}: threshold {r.threshold} > its {len(r.keyids)} key(s)")
    return out


def _freshness(state: RepoState, role: str) -> list[str]:
    md = state.role(role)
    if role == "timestamp" or role == "root":
        return []
    if role == "snapshot":
        recorded = state.timestamp.signed.snapshot_meta.version
        label = "timestamp"
    else:
        meta = state.snapshot.signed.meta.get(f"{role}.json")
        recorded = meta.version if meta is not None else 0
        label = "snapshot"
    if recorded != md.signed.version:
        what = f"v{recorded}" if recorded else "nothing"
        return [
            f"{label} records {what} for {role!r}, the file is v{md.signed.version}: "
            f"run `trustkeep {label} DIR` (or `trustkeep refresh DIR`)"
        ]
    return []


def _snapshot_bytes_match(state: RepoState) -> bool:
    data = state.snapshot_bytes
    meta = state.timestamp.signed.snapshot_meta
    if data is None:
        return True
    try:
        meta.verify_length_and_hashes(data)
    except LengthOrHashMismatchError:
        return False
    return True


def _snapshot_problems(state: RepoState) -> list[str]:
    """Timestamp must record the length and hashes of snapshot.json as it is on disk."""
    if _snapshot_bytes_match(state):
        return []
    return [
        "timestamp: the length or hash it records for snapshot.json does not match the file "
        "(was snapshot signed again?): run `trustkeep timestamp DIR`"
    ]


def _role_status(
    state: RepoState, role: str, now: datetime, warn_within: timedelta, names: Mapping[str, str]
) -> RoleStatus:
    md = state.role(role)
    checks = state_checks(state, role)
    expires: datetime = md.signed.expires
    left = expires - now
    expired = left <= timedelta(0)
    problems = [f"{role}: {line}" for line in describe_checks(checks, names)]
    problems = [p for p, c in zip(problems, checks, strict=True) if not c.verified]
    warnings = _freshness(state, role)
    if expired:
        problems.append(f"{role}: expired on {expires:%Y-%m-%d %H:%M:%SZ}")
    elif left <= min(warn_within, ONLINE_WARN.get(role, warn_within)):
        warnings.append(f"{role}: expires in {left.days} day(s), on {expires:%Y-%m-%d}")
    return RoleStatus(
        role=role,
        version=md.signed.version,
        expires=expires,
        days_left=left.days,
        checks=checks,
        expired=expired,
        problems=tuple(problems),
        warnings=tuple(warnings),
    )


def repo_status(
    state: RepoState,
    *,
    now: datetime,
    warn_within: timedelta = timedelta(days=30),
    names: Mapping[str, str] | None = None,
) -> RepoStatus:
    """Status of every role; problems make ``ok`` false (unsigned, under threshold, expired)."""
    names = names or {}
    roles = tuple(_role_status(state, r, now, warn_within, names) for r in state.all_roles())
    problems = tuple(
        [f"{r}: delegated but its metadata file is missing" for r in state.missing]
        + _snapshot_problems(state)
    )
    unsynced = [
        f"{name}: lacks signatures that another copy of the same metadata carries "
        "(all are counted here); 'trustkeep sign' on either file writes them to both"
        for name in state.unsynced
    ]
    warnings = tuple(_threshold_warnings(state) + _repo_warnings(state, names) + unsynced)
    return RepoStatus(roles=roles, problems=problems, warnings=warnings)
