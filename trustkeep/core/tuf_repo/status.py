"""Signature and expiry status of every role: what ``status`` shows and ``sign`` reports.

Pure: ``now`` comes in as a parameter; key names come in as a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tuf.api.exceptions import LengthOrHashMismatchError
from tuf.api.metadata import Metadata, Root, Targets

from trustkeep.core.tuf_repo.pubkeys import keyid_is_hash
from trustkeep.core.tuf_repo.state import RepoState, signed_payload

__all__ = [
    "RepoStatus",
    "RoleStatus",
    "StatusCode",
    "StatusIssue",
    "ThresholdCheck",
    "by_name",
    "describe_checks",
    "repo_status",
    "role_checks",
    "root_checks",
    "state_checks",
    "unmet_lines",
]

ONLINE_ROLES = ("snapshot", "timestamp")
#: online roles live days, not months: warn only this close to their expiry
ONLINE_WARN = {"snapshot": timedelta(days=1), "timestamp": timedelta(hours=6)}
OFFLINE_ROLES = ("root", "targets")


class StatusCode(StrEnum):
    """What a status finding is about; front ends phrase their own text and advice."""

    #: a threshold check is not met (values: label, signed, threshold, waiting, missing)
    THRESHOLD_NOT_MET = "threshold-not-met"
    #: no valid signature at all (same values as THRESHOLD_NOT_MET)
    UNSIGNED = "unsigned"
    #: values: expires
    EXPIRED = "expired"
    #: values: expires, days_left, hours_left
    EXPIRES_SOON = "expires-soon"
    #: a delegated role has no metadata file
    MISSING_ROLE = "missing-role"
    #: values: recorded_by ("snapshot"/"timestamp"), recorded (0: nothing), version
    STALE_RECORD = "stale-record"
    #: timestamp's length/hash for snapshot.json does not match the file
    SNAPSHOT_HASH_MISMATCH = "snapshot-hash-mismatch"
    #: values: threshold, keys
    THRESHOLD_ABOVE_KEYS = "threshold-above-keys"
    #: values: threshold, keys (one lost key means a new root)
    THRESHOLD_EQUALS_KEYS = "threshold-equals-keys"
    #: values: keyid, key (label), online (roles), offline (roles)
    KEY_SHARED_ONLINE_OFFLINE = "key-shared-online-offline"
    #: values: keyid
    KEYID_NOT_HASH = "keyid-not-hash"
    #: two published files hold the same version of a role with different bytes (values: files)
    TWINS_DIFFER = "twins-differ"
    #: a published N.root.json is not signed by root N-1's threshold and its own, or
    #: is missing between older and newer ones (values: version, file, missing)
    ROOT_CHAIN_BROKEN = "root-chain-broken"
    #: nothing is published yet (values: staged roles)
    NOT_PUBLISHED = "not-published"
    #: a staged change awaits signatures or publishing (values: version, complete, waiting)
    STAGED = "staged"


@dataclass(frozen=True)
class StatusIssue:
    """One finding: a code, the role it is about (None: the repository), and its values."""

    code: StatusCode
    role: str | None
    values: Mapping[str, object] = field(default_factory=dict)

    def group_key(self) -> tuple[StatusCode, tuple[tuple[str, str], ...]]:
        """Findings equal but for their role group together (256 bins: one line)."""
        values = sorted((k, repr(v)) for k, v in self.values.items() if k != "label")
        return self.code, tuple(values)


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
    problems: tuple[StatusIssue, ...]
    warnings: tuple[StatusIssue, ...]
    #: whole hours left (negative once expired)
    hours_left: int = 0

    @property
    def verified(self) -> bool:
        return all(c.verified for c in self.checks) and bool(self.checks)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RepoStatus:
    """The published repository's status; ``staged`` is the staging area's, beside it.

    ``ok`` is about the published files only (what clients read): a staged change
    that awaits signatures never makes a published repository invalid.
    """

    roles: tuple[RoleStatus, ...]
    problems: tuple[StatusIssue, ...]
    warnings: tuple[StatusIssue, ...]
    staged: tuple[RoleStatus, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.roles)

    @property
    def published(self) -> bool:
        return not any(p.code is StatusCode.NOT_PUBLISHED for p in self.problems)


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


def unmet_lines(
    role: str, version: int, checks: tuple[ThresholdCheck, ...], names: Mapping[str, str]
) -> list[str]:
    """``"root v1: root v1 keys have 0 of 2 signatures; 2 more from: alice, bob"`` for
    each unmet check (what publish and the online writes refuse with)."""
    out = []
    for c in checks:
        if not c.verified:
            who = ", ".join(waiting_for((c,), names)) or "no key left that could sign"
            need = c.threshold - len(c.signed)
            out.append(
                f"{role} v{version}: {c.label} have {len(c.signed)} of {c.threshold} "
                f"signatures; {need} more from: {who}"
            )
    return out


def waiting_for(checks: tuple[ThresholdCheck, ...], names: Mapping[str, str]) -> tuple[str, ...]:
    """Names (or keyid prefixes) of the keys that may still sign an unmet check, by name."""
    out: list[str] = []
    for c in checks:
        if c.verified:
            continue
        for k in by_name(c.unsigned, names):
            label = names.get(k) or k[:8]
            if label not in out:
                out.append(label)
    return tuple(out)


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


def _repo_warnings(state: RepoState, names: Mapping[str, str]) -> list[StatusIssue]:
    out: list[StatusIssue] = []
    for keyid, roles in sorted(_keys_of(state).items()):
        online = roles & set(ONLINE_ROLES)
        offline = roles - set(ONLINE_ROLES)
        if online and offline:
            values = {
                "keyid": keyid,
                "key": _who(keyid, names),
                "online": tuple(sorted(online)),
                "offline": tuple(sorted(offline)),
            }
            out.append(StatusIssue(StatusCode.KEY_SHARED_ONLINE_OFFLINE, None, values))
    all_keys = dict(state.root.signed.keys)
    for md_name in ["targets", *state.delegated]:
        delegations = state.targets_role(md_name).signed.delegations
        if delegations is not None:
            all_keys.update(delegations.keys)
    for keyid, key in sorted(all_keys.items()):
        if not keyid_is_hash(keyid, key.keytype, key.scheme, key.keyval):
            out.append(StatusIssue(StatusCode.KEYID_NOT_HASH, None, {"keyid": keyid}))
    return out


def threshold_issue(role: str, threshold: int, keys: int) -> StatusIssue | None:
    """Above the number of keys: unreachable; equal: one lost key means a new root."""
    if threshold > keys:
        code = StatusCode.THRESHOLD_ABOVE_KEYS
    elif threshold == keys:
        code = StatusCode.THRESHOLD_EQUALS_KEYS
    else:
        return None
    return StatusIssue(code, role, {"threshold": threshold, "keys": keys})


def _threshold_warnings(state: RepoState) -> list[StatusIssue]:
    pairs = [(n, r.threshold, len(r.keyids)) for n, r in state.root.signed.roles.items()]
    for md_name in ["targets", *state.delegated]:
        delegations = state.targets_role(md_name).signed.delegations
        for name, r in (delegations.roles or {}).items() if delegations else ():
            pairs.append((name, r.threshold, len(r.keyids)))
    return [
        StatusIssue(StatusCode.THRESHOLD_ABOVE_KEYS, n, {"threshold": t, "keys": k})
        for n, t, k in pairs
        if t > k
    ]


def _freshness(state: RepoState, role: str) -> list[StatusIssue]:
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
        values = {"recorded_by": label, "recorded": recorded, "version": md.signed.version}
        return [StatusIssue(StatusCode.STALE_RECORD, role, values)]
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


def _check_issue(role: str, check: ThresholdCheck, names: Mapping[str, str]) -> StatusIssue:
    code = StatusCode.UNSIGNED if not check.signed else StatusCode.THRESHOLD_NOT_MET
    values = {
        "label": check.label,
        "signed": len(check.signed),
        "threshold": check.threshold,
        "waiting": waiting_for((check,), names),
        "missing": tuple(by_name(check.unsigned, names)),
    }
    return StatusIssue(code, role, values)


def role_status(
    state: RepoState,
    role: str,
    now: datetime,
    warn_within: timedelta = timedelta(days=30),
    names: Mapping[str, str] | None = None,
    *,
    freshness: bool = True,
) -> RoleStatus:
    """One role's thresholds and expiry (``freshness``: and what snapshot records of it)."""
    names = names or {}
    md = state.role(role)
    checks = state_checks(state, role)
    expires: datetime = md.signed.expires
    left = expires - now
    expired = left <= timedelta(0)
    problems = [_check_issue(role, c, names) for c in checks if not c.verified]
    warnings = _freshness(state, role) if freshness else []
    hours = int(left.total_seconds() // 3600)
    if expired:
        problems.append(StatusIssue(StatusCode.EXPIRED, role, {"expires": expires}))
    elif left <= min(warn_within, ONLINE_WARN.get(role, warn_within)):
        values = {"expires": expires, "days_left": left.days, "hours_left": hours}
        warnings.append(StatusIssue(StatusCode.EXPIRES_SOON, role, values))
    return RoleStatus(
        role=role,
        version=md.signed.version,
        expires=expires,
        days_left=left.days,
        checks=checks,
        expired=expired,
        problems=tuple(problems),
        warnings=tuple(warnings),
        hours_left=hours,
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
    roles = tuple(role_status(state, r, now, warn_within, names) for r in state.all_roles())
    problems = [StatusIssue(StatusCode.MISSING_ROLE, r) for r in state.missing]
    if not _snapshot_bytes_match(state):
        problems.append(StatusIssue(StatusCode.SNAPSHOT_HASH_MISMATCH, "timestamp"))
    problems += [
        StatusIssue(StatusCode.TWINS_DIFFER, role, {"files": files})
        for role, files in state.twins_differ
    ]
    if state.root_chain_break is not None:
        n, missing = state.root_chain_break
        values = {"version": n, "file": f"{n}.root.json", "missing": missing}
        problems.append(StatusIssue(StatusCode.ROOT_CHAIN_BROKEN, "root", values))
    warnings = _threshold_warnings(state) + _repo_warnings(state, names)
    return RepoStatus(roles=roles, problems=tuple(problems), warnings=tuple(warnings))
