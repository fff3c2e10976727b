"""``trustkeep publish|merge|discard|diff DIR``: the staging area of a repository (DIR/staged/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._repo_options import directory_argument, expires_option
from trustkeep.cli._repo_output import check_doc, emit_write
from trustkeep.core.ceremony import diff_entry_line
from trustkeep.core.tuf_repo.staging import RoleDiff
from trustkeep.service.staging import MergeResult, StagedRole

__all__ = ["COMMANDS", "diff", "discard", "merge", "publish"]


@click.command("publish")
@directory_argument
@expires_option("Expiry of the new snapshot and timestamp, e.g. snapshot=7d,timestamp=1d.")
@json_option
def publish(directory: Path, expires: str | None) -> None:
    """Publish every staged role of DIR, then a new snapshot and timestamp.

    Refuses (exit 1, naming who must still sign) unless every staged role meets
    its thresholds (root: the published root's and its own). Snapshot and
    timestamp are signed with this store's online keys. Files are written
    children before parents, so a client reading at any moment sees a valid
    repository; the staging area is emptied.
    """
    result = get_app().service.repo.publish(directory, expires=expires)
    emit_write(result, f"published {len(result.changes)} role(s) in {directory}")


def _staged_doc(r: StagedRole, names: dict[str, str]) -> dict[str, Any]:
    return {
        "role": r.role,
        "version": r.version,
        "file": str(r.path),
        "sha256": r.sha256,
        "complete": r.complete,
        "waiting": list(r.waiting),
        "problem": r.problem,
        "checks": [check_doc(c, names) for c in r.checks],
    }


def _merge_human(result: MergeResult) -> str:
    names = result.names
    lines = []
    for f in result.files:
        added = ", ".join(names.get(k) or k[:8] for k in f.added) or "nothing new"
        lines.append(f"{f.file}: {f.role}: merged {added}")
    for r in result.roles:
        state = "ready to publish" if r.complete else f"still to sign: {', '.join(r.waiting)}"
        lines.append(f"staged {r.role} v{r.version}: {state}")
    return "\n".join(lines)


@click.command("merge")
@directory_argument
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@json_option
def merge(directory: Path, files: tuple[Path, ...]) -> None:
    """Fold the signatures of signed copies FILES into DIR's staged roles (no key needed).

    A signature is accepted only if it verifies over the staged content and is
    by a key of the role (for root: of the new or the published root). A copy
    whose signed content differs is refused (exit 1, saying what differs), and
    nothing is merged. Merging the same copy again changes nothing; copies
    signed in parallel by different holders merge into one.
    """
    service = get_app().service.repo
    result = service.merge(directory, list(files))
    names = result.names
    doc = {
        "directory": str(directory),
        "files": [
            {
                "file": str(f.file),
                "role": f.role,
                "added": [{"keyid": k, "name": names.get(k)} for k in f.added],
                "already": [{"keyid": k, "name": names.get(k)} for k in f.already],
            }
            for f in result.files
        ],
        "staged": [_staged_doc(r, names) for r in result.roles],
    }
    emit(doc, lambda: _merge_human(result))


@click.command("discard")
@directory_argument
@click.option("--role", metavar="R", help="Drop only this role's staged change.")
@json_option
def discard(directory: Path, role: str | None) -> None:
    """Drop staged changes of DIR (published files are never touched)."""
    dropped = get_app().service.repo.discard(directory, role)
    text = f"discarded {', '.join(dropped)}" if dropped else "nothing was staged"
    emit({"directory": str(directory), "discarded": dropped}, text)


def _diff_human(diffs: list[RoleDiff], names: dict[str, str]) -> str:
    if not diffs:
        return "nothing is staged"
    lines = []
    for d in diffs:
        old = f"v{d.old_version}" if d.old_version is not None else "nothing published"
        lines.append(f"{d.role}: {old} -> staged v{d.new_version}")
        lines += [f"  {diff_entry_line(e, names)}" for e in d.entries]
    return "\n".join(lines)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


@click.command("diff")
@directory_argument
@click.option("--role", metavar="R", help="Only this staged role.")
@json_option
def diff(directory: Path, role: str | None) -> None:
    """What each staged role changes against the published one.

    Keys and thresholds, expiry, delegations and their paths, targets added,
    removed or changed.
    """
    service = get_app().service.repo
    diffs = service.diff(directory, role)
    names = service.names()
    doc = {
        "directory": str(directory),
        "roles": [
            {
                "role": d.role,
                "published_version": d.old_version,
                "staged_version": d.new_version,
                "changes": [
                    {
                        "kind": e.kind,
                        "subject": e.subject,
                        "old": _plain(e.old),
                        "new": _plain(e.new),
                    }
                    for e in d.entries
                ],
            }
            for d in diffs
        ],
    }
    emit(doc, lambda: _diff_human(diffs, names))


COMMANDS = [publish, merge, discard, diff]
