"""``trustkeep targets add|remove|list``: target files, each in the role the tree assigns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._repo_options import (
    directory_argument,
    expires_option,
    no_sign_option,
    stage_option,
)
from trustkeep.cli._repo_output import emit_write

__all__ = ["COMMANDS", "targets"]


@click.group()
def targets() -> None:
    """Target files: hashes and lengths, in the role the delegation tree assigns."""


@targets.command("add")
@directory_argument
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--role", help="Put the targets in this role (must be delegated their paths).")
@click.option(
    "--base",
    type=click.Path(path_type=Path, file_okay=False),
    help="Target paths are relative to this directory (default: the current one).",
)
@click.option(
    "--custom",
    metavar="JSON",
    help='A JSON object stored as each added target\'s "custom" field, e.g. \'{"v": "1.2"}\'.',
)
@click.option(
    "--targets-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Consistent snapshots: where the <sha256>.<name> copies clients fetch are written "
    "(default: DIRECTORY/../targets).",
)
@expires_option("New expiry of the changed roles.")
@no_sign_option
@stage_option
@json_option
def add(
    directory: Path,
    paths: tuple[str, ...],
    role: str | None,
    base: Path | None,
    custom: str | None,
    targets_dir: Path | None,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Add (or update) target files; a directory PATH adds every file under it."""
    from trustkeep.core.tuf_repo.targetsops import parse_custom

    for path in paths:
        if not path:
            raise click.BadParameter("an empty path", param_hint="PATH")
    result, placed = get_app().service.repo.targets_add(
        directory,
        paths,
        base=base,
        role=role,
        custom=parse_custom(custom) if custom is not None else None,
        targets_dir=targets_dir,
        expires=expires,
        sign=sign,
        stage=stage,
    )
    summary = ", ".join(f"{len(p)} in {r!r}" for r, p in placed.items())
    emit_write(result, f"added {summary}", placed=placed)


@targets.command("remove")
@directory_argument
@click.argument("paths", nargs=-1, required=True)
@click.option("--role", help="Remove from this role only.")
@expires_option("New expiry of the changed roles.")
@no_sign_option
@stage_option
@json_option
def remove(
    directory: Path,
    paths: tuple[str, ...],
    role: str | None,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Remove targets by their target path."""
    result, removed = get_app().service.repo.targets_remove(
        directory, list(paths), role=role, expires=expires, sign=sign, stage=stage
    )
    summary = ", ".join(f"{len(p)} from {r!r}" for r, p in removed.items())
    emit_write(result, f"removed {summary}", removed=removed)


@targets.command("list")
@directory_argument
@click.option("--role", help="Only this role.")
@json_option
def list_cmd(directory: Path, role: str | None) -> None:
    """Every target with its role, length and sha256."""
    entries = get_app().service.repo.targets_list(directory, role=role)
    docs: list[dict[str, Any]] = [
        {"path": e.path, "role": e.role, "length": e.length, "hashes": dict(e.hashes)}
        for e in entries
    ]

    def human() -> str:
        if not docs:
            return "no targets"
        return "\n".join(
            f"{d['path']}  {d['length']}  sha256:{d['hashes'].get('sha256', '-')[:16]}…  "
            f"({d['role']})"
            for d in docs
        )

    emit({"directory": str(directory), "targets": docs}, human)


COMMANDS = [targets]
