"""Rendering of repository results (JSON documents and human text) for the repo commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from trustkeep.cli._output import emit, warn
from trustkeep.cli._status_text import issue_doc, issue_text, name_directory
from trustkeep.core.tuf_repo.status import ThresholdCheck, describe_checks
from trustkeep.service._repo_support import RoleChange, SignResult, WriteResult

__all__ = [
    "check_doc",
    "emit_write",
    "write_doc",
    "write_human",
    "write_warnings",
]

F = TypeVar("F", bound=Callable[..., Any])


def _key(keyid: str, names: Mapping[str, str]) -> dict[str, Any]:
    return {"keyid": keyid, "name": names.get(keyid)}


def check_doc(check: ThresholdCheck, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "label": check.label,
        "threshold": check.threshold,
        "valid_signatures": len(check.signed),
        "verified": check.verified,
        "signed": [_key(k, names) for k in check.signed],
        "missing": [_key(k, names) for k in check.unsigned],
    }


def change_doc(change: RoleChange, names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "role": change.role,
        "version": change.version,
        "expires": change.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verified": change.verified,
        "signed_by": [_key(k, names) for k in change.signed_by],
        "file": str(change.file) if change.file is not None else None,
        "checks": [check_doc(c, names) for c in change.checks],
    }


def write_doc(result: WriteResult, **extra: Any) -> dict[str, Any]:
    return {
        "directory": str(result.directory),
        "published": result.published,
        "roles": [change_doc(c, result.names) for c in result.changes],
        "written": [str(p) for p in result.written],
        "warnings": [issue_doc(i) for i in result.warnings],
        "not_published_because": list(result.blockers),
        **extra,
    }


def _summary(checks: Sequence[ThresholdCheck], names: Mapping[str, str]) -> str:
    return "; ".join(describe_checks(tuple(checks), names))


def write_human(result: WriteResult, title: str | None = None) -> str:
    lines = [title] if title else []
    for c in result.changes:
        mark = "signed" if c.verified else "NOT YET SIGNED by threshold"
        lines.append(
            f"{c.role} v{c.version} (expires {c.expires:%Y-%m-%d}) {mark}: "
            f"{_summary(c.checks, result.names)}"
        )
    if result.published:
        lines.append(f"published: wrote {len(result.written)} file(s) in {result.directory}")
    else:
        lines.append(
            f"staged in {result.directory / 'staged'} (not published; clients see nothing new)"
        )
    return "\n".join(lines)


def write_warnings(result: WriteResult) -> None:
    """Diagnostics: roles staged without a threshold of signatures, threshold guards."""
    for issue in result.warnings:
        warn(name_directory(issue_text(issue), result.directory))
    if result.published:
        return
    waiting = [c for c in result.changes if not c.verified]
    for c in waiting:
        file = c.file if c.file is not None else "FILE"
        warn(
            f"{c.role} v{c.version} needs more signatures: "
            f"{_summary(c.checks, result.names)}; "
            f"holders run 'trustkeep sign {file} --key K' (or sign a copy, then "
            f"'trustkeep merge {result.directory} COPY')"
        )
    if not waiting:
        for blocker in result.blockers:
            warn(f"not published yet: {blocker}")
    then = "then " if waiting or result.blockers else ""
    warn(f"{then}'trustkeep publish {result.directory}' makes the staged change visible to clients")


def emit_write(result: WriteResult, title: str | None = None, **extra: Any) -> None:
    """Print the result of a command that wrote metadata; warn of missing signatures."""
    emit(write_doc(result, **extra), lambda: write_human(result, title))
    write_warnings(result)


def sign_doc(result: SignResult) -> dict[str, Any]:
    return {
        "file": str(result.file),
        "role": result.role,
        "version": result.version,
        "signed_with": _key(result.keyid, result.names),
        "verified": result.verified,
        "checks": [check_doc(c, result.names) for c in result.checks],
        "also_written": [str(p) for p in result.also_written],
        "authority": result.authority,
        "already_signed": result.already_signed,
        "previous_root_checked": result.previous_unchecked is None,
    }
