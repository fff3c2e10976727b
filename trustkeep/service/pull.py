"""PullService: the TUF client workflow over HTTP (``trustkeep pull``, the conformance client).

Every decision is the core's (:mod:`trustkeep.core.client`); this module chooses
the trust anchor, runs a :class:`ClientSession`, and turns the outcome into the
verification report of PRODUCT.md. Only verified metadata and targets are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from tuf.api.metadata import Root, Signed

from trustkeep.adapters.client_dir import MetadataDir
from trustkeep.adapters.http import Fetcher, Progress
from trustkeep.adapters.metadata_source import read_input_file
from trustkeep.core.client import ClientError, TrustedState, load
from trustkeep.core.verify import Anchor, Finding, Report, RoleResult
from trustkeep.errors import InputError
from trustkeep.service._client_session import ClientSession, Limits, TargetResult

__all__ = [
    "ClientSession",
    "Limits",
    "Progress",
    "PullRequest",
    "PullResult",
    "PullService",
    "TargetResult",
]


@dataclass(frozen=True, kw_only=True)
class PullRequest:
    url: str
    directory: Path
    root: Path | None = None
    targets: Sequence[str] = ()
    targets_url: str | None = None
    target_dir: Path | None = None
    at: datetime | None = None
    mirror: bool = True  # also fetch every delegated role (so `verify DIR` sees them all)
    progress: Progress | None = None


@dataclass(frozen=True)
class PullResult:
    report: Report
    targets: tuple[TargetResult, ...] = ()
    requests: tuple[str, ...] = field(default_factory=tuple)


class PullService:
    """``init`` (copy a trusted root) and ``pull`` (refresh, mirror, targets)."""

    def __init__(self, fetcher: Fetcher | None = None, limits: Limits | None = None) -> None:
        self._fetcher = fetcher
        self._limits = limits or Limits()

    def init(self, directory: Path, root_file: Path) -> None:
        """Make ``root_file`` the trusted root of ``directory`` (no network, no checks)."""
        data = read_input_file(root_file, what="trusted root", limit=self._limits.root)
        MetadataDir(directory).write("root", data)

    def _anchor(self, request: PullRequest) -> tuple[Anchor, bytes | None]:
        """The anchor, and the ``--root`` bytes to install when they are newer than DIR's."""
        local = MetadataDir(request.directory)
        current = local.read("root", limit=self._limits.root)
        if request.root is None:
            if current is None:
                raise InputError(
                    f"{request.directory}: no trusted root yet",
                    hint="the first pull needs a trust anchor: --root FILE",
                )
            anchor = Anchor(kind="root", source=str(local.file("root")), version=_version(current))
            return anchor, None
        given = read_input_file(request.root, what="trusted root", limit=self._limits.root)
        given_version = _version(given)
        if given_version is None:
            raise InputError(f"{request.root}: not TUF root metadata")
        newer = current is None or (_version(current) or 0) < given_version
        return Anchor(kind="root", source=str(request.root), version=given_version), (
            given if newer else None
        )

    def pull(self, request: PullRequest) -> PullResult:
        """Run the workflow; trust failures are findings in the report, network errors raise."""
        if request.targets and (request.targets_url is None or request.target_dir is None):
            raise InputError("--target needs --targets-url URL and --target-dir DIR")
        if request.target_dir is not None and _same_dir(request.target_dir, request.directory):
            raise InputError(
                f"{request.target_dir}: the target directory must not be the metadata directory"
            )
        for url in (request.url, request.targets_url):
            if url is not None and (
                urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname
            ):
                raise InputError(f"{url!r} is not an http:// or https:// URL")
        anchor, install = self._anchor(request)
        at = request.at or datetime.now(UTC)
        session = ClientSession(
            metadata_dir=request.directory,
            metadata_url=request.url,
            at=at,
            fetcher=self._fetcher or Fetcher(),
            limits=self._limits,
        )
        results: list[TargetResult] = []
        findings: list[Finding] = []
        try:
            if install is not None:  # signed by its own threshold before it is stored
                session.state = TrustedState(install, at=at)
                session.dir.write_root(session.state.root.signed.version, install)
            session.refresh()
            if request.mirror:
                session.mirror()
            for path in request.targets:
                assert request.target_dir is not None and request.targets_url is not None
                found = session.find(path)
                results.append(
                    session.download(
                        found,
                        target_dir=request.target_dir,
                        targets_url=request.targets_url,
                        progress=request.progress,
                    )
                )
        except ClientError as e:
            findings.append(Finding("error", e.code, e.role, e.message))
        finally:
            if self._fetcher is None:  # our own: its connections end with the pull
                session.fetcher.close()
        report = Report(
            format="tuf", anchor=anchor, roles=_roles(session), findings=tuple(findings)
        )
        return PullResult(report, tuple(results), tuple(session.fetcher.requests))


def _same_dir(a: Path, b: Path) -> bool:
    return a.expanduser().resolve() == b.expanduser().resolve()


def _version(data: bytes) -> int | None:
    try:
        return load(data, Root, "root").signed.version
    except ClientError:
        return None


def _roles(session: ClientSession) -> list[RoleResult]:
    state: TrustedState | None = session.state
    if state is None:
        return []
    out = [
        _result("root", loaded.signed, counted, f"root_history/{loaded.signed.version}.root.json")
        for loaded, counted in state.roots[:-1]
    ]
    entries: list[tuple[str, Signed | None]] = [
        ("root", state.root.signed),
        ("timestamp", state.timestamp.signed if state.timestamp else None),
        ("snapshot", state.snapshot.signed if state.snapshot else None),
    ]
    for role in session.delegators:
        loaded = state.targets(role)
        entries.append((role, loaded.signed if loaded else None))
    for role, signed in entries:
        if signed is None or role not in state.signatures:
            continue
        delegator = session.delegators.get(role)
        parent = delegator if delegator not in (None, "root") else None
        name = session.dir.file(role).name
        out.append(_result(role, signed, state.signatures[role], name, delegated_by=parent))
    return out


def _result(
    role: str,
    signed: Signed,
    counted: tuple[int, int],
    file: str,
    *,
    delegated_by: str | None = None,
) -> RoleResult:
    return RoleResult(
        role=role,
        file=file,
        version=signed.version,
        expires=signed.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        signatures=counted[0],
        threshold=counted[1],
        delegated_by=delegated_by,
    )
