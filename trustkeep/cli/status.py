"""``trustkeep status DIR``: published and staged state side by side, who still must sign."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._repo_options import directory_argument
from trustkeep.cli._repo_output import check_doc
from trustkeep.cli._status_text import (
    group_roles,
    grouped_lines,
    issue_doc,
    left_text,
    name_directory,
)
from trustkeep.core.tuf_repo.status import RepoStatus, RoleStatus, by_name, waiting_for

__all__ = ["COMMANDS", "status"]

_MAX_QUIET_ROLES = 20
_TOP = ("root", "targets", "snapshot", "timestamp")


def _role_doc(r: RoleStatus, names: dict[str, str]) -> dict[str, Any]:
    return {
        "role": r.role,
        "version": r.version,
        "expires": r.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": r.days_left,
        "hours_left": r.hours_left,
        "expired": r.expired,
        "verified": r.verified,
        "ok": r.ok,
        "signatures": [check_doc(c, names) for c in r.checks],
        "waiting": list(waiting_for(r.checks, names)),
        "problems": [issue_doc(i) for i in r.problems],
        "warnings": [issue_doc(i) for i in r.warnings],
    }


def _sig_cell(r: RoleStatus, names: dict[str, str]) -> str:
    cells = []
    for c in r.checks:
        cell = f"{len(c.signed)}/{c.threshold}"
        if not c.verified:
            who = ", ".join(names.get(k) or k[:8] for k in by_name(c.unsigned, names))
            cell += f" missing: {who}"
        cells.append(cell)
    return " + ".join(cells)


def _row(r: RoleStatus, names: dict[str, str]) -> str:
    flag = "" if r.ok else "  ✗"
    return (
        f"{r.role[:24]:<24} {r.version:>5}  {r.expires:%Y-%m-%d %H:%M:%SZ} "
        f"{left_text(r.days_left, r.hours_left):>7}  {_sig_cell(r, names)}{flag}"
    )


def _beside(staged: RoleStatus | None, names: dict[str, str]) -> str:
    """The staged version of a published role, on the same row."""
    if staged is None:
        return ""
    waiting = waiting_for(staged.checks, names)
    state = f"still to sign: {', '.join(waiting)}" if waiting else "signed, ready to publish"
    return f"   → staged v{staged.version}: {state}"


def _shown(roles: tuple[RoleStatus, ...], pattern: str | None) -> tuple[RoleStatus, ...]:
    if pattern is None:
        return roles
    return tuple(r for r in roles if fnmatch.fnmatchcase(r.role, pattern))


def _published_lines(
    st: RepoStatus, names: dict[str, str], expand: bool, pattern: str | None
) -> list[str]:
    lines = [f"{'ROLE':<24} {'VER':>5}  {'EXPIRES':<20} {'LEFT':>7}  SIGNATURES"]
    roles = _shown(st.roles, pattern)
    many = len(roles) > _MAX_QUIET_ROLES and not expand
    staged = {r.role: r for r in st.staged}
    quiet = 0
    for r in roles:
        if many and r.role not in _TOP and r.ok and r.role not in staged:
            quiet += 1
            continue
        lines.append(_row(r, names) + _beside(staged.get(r.role), names))
    if quiet:
        lines.append(
            f"… and {quiet} more delegated role(s), all signed by threshold and unexpired "
            "(--all or --role GLOB to list them)"
        )
    return lines


def _staged_lines(
    st: RepoStatus, names: dict[str, str], expand: bool, pattern: str | None
) -> list[str]:
    staged = _shown(st.staged, pattern)
    if not staged:
        return []
    lines = ["", "staged (not published; clients do not see these yet):"]
    done = [r.role for r in staged if r.verified and r.role not in _TOP]
    folded = set(done) if len(done) > 3 and not expand else set()
    for r in staged:
        if r.role in folded:
            continue
        lines.append(_row(r, names))
        waiting = waiting_for(r.checks, names)
        signed = sorted({k for c in r.checks for k in c.signed}, key=lambda k: names.get(k, k))
        who = ", ".join(names.get(k) or k[:8] for k in signed) or "nobody yet"
        lines.append(f"  signed by: {who}")
        lines.append(
            f"  still to sign: {', '.join(waiting)}" if waiting else "  signatures complete"
        )
    if folded:
        lines.append(
            f"… and {len(folded)} more staged delegated role(s) ({group_roles(done)}), "
            "all signed (--all to list them)"
        )
    return lines


def _human(st: RepoStatus, names: dict[str, str], expand: bool, pattern: str | None) -> str:
    lines = _published_lines(st, names, expand, pattern) if st.published else []
    lines += _staged_lines(st, names, expand, pattern)
    roles = _shown(st.roles, pattern)
    problems = [*st.problems, *(p for r in roles for p in r.problems)]
    warnings = [*st.warnings, *(w for r in roles for w in r.warnings)]
    lines += [f"problem: {p}" for p in grouped_lines(problems, expand=expand)]
    lines += [f"warning: {w}" for w in grouped_lines(warnings, expand=expand)]
    verdict = "status: OK" if st.ok else "status: NOT OK"
    if st.staged:
        ready = all(r.verified for r in st.staged)
        which = "published" if st.published else "nothing published yet"
        verdict += f" ({which}); staged: {'ready to publish' if ready else 'awaiting signatures'}"
    lines.append(verdict)
    return "\n".join(lines)


@click.command("status")
@directory_argument
@click.option(
    "--warn-days",
    type=click.IntRange(0, 3650),
    default=30,
    show_default=True,
    help="Warn about roles expiring within this many days.",
)
@click.option("--all", "expand", is_flag=True, help="List every role and every finding.")
@click.option("--role", "pattern", metavar="GLOB", help="Only roles matching GLOB (bins-*).")
@json_option
def status(directory: Path, warn_days: int, expand: bool, pattern: str | None) -> int:
    """Published and staged roles side by side: version, expiry, signatures, who must sign.

    The verdict is about the published files (what clients read); staged changes
    show who has signed and who must still sign, by name. Warns about roles
    expiring within --warn-days (online roles: within a day for snapshot, six hours
    for timestamp), thresholds above the number of keys, keys shared by online and
    offline roles, and keyids that are not the hash of their key. Findings repeated
    over many roles are grouped (--all lists them one by one). Exit 1 when a
    published role is unsigned, under its threshold, expired or missing, or when
    nothing is published yet.
    """
    service = get_app().service.repo
    st = service.status(directory, warn_days=warn_days)
    names = service.names()
    doc = {
        "directory": str(directory),
        "ok": st.ok,
        "published": st.published,
        "roles": [_role_doc(r, names) for r in _shown(st.roles, pattern)],
        "staged": [_role_doc(r, names) for r in _shown(st.staged, pattern)],
        "problems": [issue_doc(i) for i in st.problems],
        "warnings": [issue_doc(i) for i in st.warnings],
    }
    emit(doc, lambda: name_directory(_human(st, names, expand, pattern), directory))
    return 0 if st.ok else 1


COMMANDS = [status]
