"""``trustkeep ceremony [DIR]``: the Textual TUI for key ceremonies."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from trustkeep.adapters.home import resolve_home
from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit, warn
from trustkeep.errors import InputError
from trustkeep.service import Service
from trustkeep.service.ceremony_transcript import default_transcript

__all__ = ["COMMANDS", "ceremony"]


def _have_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@click.command("ceremony")
@click.argument(
    "directory", required=False, default=None, type=click.Path(path_type=Path, file_okay=False)
)
@click.option(
    "--home",
    "home_option",
    metavar="DIR",
    default=None,
    help="trustkeep's home (key store); overrides the global --home.",
)
@click.option(
    "--transcript",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Append the transcript here (JSON lines; a Markdown rendering beside it). "
    "Default: ceremony-transcript.jsonl in the home.",
)
@json_option
def ceremony(directory: Path | None, home_option: str | None, transcript: Path | None) -> None:
    """Interactive key ceremonies (needs a terminal).

    Without DIRECTORY the home screen opens: new root (TUF or Notary), open a
    repository, verify, expiry dashboard, key store, unfinished ceremonies. With
    DIRECTORY that repository's status opens: signing queue, review and sign,
    re-sign, root key rotation. Every step goes to a hash-chained transcript
    (never a secret: passphrases are typed in masked fields); check it with
    'trustkeep transcript verify FILE'.
    """
    if not _have_terminal():
        raise InputError(
            "trustkeep ceremony needs a terminal (stdin and stdout are not a TTY)",
            hint="in scripts use 'trustkeep status DIR' and 'trustkeep sign FILE --key K'",
        )
    app_ctx = get_app()
    home = resolve_home(home_option or app_ctx.home_option)
    try:  # imported by name: the TUI package (and Textual) load only for this command
        tui = importlib.import_module("trustkeep_tui")
    except ModuleNotFoundError as e:
        raise InputError(
            f"the ceremony TUI is not installed (module {e.name} missing)",
            hint="reinstall trustkeep: pip install -e .",
        ) from e
    secrets = tui.TuiSecrets()
    service = Service(home, secrets)
    if directory is not None:  # not a repository: fails here, before the screen
        service.repo.status(directory)
    app = tui.CeremonyApp(service, secrets, directory=directory, transcript=transcript)
    app.run()
    errors: list[str] = list(app.transcript_errors)
    actions: list[str] = list(app.actions)
    for message in errors:
        warn(f"transcript: {message}")
    path = transcript or default_transcript(home)
    where = str(directory) if directory is not None else None
    doc = {"directory": where, "transcript": str(path), "actions": actions}
    emit(doc, lambda: "\n".join([*actions, f"transcript: {path}"]))


COMMANDS = [ceremony]
