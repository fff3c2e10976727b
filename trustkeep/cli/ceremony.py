"""``trustkeep ceremony DIR``: the Textual TUI for key ceremonies over one repository."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from trustkeep.adapters.home import resolve_home
from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit, warn
from trustkeep.cli._repo_options import directory_argument
from trustkeep.errors import InputError
from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService

__all__ = ["COMMANDS", "ceremony"]


def _have_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@click.command("ceremony")
@directory_argument
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
    help="Append the transcript here (default: ceremony-transcript.log in the home).",
)
@json_option
def ceremony(directory: Path, home_option: str | None, transcript: Path | None) -> None:
    """Interactive key ceremony on the repository DIRECTORY (needs a terminal).

    Status of every role and who must still sign, a review of what you sign (for
    root: keys added and removed, thresholds, expiry), signing with a key of this
    store (passphrase in a masked field), re-signing expiring metadata, and a
    transcript of every action (never a secret).
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
    service = CeremonyService(Service(home, secrets), directory, transcript=transcript)
    service.status()  # a directory that is not a repository fails here, before the screen
    app = tui.CeremonyApp(service, secrets)
    app.run()
    errors: list[str] = list(app.transcript_errors)
    actions: list[str] = list(app.actions)
    for message in errors:
        warn(f"transcript: {message}")
    path = service.transcript.path
    doc = {"directory": str(directory), "transcript": str(path), "actions": actions}
    emit(doc, lambda: "\n".join([*actions, f"transcript: {path}"]))


COMMANDS = [ceremony]
