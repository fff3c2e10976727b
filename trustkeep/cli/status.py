"""``trustkeep status DIR``: per role version, expiry, signatures, who still must sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._repo_options import directory_argument
from trustkeep.cli._repo_output import check_doc
from trustkeep.core.tuf_repo.status import RepoStatus, RoleStatus, by_name

__all__ = ["COMMANDS", "status"]

_MAX_QUIET_ROLES = 20


def _role_doc(r: RoleStatus, names: dict[str, str]) -> dict[str, Any]:
    return {
        "role": r.role,
        "version": r.version,
        "expires": r.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": r.days_left,
        "expired": r.expired,
        "verified": r.verified,
        "ok": r.ok,
        "signatures": [check_doc(c, names) for c in r.checks],
        "problems": list(r.problems),
        "warnings": list(r.warnings),
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


def _human(st: RepoStatus, names: dict[str, str]) -> str:
    lines = [f"{'ROLE':<24} {'VER':>5}  {'EXPIRES':<20} {'DAYS':>5}  SIGNATURES"]
    quiet = 0
    many = len(st.roles) > _MAX_QUIET_ROLES
    for r in st.roles:
        top = r.role in ("root", "targets", "snapshot", "timestamp")
        if many and not top and r.ok and not r.warnings:
            quiet += 1
            continue
        flag = "" if r.ok else "  ✗"
        lines.append(
            f"{r.role[:24]:<24} {r.version:>5}  {r.expires:%Y-%m-%d %H:%M:%SZ} {r.days_left:>5}  "
            f"{_sig_cell(r, names)}{flag}"
        )
    if quiet:
        lines.append(f"… and {quiet} more delegated role(s), all signed and current")
    problems = [*st.problems, *(p for r in st.roles for p in r.problems)]
    warnings = [*st.warnings, *(w for r in st.roles for w in r.warnings)]
    lines += [f"problem: {p}" for p in problems]
    lines += [f"warning: {w}" for w in warnings]
    lines.append("status: OK" if st.ok else "status: NOT OK")
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
@json_option
def status(directory: Path, warn_days: int) -> int:
    """Per role: version, expiry, days left, signatures / threshold, who still must sign.

    Warns about roles expiring within --warn-days (online roles: within a day for
    snapshot, six hours for timestamp), thresholds above the number of keys, keys
    shared by online and offline roles, and keyids that are not the hash of their key.
    Exit 1 when a role is unsigned, under its threshold, expired or missing.
    """
    service = get_app().service.repo
    st = service.status(directory, warn_days=warn_days)
    names = service.names()
    doc = {
        "directory": str(directory),
        "ok": st.ok,
        "roles": [_role_doc(r, names) for r in st.roles],
        "problems": list(st.problems),
        "warnings": list(st.warnings),
    }
    emit(doc, lambda: _human(st, names))
    return 0 if st.ok else 1


COMMANDS = [status]
