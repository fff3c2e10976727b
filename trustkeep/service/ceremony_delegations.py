"""The delegations flow of the ceremony: the graph with each role's keys, threshold, paths,
expiry and signatures, and reviews of every change computed by running the change itself
on a copy of the working repository (so a review fails exactly where the write would).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trustkeep.adapters import staging_area
from trustkeep.core.ceremony import content_digest, key_label, waiting_line
from trustkeep.core.progress import Progress
from trustkeep.core.transcript import FieldValue
from trustkeep.core.tuf_repo import delegation as deleg
from trustkeep.core.tuf_repo.delegation import BinStyle, DelegationInfo
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RoleStatus
from trustkeep.errors import TrustkeepError
from trustkeep.service._repo_support import authorized_keys, utc_now

if TYPE_CHECKING:
    from trustkeep.service.ceremony import CeremonyService, StatusView
    from trustkeep.service.repo import WriteResult

__all__ = ["DelegationCeremony", "DelegationReview", "DelegationView"]

#: a review names this many roles of one outcome, then counts the rest
_SHOWN = 3


@dataclass(frozen=True)
class DelegationReview:
    """What a change writes, and the delegator's content it was computed from: the write
    refuses to go ahead when that content changed since (review it again)."""

    lines: tuple[str, ...]
    delegator: str
    digest: str


@dataclass(frozen=True)
class DelegationView:
    """The delegation graph with the status of every delegated role, read once."""

    infos: tuple[DelegationInfo, ...]
    #: ``PREFIX-*`` of succinct bins -> the bins' role names
    members: dict[str, tuple[str, ...]]
    view: StatusView
    _rows: dict[str, RoleStatus] = field(default_factory=dict)
    _staged: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._rows.update({r.role: r for r in self.view.rows()})
        self._staged.update(r.role for r in self.view.status.staged)

    def info(self, role: str) -> DelegationInfo | None:
        return next((d for d in self.infos if d.role == role), None)

    def state(self, role: str) -> str:
        """``signed``, ``waiting``, ``expired``, ``missing``; ``staged`` before a staged one."""
        r = self._rows.get(role)
        if r is None:
            if role in self.members:
                states = {self.state(m) for m in self.members[role]}
                return ", ".join(sorted(states))
            return "missing"
        word = "expired" if r.expired else ("signed" if r.verified else "waiting")
        return f"staged, {word}" if role in self._staged else word

    def matches(self, role: str, needle: str) -> bool:
        """The filter rule: ``needle`` in the role's name or its state (case-insensitive)."""
        return not needle or needle.lower() in f"{role} {self.state(role)}".lower()

    def roles(self) -> list[str]:
        """Every delegated role, succinct bins one by one."""
        out: list[str] = []
        for d in self.infos:
            out += self.members.get(d.role, (d.role,))
        return out

    def details(self, role: str) -> list[str]:
        """Keys, threshold, paths, version, expiry and signatures of ``role``."""
        names = self.view.names
        info = self.info(role) or self._bin_group(role)
        if info is None:
            return [f"{role}: the top-level targets role"] if role == "targets" else [role]
        lines = [f"{role} — delegated by {info.delegator}, state: {self.state(role)}"]
        lines.append(f"threshold: {info.threshold} of {len(info.keyids)} key(s)")
        lines += [f"  key {key_label(k, names)}" for k in info.keyids]
        lines.append(f"scope: {_scope(info, self.members.get(info.role, ()))}")
        if info.terminating and not info.succinct:
            lines.append("terminating: the search stops at this role")
        if role in self.members:
            lines += self._group_lines(role)
        r = self._rows.get(role)
        if r is not None:
            left = "expired" if r.expired else f"{r.days_left} days left"
            lines.append(f"version {r.version}, expires {r.expires:%Y-%m-%d %H:%M}Z ({left})")
            lines += [f"{c.label}: {waiting_line(c, names)}" for c in r.checks]
        return lines

    def _bin_group(self, role: str) -> DelegationInfo | None:
        group = next((g for g, m in self.members.items() if role in m), None)
        return self.info(group) if group is not None else None

    def _group_lines(self, group: str) -> list[str]:
        rows = [self._rows[m] for m in self.members[group] if m in self._rows]
        waiting = sum(1 for r in rows if not r.verified)
        lines = [f"{len(rows)} bin file(s): {len(rows) - waiting} signed, {waiting} waiting"]
        if rows:
            first = min(rows, key=lambda r: r.expires)
            lines.append(f"soonest expiry {first.expires:%Y-%m-%d %H:%M}Z ({first.role})")
        return lines


