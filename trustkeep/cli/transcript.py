"""``trustkeep transcript verify FILE``: check a ceremony transcript's hash chain."""

from __future__ import annotations

from pathlib import Path

import click

from trustkeep.cli._context import json_option
from trustkeep.cli._output import emit
from trustkeep.service.ceremony_transcript import verify_transcript

__all__ = ["COMMANDS", "transcript"]


@click.group("transcript")
def transcript() -> None:
    """Ceremony transcripts: JSON lines, each entry holding the sha256 of the previous one."""


@transcript.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--head",
    metavar="SHA256",
    default=None,
    help="The last entry's sha256 as noted at the ceremony (default: the head recorded "
    "in FILE's Markdown rendering, FILE.md, when present).",
)
@json_option
def verify_cmd(file: Path, head: str | None) -> int:
    """Check that no entry of FILE was edited, removed or reordered.

    Exit 0 the chain holds, 1 it is broken, 2 FILE is missing.
    """
    check = verify_transcript(file, expect_head=head.lower() if head else None)
    doc = {
        "file": str(file),
        "valid": check.ok,
        "entries": len(check.entries),
        "head": check.head,
        "problems": list(check.problems),
    }

    def human() -> str:
        if check.ok:
            return f"{file}: OK — {len(check.entries)} entries, head sha256 {check.head}"
        lines = [f"{file}: BROKEN — {len(check.problems)} problem(s)"]
        return "\n".join([*lines, *(f"  {p}" for p in check.problems)])

    emit(doc, human)
    return 0 if check.ok else 1


COMMANDS = [transcript]
