"""``trustkeep verify``: offline verification of a TUF or Notary metadata chain."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit, warn
from trustkeep.cli._status_text import family, group_roles, grouped
from trustkeep.core.verify import Finding, Report, RoleResult
from trustkeep.service.verify import VerifyRequest, parse_reference_time

__all__ = ["COMMANDS", "render_report", "verify"]

_OK, _BAD, _UNVERIFIED = "✓", "✗", "?"


def _line(r: RoleResult) -> str:
    """✓ verified; ✗ its own checks failed; ? its own checks passed but a link above it
    failed (checked against keys nobody can trust)."""
    mark = _OK if r.verified else _BAD if not r.valid else _UNVERIFIED
    version = f"v{r.version}" if r.version is not None else "v?"
    threshold = r.threshold if r.threshold is not None else "?"
    why = f"  [unverified: {r.unverified_reason}]" if r.valid and not r.verified else ""
    return (
        f"{mark} {r.role} {version}  expires {r.expires or '?'}  "
        f"signatures {r.signatures}/{threshold}  ({r.file}){why}"
    )


def _tree(roles: Sequence[RoleResult]) -> list[str]:
    lines: list[str] = []
    roots = [r for r in roles if r.role == "root"]
    if roots:
        chain = " → ".join(f"v{r.version}" for r in roots)
        lines.append(f"root {chain}")
        lines.extend(f"  {_line(r)}" for r in roots)
    children: dict[str | None, list[RoleResult]] = {}
    for r in roles:
        if r.role not in ("root", "timestamp", "snapshot", "targets"):
            children.setdefault(r.delegated_by, []).append(r)
    depth = 0
    for top in ("timestamp", "snapshot", "targets"):
        for r in roles:
            if r.role == top:
                lines.append(f"{'  ' * depth}{'└─ ' if depth else ''}{_line(r)}")
                depth += 1
    shown: set[str] = set()

    def walk(parent: str, indent: int) -> None:
        kids = [c for c in children.get(parent, []) if c.role not in shown]
        shown.update(c.role for c in kids)
        for summary, group in _bin_groups(kids):
            if summary is not None:
                lines.append(f"{'  ' * indent}└─ {summary}")
            for child in group:
                lines.append(f"{'  ' * indent}└─ {_line(child)}")
                walk(child.role, indent + 1)

    walk("targets", depth)
    for group in children.values():
        for orphan in group:
            if orphan.role not in shown:
                lines.append(f"   {_line(orphan)}")
    return lines


_GROUP = 8  #: this many bins of one family or more get a summary line


def _bin_groups(
    kids: Sequence[RoleResult],
) -> list[tuple[str | None, list[RoleResult]]]:
    """Siblings in order; a run of ``_GROUP``+ bins (``bins-00`` …) becomes one summary
    line, followed by only those of its bins that failed."""
    out: list[tuple[str | None, list[RoleResult]]] = []
    by_family: dict[str, list[RoleResult]] = {}
    for kid in kids:
        by_family.setdefault(family(kid.role) or kid.role, []).append(kid)
    for name, group in by_family.items():
        if len(group) < _GROUP or name == group[0].role:
            out.append((None, group))
            continue
        bad = [r for r in group if not r.valid]
        mark = _BAD if bad else _OK
        versions = sorted({r.version for r in group if r.version is not None})
        span = f"v{versions[0]}" if len(versions) == 1 else f"v{versions[0]}…v{versions[-1]}"
        summary = (
            f"{mark} {len(group)} bins {group_roles([r.role for r in group])} {span}: "
            f"{len(group) - len(bad)} valid, {len(bad)} invalid"
        )
        out.append((summary, bad))
    return out


def _finding_lines(findings: Sequence[Finding]) -> list[str]:
    """One line per finding; ``_GROUP``+ alike findings of one bin family: one summary line."""
    lines: list[str] = []
    groups = grouped(findings, lambda f: (f.severity, f.code, family(f.role)), lambda f: f.role)
    for first, roles in groups:
        if len(roles) >= _GROUP and family(first.role) != first.role:
            lines.append(
                f"  {first.severity:<7} {first.code} [{len(roles)} bins "
                f"{group_roles(roles)}]: {first.message} (and {len(roles) - 1} alike)"
            )
            continue
        key = (first.severity, first.code, family(first.role))
        for f in findings:
            if (f.severity, f.code, family(f.role)) == key:
                role = f" [{f.role}]" if f.role else ""
                lines.append(f"  {f.severity:<7} {f.code}{role}: {f.message}")
    return lines


def render_report(report: Report, source: str) -> str:
    """The human form: verdict, anchor, the chain as a tree, then the findings."""
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    verdict = "VALID" if report.valid else "INVALID"
    a = report.anchor
    anchor = {
        "root": f"trusted root {a.source}",
        "pins": f"pins {a.source} for {a.gun}: {a.mechanism}",
        "previous": f"previously trusted root {a.source}",
        "none": "none (chain checked from its own first root)",
    }[a.kind]
    if a.version is not None and a.kind != "none":
        anchor += f" (root v{a.version})"
    lines = [
        f"{source}: {report.format} metadata — {verdict} "
        f"({errors} error(s), {warnings} warning(s))",
        f"anchor: {anchor}",
        *([f"reference time: {report.reference_time}"] if report.reference_time else []),
        *_tree(report.roles),
    ]
    if report.findings:
        lines.append("findings:")
        lines += _finding_lines(report.findings)
    return "\n".join(lines)


@click.command("verify")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--root",
    "root",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Trusted root.json to walk the root chain from.",
)
@click.option(
    "--pins",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="daemon.json, Notary client config or trustkeep pin file (Notary metadata).",
)
@click.option("--gun", metavar="GUN", help="Notary repository name (for --pins and trust dirs).")
@click.option(
    "--previous",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="Previously trusted metadata: versions must not go backwards.",
)
@click.option(
    "--at",
    "at",
    metavar="TIME",
    help="Reference time for expiry (ISO 8601); default now, or an evidence "
    "archive's retrieval time.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tuf", "notary"]),
    help="Force the metadata format (default: auto-detected).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes for signature checks (default: chosen by the amount of "
    "metadata and the free cores; 1 = this process only).",
)
@click.option(
    "--migrated-from",
    metavar="OUT",
    type=click.Path(path_type=Path),
    help="Also check DIR/migration/statement.json against this Notary archive or trust dir.",
)
@json_option
def verify(
    directory: Path,
    root: Path | None,
    pins: Path | None,
    gun: str | None,
    previous: Path | None,
    at: str | None,
    fmt: str | None,
    jobs: int | None,
    migrated_from: Path | None,
) -> int:
    """Verify a metadata chain offline: DIR is a TUF metadata directory, a Notary cache
    (<trust_dir>/tuf/<GUN>/metadata), a trust dir with --gun, or a .tar/.tar.gz of one.

    Exit 0 valid, 1 a check failed, 2 bad input.
    """
    pulled = get_app().service.verify.retrieval_time(directory, gun)  # evidence archives
    when = parse_reference_time(at) if at else pulled
    if at is None and pulled is not None:
        stamp = f"{pulled:%Y-%m-%dT%H:%M:%SZ}"
        warn(f"{directory}: evidence archive: verified as of its retrieval time {stamp} (or --at)")
    request = VerifyRequest(
        directory=directory,
        root=root,
        pins=pins,
        gun=gun,
        previous=previous,
        at=when,
        format=fmt,  # type: ignore[arg-type]
        jobs=jobs,
    )
    result = get_app().service.verify.verify(request)
    for note in result.notes:
        warn(f"{directory}: {note}")
    report = result.report
    if migrated_from is not None:
        return _with_migration(report, directory, migrated_from, gun)
    emit(report.to_dict, lambda: render_report(report, str(directory)))
    return 0 if report.valid else 1


def _with_migration(report: Report, directory: Path, source: Path, gun: str | None) -> int:
    check = get_app().service.migrate.check(directory, source, gun=gun)
    c = check.check

    def human() -> str:
        verdict = "VALID" if c.valid else "INVALID"
        lines = [render_report(report, str(directory)), f"migration statement: {verdict}"]
        lines.append(
            f"  {check.statement}: {c.gun}, {c.tuf_signatures}/{c.tuf_threshold} new root "
            f"signature(s), Notary root signatures: {len(c.notary_signed_by)}"
        )
        lines += [f"  error: {p}" for p in c.problems]
        lines += [f"  warning: {w}" for w in c.warnings]
        return "\n".join(lines)

    valid = report.valid and c.valid  # the verdict of the run: what the exit code says
    emit({**report.to_dict(), "valid": valid, "migration": check.to_dict()}, human)
    return 0 if valid else 1


COMMANDS = [verify]