def _scope(info: DelegationInfo, members: Sequence[str]) -> str:
    if info.succinct:
        return f"{info.bins} succinct hash bins {members[0]} … {members[-1]}"
    if info.paths is not None:
        return "paths " + (", ".join(info.paths) or "(none)")
    prefixes = info.path_hash_prefixes or ()
    more = f" … ({len(prefixes)})" if len(prefixes) > 4 else ""
    return "hash prefixes " + ", ".join(prefixes[:4]) + more


class DelegationCeremony:
    """``DelegationCeremony(ceremony)``: the delegation reviews and writes of one repository.

    Every write is recorded in the ceremony's transcript, failures too.
    """

    def __init__(self, ceremony: CeremonyService) -> None:
        self.ceremony = ceremony
        self.repo = ceremony.service.repo
        self.directory = ceremony.directory

    def tree(self) -> list[DelegationInfo]:
        """The delegation graph of the working repository (staged changes included)."""
        return deleg.delegation_tree(self.repo.working(self.directory))

    def view(self) -> DelegationView:
        state = self.repo.working(self.directory)
        infos = tuple(deleg.delegation_tree(state))
        members: dict[str, tuple[str, ...]] = {}
        for d in infos:
            if d.succinct:
                _parent, entry = deleg.delegation_of(state, d.role)
                members[d.role] = tuple(entry.get_roles())  # type: ignore[union-attr]
        return DelegationView(infos=infos, members=members, view=self.ceremony.status())

    # -- reviews: the change run on a copy of the working repository -------------------

    def _outcome(self, state: RepoState, roles: Sequence[str]) -> list[str]:
        """Who signs each changed role here, and whether the write publishes or stages."""
        mine = {e.keyid for e in self.ceremony.service.keys.list() if e.has_private}
        names = self.repo.names()
        by_line: dict[str, list[str]] = {}
        complete = True
        for role in roles:
            keys = authorized_keys(state, role)
            threshold = state.delegator_signed(role).get_delegated_role(role).threshold
            here = sorted(k for k in keys if k in mine)
            others = sorted(k for k in keys if k not in mine)
            complete &= len(here) >= threshold
            line = f"signed here by {', '.join(key_label(k, names) for k in here) or 'no key'}"
            if len(here) < threshold:
                line += f"; waits for {threshold - len(here)} of: "
                line += ", ".join(key_label(k, names) for k in others)
            by_line.setdefault(line, []).append(f"{role} v{state.role(role).signed.version}")
        for online in ("snapshot", "timestamp"):  # publishing signs these here too
            role_keys = state.root.signed.roles[online]
            complete &= len(set(role_keys.keyids) & mine) >= role_keys.threshold
        lines = []
        for line, which in by_line.items():
            more = f" and {len(which) - _SHOWN} more" if len(which) > _SHOWN else ""
            lines.append(f"~ {', '.join(which[:_SHOWN])}{more}: {line}")
        if complete and not staging_area.read_staged(self.directory):
            lines.append("then published at once, with a new snapshot and timestamp")
        else:
            lines.append(
                f"staged in {staging_area.staged_dir(self.directory)} until every threshold "
                "is met: holders sign from the signing queue, then publish"
            )
        return lines

    def _run(self, delegator: str, change: Callable[[RepoState], object]) -> tuple[RepoState, str]:
        """``change`` applied to a copy of the working repository (nothing written), and
        the digest of ``delegator`` before it."""
        state = self.repo.working(self.directory)
        before = content_digest(state.targets_role(delegator))
        change(state)
        return state, before

    def _review(
        self, state: RepoState, delegator: str, before: str, lines: list[str]
    ) -> DelegationReview:
        return DelegationReview(
            lines=tuple(lines + self._outcome(state, list(state.changed))),
            delegator=delegator,
            digest=before,
        )

    def review_add(
        self,
        role: str,
        *,
        keys: Sequence[str],
        paths: Sequence[str],
        threshold: int,
        delegator: str = "targets",
    ) -> DelegationReview:
        """What adding ``role`` writes (keys resolved now: an unknown key fails here)."""
        resolved = self.repo.resolve(keys)
        names = self.repo.names()
        state, before = self._run(
            delegator,
            lambda s: deleg.add_delegation(
                s,
                role,
                delegator=delegator,
                keys=[r.key for r in resolved],
                threshold=threshold,
                paths=list(paths),
                hash_prefixes=None,
                terminating=False,
                now=utc_now(),
                policy=ExpiryPolicy.parse(None),
            ),
        )
        lines = [f"+ delegation {delegator} -> {role}, threshold {threshold} of {len(resolved)}"]
        lines += [f"+ key {key_label(r.keyid, names)} added to {role}" for r in resolved]
        lines.append(f"+ paths: {', '.join(paths) or '(none)'}")
        lines += _consequences(role, threshold, len(resolved))
        return self._review(state, delegator, before, lines)

    def review_remove(self, role: str) -> DelegationReview:
        state = self.repo.working(self.directory)
        info = next((d for d in deleg.delegation_tree(state) if d.role == role), None)
        before = content_digest(state.targets_role(deleg.delegation_of(state, role)[0]))
        delegator = deleg.remove_delegation(state, role, now=utc_now(), policy=ExpiryPolicy())
        names = self.repo.names()
        what = f" ({info.bins} succinct hash bins)" if info is not None and info.succinct else ""
        lines = [f"- delegation {delegator} -> {role}{what}"]
        if info is not None:
            lines += [f"- key {key_label(k, names)} no longer signs {role}" for k in info.keyids]
        lines.append(f"{role}: metadata files stay on disk for history; clients stop reading them")
        return self._review(state, delegator, before, lines)

    def review_keys(
        self,
        role: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        threshold: int | None = None,
    ) -> DelegationReview:
        """What changing ``role``'s keys or threshold writes."""
        state = self.repo.working(self.directory)
        parent, entry = deleg.delegation_of(state, role)
        digest = content_digest(state.targets_role(parent))
        old_keys, old_threshold = list(entry.keyids), entry.threshold
        added = self.repo.resolve(add)
        gone = [self.repo.delegation_keyid(ref, old_keys) for ref in remove]
        resigned = deleg.change_delegation_keys(
            state,
            role,
            add=[r.key for r in added],
            remove=gone,
            threshold=threshold,
            now=utc_now(),
            policy=ExpiryPolicy(),
        )
        names = self.repo.names()
        lines = [f"+ key {key_label(r.keyid, names)} signs {role}" for r in added]
        lines += [f"- key {key_label(k, names)} no longer signs {role}" for k in gone]
        new_threshold = entry.threshold
        if new_threshold != old_threshold:
            lines.append(f"~ threshold of {role}: {old_threshold} -> {new_threshold}")
        lines += _consequences(role, new_threshold, len(entry.keyids))
        if resigned:
            lines.append(
                f"~ {len(resigned)} role(s) re-signed: their signatures no longer meet the keys"
            )
        return self._review(state, parent, digest, lines)

    def review_bins(
        self,
        *,
        count: int,
        keys: Sequence[str],
        threshold: int,
        prefix: str = "bins",
        style: BinStyle = "succinct",
        delegator: str = "targets",
    ) -> DelegationReview:
        resolved = self.repo.resolve(keys)
        names = self.repo.names()
        state, before = self._run(
            delegator,
            lambda s: deleg.add_bins(
                s,
                delegator=delegator,
                count=count,
                keys=[r.key for r in resolved],
                threshold=threshold,
                name_prefix=prefix,
                style=style,
                now=utc_now(),
                policy=ExpiryPolicy(),
            ),
        )
        bins = [r for r in state.changed if r not in (delegator, "snapshot", "timestamp")]
        lines = [
            f"+ {delegator} delegates every path to {count} {style} hash bins "
            f"{bins[0]} … {bins[-1]}, threshold {threshold} of {len(resolved)}",
            *(f"+ key {key_label(r.keyid, names)} signs every bin" for r in resolved),
            f"+ {count} new bin files, version 1, empty",
        ]
        lines += _consequences(f"{prefix}-*", threshold, len(resolved))
        return self._review(state, delegator, before, lines)

    # -- writes ------------------------------------------------------------------------

    def _write(
        self,
        step: str,
        what: dict[str, FieldValue],
        do: Callable[[], WriteResult],
        reviewed: DelegationReview | None,
    ) -> WriteResult:
        try:
            if reviewed is not None:
                self._check_reviewed(reviewed)
            result = do()
        except TrustkeepError as e:
            self.ceremony.record("failed", action=f"delegation {step}", error=e.message, **what)
            raise
        changes = tuple(self.ceremony.describe_change(c, result.names) for c in result.changes)
        self.ceremony.record(f"delegation {step}", changes=changes, **what)
        return result

    def _check_reviewed(self, reviewed: DelegationReview) -> None:
        from trustkeep.service.ceremony import ReviewOutdated

        md = self.repo.working(self.directory).role(reviewed.delegator)
        if content_digest(md) != reviewed.digest:
            raise ReviewOutdated(
                f"{self.directory}: {reviewed.delegator} changed since you reviewed this "
                "change; review it again"
            )

    def add(
        self,
        role: str,
        *,
        keys: Sequence[str],
        paths: Sequence[str],
        threshold: int,
        delegator: str = "targets",
        reviewed: DelegationReview | None = None,
    ) -> WriteResult:
        what: dict[str, FieldValue] = {
            "role": role,
            "delegator": delegator,
            "keys": tuple(keys),
            "paths": tuple(paths),
            "threshold": threshold,
        }
        return self._write(
            "added",
            what,
            lambda: self.repo.delegation_add(
                self.directory,
                role,
                keys=keys,
                paths=list(paths),
                threshold=threshold,
                delegator=delegator,
            ),
            reviewed,
        )

    def remove(self, role: str, *, reviewed: DelegationReview | None = None) -> WriteResult:
        return self._write(
            "removed",
            {"role": role},
            lambda: self.repo.delegation_remove(self.directory, role),
            reviewed,
        )

    def change_keys(
        self,
        role: str,
        *,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        threshold: int | None = None,
        reviewed: DelegationReview | None = None,
    ) -> WriteResult:
        what: dict[str, FieldValue] = {
            "role": role,
            "added": tuple(add),
            "removed": tuple(remove),
            "threshold": threshold if threshold is not None else "kept",
        }
        return self._write(
            "keys changed",
            what,
            lambda: self.repo.delegation_keys(
                self.directory, role, add=add, remove=remove, threshold=threshold
            ),
            reviewed,
        )

    def bins(
        self,
        *,
        count: int,
        keys: Sequence[str],
        threshold: int,
        prefix: str = "bins",
        style: BinStyle = "succinct",
        delegator: str = "targets",
        progress: Progress | None = None,
        reviewed: DelegationReview | None = None,
    ) -> WriteResult:
        """Hashed bins of targets; ``progress`` hears the signing and writing as it goes."""
        from trustkeep.service.repo import RepoService

        repo = RepoService(self.ceremony.service.keys, progress) if progress else self.repo
        what: dict[str, FieldValue] = {
            "bins": count,
            "prefix": prefix,
            "style": style,
            "delegator": delegator,
            "keys": tuple(keys),
            "threshold": threshold,
        }
        return self._write(
            "bins added",
            what,
            lambda: repo.delegation_bins(
                self.directory,
                count=count,
                keys=keys,
                threshold=threshold,
                name_prefix=prefix,
                style=style,
                delegator=delegator,
            ),
            reviewed,
        )


def _consequences(role: str, m: int, n: int) -> list[str]:
    """What an m-of-n threshold of a delegated role means for its key holders."""
    lines = [f"any {m} of the {n} key holder(s) of {role} together sign a new version"]
    if m == n:
        lines.append(
            f"every holder must sign: one lost key blocks {role} until its delegator "
            "changes its keys"
        )
    else:
        lines.append(f"up to {n - m} key(s) of {role} may be lost and it can still be signed")
    return lines
