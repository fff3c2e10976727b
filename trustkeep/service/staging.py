"""StagingService: changes not yet signed by their thresholds, and publishing them.

Every change first goes to ``DIR/staged/``; clients read only the published files,
which change only when every staged role meets its thresholds (root: old and new).
Publishing writes the roles, then snapshot and timestamp (signed with this store's
online keys), children before parents. Merging travelled copies needs no key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securesystemslib.exceptions import UnverifiedSignatureError
from tuf.api.metadata import Metadata, Root, Targets

from trustkeep.adapters import repo_dir
from trustkeep.adapters import staging_area as area
from trustkeep.core.progress import Progress, no_progress
from trustkeep.core.tuf_repo import online
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.staging import RoleDiff, diff_role, overlay, staged_version_problem
from trustkeep.core.tuf_repo.state import RepoState, apply_signatures, signed_payload
from trustkeep.core.tuf_repo.status import (
    RepoStatus,
    StatusCode,
    StatusIssue,
    ThresholdCheck,
    repo_status,
    role_status,
    state_checks,
    unmet_lines,
    waiting_for,
)
from trustkeep.errors import InputError, TrustFailure, TrustkeepError
from trustkeep.service._repo_sign import role_from_filename, sign_file
from trustkeep.service._repo_support import (
    SignerPool,
    SignResult,
    WriteResult,
    authorized_keys,
    role_change,
    utc_now,
)

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = [
    "MergeRefused",
    "MergeResult",
    "MergedFile",
    "PublishRefused",
    "PublishResult",
    "StagedRole",
    "StagingService",
]

_ONLINE = ("snapshot", "timestamp")
PublishResult = WriteResult


class PublishRefused(TrustFailure):
    """A staged role is not yet signed by its thresholds: nothing was published."""


class MergeRefused(TrustFailure):
    """A travelled copy differs from the staged role or carries a foreign signature."""


@dataclass(frozen=True)
class StagedRole:
    role: str
    version: int
    path: Path
    #: sha256 of the canonical signed bytes (what every holder signs)
    sha256: str
    checks: tuple[ThresholdCheck, ...]
    #: names (or keyid prefixes) of the keys that may still sign
    waiting: tuple[str, ...]
    complete: bool
    signed_by: tuple[str, ...] = ()
    #: why it cannot be published whatever its signatures (None: it can)
    problem: str | None = None


@dataclass(frozen=True)
class MergedFile:
    file: Path
    role: str
    added: tuple[str, ...]
    already: tuple[str, ...]


@dataclass(frozen=True)
class MergeResult:
    directory: Path
    files: tuple[MergedFile, ...]
    roles: tuple[StagedRole, ...]
    names: dict[str, str]

    @property
    def added(self) -> int:
        return sum(len(f.added) for f in self.files)


class StagingService:
    """``StagingService(keys)``; every method takes the repository directory first."""

    def __init__(self, keys: KeyService, progress: Progress = no_progress) -> None:
        self.progress = progress
        self.keys = keys

    def names(self) -> dict[str, str]:
        """keyid -> name for the named keys of this store."""
        return {e.keyid: e.name for e in self.keys.list() if e.name}

    # -- reading ---------------------------------------------------------------------

    def _staged_role(
        self, directory: Path, published: RepoState | None, state: RepoState, role: str
    ) -> StagedRole:
        md = state.role(role)
        names = self.names()
        checks = state_checks(state, role)
        return StagedRole(
            role=role,
            version=md.signed.version,
            path=area.staged_path(directory, role),
            sha256=hashlib.sha256(signed_payload(md, role)).hexdigest(),
            checks=checks,
            waiting=waiting_for(checks, names),
            complete=all(c.verified for c in checks),
            signed_by=tuple(sorted(md.signatures)),
            problem=staged_version_problem(role, md, published),
        )

    def staged(self, directory: Path) -> list[StagedRole]:
        """The staged roles, each with who has signed and who must still sign."""
        published, state = area.load_working(directory)
        return [self._staged_role(directory, published, state, r) for r in self._order(state)]

    @staticmethod
    def _order(state: RepoState) -> list[str]:
        order = {r: i for i, r in enumerate(state.all_roles())}
        return sorted(state.staged, key=lambda r: (order.get(r, len(order)), r))

    def diff(self, directory: Path, role: str | None = None) -> list[RoleDiff]:
        """What each staged role (or ``role``) changes against its published version."""
        published = area.load_published(directory)
        staged = area.read_staged(directory)
        if role is not None and role not in staged:
            raise InputError(f"{directory}: role {role!r} has no staged change")
        out = []
        for name, md in staged.items():
            if role is not None and name != role:
                continue
            old = None
            if published is not None:
                try:
                    old = published.role(name).signed
                except InputError:
                    old = None
            out.append(diff_role(name, old, md.signed))
        order = {r: i for i, r in enumerate(["root", "targets", *sorted(staged), *_ONLINE])}
        return sorted(out, key=lambda d: order.get(d.role, 0))

    def status(self, directory: Path, *, now: datetime, warn_days: int = 30) -> RepoStatus:
        """The published repository's status, and the staged roles' beside it."""
        warn = timedelta(days=warn_days)
        names = self.names()
        published, working = area.load_working(directory)
        if published is None:
            roles = tuple(self._order(working))
            st = RepoStatus(
                roles=(),
                problems=(StatusIssue(StatusCode.NOT_PUBLISHED, None, {"staged": roles}),),
                warnings=(),
            )
        else:
            st = repo_status(published, now=now, warn_within=warn, names=names)
        staged = []
        for role in self._order(working):
            r = role_status(working, role, now, warn, names, freshness=False)
            values = {
                "version": r.version,
                "complete": r.verified,
                "waiting": waiting_for(r.checks, names),
            }
            issue = StatusIssue(StatusCode.STAGED, role, values)
            staged.append(replace(r, warnings=(issue, *r.warnings)))
        return replace(st, staged=tuple(staged))

    # -- changing the staging area -----------------------------------------------------

    def discard(self, directory: Path, role: str | None = None) -> list[str]:
        """Drop the staged change of ``role`` (default: every staged role); published untouched."""
        staged = area.read_staged(directory)
        if role is not None and role not in staged:
            raise InputError(f"{directory}: role {role!r} has no staged change")
        return area.drop_staged(directory, [role] if role else sorted(staged))

    def sign_staged(self, directory: Path, role: str, key_ref: str) -> SignResult:
        """One more signature on the staged ``role`` with a key of this store."""
        path = area.staged_path(directory, role)
        if not path.is_file():
            raise InputError(f"{directory}: role {role!r} has no staged change")
        return sign_file(self.keys, path, key_ref, names=self.names())

    def _staged_match(self, file: Path, md: Metadata[Any], staged: dict[str, Metadata[Any]]) -> str:
        """The staged role a travelled copy is a copy of (by type, name, or content)."""
        role = role_from_filename(md, file)
        if isinstance(md.signed, Targets) and role not in staged:
            same = [r for r, s in staged.items() if s.signed_bytes == md.signed_bytes]
            if same:
                role = same[0]
        if role not in staged:
            raise InputError(f"{file}: no staged change of role {role!r} to merge it into")
        return role

    def merge(self, directory: Path, files: Sequence[Path]) -> MergeResult:
        """Fold the signatures of travelled copies into the staged roles (no key needed).

        All or nothing: a copy whose signed content differs from the staged role, or that
        carries a signature no key of the role made, refuses the merge (TrustFailure).
        """
        published, state = area.load_working(directory)
        staged = {r: state.role(r) for r in state.staged}
        if not staged:
            raise InputError(f"{directory}: nothing is staged to merge signatures into")
        results = []
        touched: list[str] = []
        for file in files:
            md = repo_dir.read_metadata(file)
            role = self._staged_match(file, md, staged)
            target = staged[role]
            if md.signed_bytes != target.signed_bytes:
                raise MergeRefused(
                    f"{file}: its signed content differs from the staged {role} "
                    f"v{target.signed.version}: {_describe_difference(role, target, md)}; "
                    "nothing merged",
                    hint="the holder signed another version: send them the staged file again",
                )
            added, already = self._fold(file, role, md, target, state)
            if added and role not in touched:
                touched.append(role)
            results.append(MergedFile(file, role, tuple(added), tuple(already)))
        if touched:
            area.write_staged(directory, state, touched)
        roles = tuple(self._staged_role(directory, published, state, r) for r in self._order(state))
        return MergeResult(directory, tuple(results), roles, self.names())

    @staticmethod
    def _fold(
        file: Path, role: str, md: Metadata[Any], target: Metadata[Any], state: RepoState
    ) -> tuple[list[str], list[str]]:
        keys = authorized_keys(state, role)
        payload = signed_payload(target, role)
        added, already = [], []
        for keyid, signature in sorted(md.signatures.items()):
            if keyid in target.signatures and target.signatures[keyid].signature == (
                signature.signature
            ):
                already.append(keyid)
                continue
            key = keys.get(keyid)
            if key is None:
                raise MergeRefused(
                    f"{file}: carries a signature by key {keyid[:8]}, which is not a key of "
                    f"role {role!r}; nothing merged"
                )
            try:
                key.verify_signature(signature, payload)
            except UnverifiedSignatureError as e:
                raise MergeRefused(
                    f"{file}: the signature by key {keyid[:8]} does not verify over the staged "
                    f"{role}; nothing merged"
                ) from e
            target.signatures[keyid] = signature
            added.append(keyid)
        return added, already

    # -- publishing ----------------------------------------------------------------------

    def prepare(
        self,
        directory: Path,
        *,
        now: datetime | None = None,
        expires: str | None = None,
        just_staged: tuple[RepoState, Sequence[str]] | None = None,
        pool: SignerPool | None = None,
    ) -> tuple[RepoState, list[str]]:
        """The state ``publish`` would write and why it cannot yet (empty: it can).

        Writes only in one case: a new repository's staged timestamp made again over its
        signed snapshot, when this store cannot sign it (its holder signs that one).

        ``just_staged``: a state and the roles of it this process has just written to an
        area that was empty (``stage``): those objects are what the area holds, so they
        are used as they are, not read and parsed again, and the signatures this process
        made over them with keys it verified need no second verification.
        """
        published = area.load_published(directory)
        if just_staged is not None:
            staged = {r: just_staged[0].role(r) for r in just_staged[1]}
        else:
            staged = area.read_staged(directory)
        if not staged:
            raise InputError(f"{directory}: nothing is staged to publish")
        for role, md in staged.items():
            problem = staged_version_problem(role, md, published)
            if problem is not None:
                raise InputError(f"{area.staged_path(directory, role)}: staged {role} {problem}")
        state = overlay(published, staged)
        if just_staged is not None:
            state.proven.update(just_staged[0].proven)
            state.fresh.update({r: k for r, k in just_staged[0].fresh.items() if r in staged})
        when = utc_now(now)
        policy = ExpiryPolicy.parse(expires)
        pool = pool or SignerPool(self.keys)
        state.changed = [r for r in self._order(state) if r not in _ONLINE]
        offline = [r for r in state.all_roles() if r not in _ONLINE]
        waiting = self._blockers(state, when, offline)
        if waiting:  # no online key is unlocked for a change that cannot be published
            return state, waiting
        remade = self._online(state, published, pool, when, policy)
        blockers = self._blockers(state, when, state.all_roles())
        if blockers and remade:
            # the timestamp holder signs this one, over the signed snapshot, instead
            area.write_staged(directory, state, ["timestamp"])
            blockers.append("the staged timestamp was made again over the signed snapshot")
        return state, blockers

    def _online(
        self,
        state: RepoState,
        published: RepoState | None,
        pool: SignerPool,
        when: datetime,
        policy: ExpiryPolicy,
    ) -> bool:
        """New snapshot and timestamp when the change needs them, signed by this store.

        True when the staged timestamp of a new repository had to be made again (its
        snapshot was signed after it).
        """
        targets_changed = any(r not in ("root", *_ONLINE) for r in state.staged)
        snap_ok = all(c.verified for c in state_checks(state, "snapshot"))
        if published is None or "snapshot" in state.staged:
            if not snap_ok:
                self._sign(state, pool, "snapshot")
            state.mark("snapshot")
        elif targets_changed or not snap_ok:
            online.update_snapshot(state, now=when, policy=policy)
            self._sign(state, pool, "snapshot")
        snap_bytes = repo_dir.serialize(state.snapshot)
        meta = state.timestamp.signed.snapshot_meta
        recorded = meta.hashes.get("sha256") if meta.hashes else None
        stale = "snapshot" in state.changed and (
            recorded != hashlib.sha256(snap_bytes).hexdigest()
            or meta.version != state.snapshot.signed.version
        )
        ts_ok = all(c.verified for c in state_checks(state, "timestamp"))
        if stale or not ts_ok:
            version = state.timestamp.signed.version
            online.update_timestamp(state, snap_bytes, now=when, policy=policy)
            if published is None:
                state.timestamp.signed.version = version
            self._sign(state, pool, "timestamp")
            return published is None and stale
        if "timestamp" in state.staged:
            state.mark("timestamp")
        return False

    def _sign(self, state: RepoState, pool: SignerPool, role: str) -> None:
        apply_signatures(state.role(role), pool.signers(authorized_keys(state, role)))

    def _blockers(self, state: RepoState, when: datetime, roles: Sequence[str]) -> list[str]:
        """Why ``roles`` of ``state`` cannot be published: thresholds not met, expired."""
        names = self.names()
        changed = set(state.changed)
        out = [f"role {r!r} is delegated but has no metadata" for r in state.missing]
        for role in roles:
            version = state.role(role).signed.version
            out.extend(unmet_lines(role, version, state_checks(state, role), names))
            if role in changed and state.role(role).signed.expires <= when:
                out.append(f"{role} v{state.role(role).signed.version}: expired")
        return out

    def publish(
        self, directory: Path, *, now: datetime | None = None, expires: str | None = None
    ) -> PublishResult:
        """Publish every staged role, then snapshot and timestamp; refuse unless all verify."""
        state, blockers = self.prepare(directory, now=now, expires=expires)
        if blockers:
            raise PublishRefused(
                f"{directory}: not published, staged changes lack signatures: "
                + "; ".join(blockers),
                hint="holders sign DIR/staged/<role>.json (or a copy, then merge it back)",
            )
        return self._write(directory, state)

    def _write(
        self,
        directory: Path,
        state: RepoState,
        encoded: dict[str, bytes] | None = None,
        durable: dict[str, Path] | None = None,
    ) -> PublishResult:
        """Publish ``state``. ``encoded``: roles whose bytes are known; ``durable``: the
        staged files holding exactly those bytes, durable already (published as links)."""
        staged = sorted(state.staged)
        changes = tuple(
            role_change(state, r, directory / repo_dir.files_for_role(state, r)[0])
            for r in state.changed
        )
        written = repo_dir.write_changed(
            directory, state, progress=self.progress, encoded=encoded, durable=durable
        )
        area.drop_staged(directory, staged)
        return WriteResult(directory, changes, tuple(written), self.names(), published=True)

    def stage(
        self,
        directory: Path,
        state: RepoState,
        *,
        force: bool,
        now: datetime | None = None,
        expires: str | None = None,
        pool: SignerPool | None = None,
    ) -> WriteResult:
        """Write ``state``'s changed roles to the staging area; publish them at once when
        the area was empty, nothing forces staging, and every threshold is met here.
        ``pool``: the signers the command has unlocked already (for the online roles)."""
        was_empty = not state.staged
        new_repo = not area.has_published_root(directory)
        roles = [r for r in state.changed if new_repo or r not in _ONLINE]
        encoded: dict[str, bytes] = {}
        written = area.write_staged(directory, state, roles, encoded)
        state.changed.clear()
        blockers: list[str] = []
        if was_empty and not force:
            try:
                ready, blockers = self.prepare(
                    directory, now=now, expires=expires, just_staged=(state, roles), pool=pool
                )
                if not blockers:
                    # offline roles are published as staged: the bytes encoded above
                    # (snapshot and timestamp may have been signed or made again since)
                    same = {r: encoded[r] for r in roles if r not in _ONLINE}
                    paths = dict(zip(roles, written, strict=True))
                    return self._write(directory, ready, same, paths)
            except TrustkeepError:
                # publishing at once failed (e.g. a wrong passphrase for the online keys):
                # the area was empty, so leave it empty, as a failed command changes nothing
                area.drop_staged(directory, roles)
                raise
        return WriteResult(
            directory,
            tuple(role_change(state, r, path) for r, path in zip(roles, written, strict=True)),
            tuple(written),
            self.names(),
            published=False,
            blockers=tuple(blockers),
        )


def _describe_difference(role: str, staged: Metadata[Any], copy: Metadata[Any]) -> str:
    if type(staged.signed) is not type(copy.signed):
        return f"it is {copy.signed.type} metadata"
    diff = diff_role(role, staged.signed, copy.signed)
    parts = []
    for e in diff.entries[:4]:
        if e.old is not None and e.new is not None:
            parts.append(f"{e.kind} {e.subject}: {e.old} (staged) vs {e.new} (copy)")
        else:
            parts.append(f"{e.kind} {e.subject}")
    if not parts and isinstance(copy.signed, Root | Targets):
        parts.append("other fields differ")
    return ", ".join(parts) or "other fields differ"
