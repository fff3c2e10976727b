"""The ``trustkeep`` command line: parsing and rendering only; work goes to the service.

One command group per module; each module exposes ``COMMANDS``. ``main(argv)`` is
the single top-level handler that turns errors into messages and exit codes.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trustkeep import __version__
from trustkeep.errors import TrustkeepError

if TYPE_CHECKING:
    from trustkeep.cli._context import AppContext

__all__ = ["EXIT_INTERNAL", "cli", "entry", "main"]

#: A bug in trustkeep (never a user error): distinct from 0-3 of the contract.
EXIT_INTERNAL = 4

#: command name -> (module under trustkeep.cli, the one line ``trustkeep --help`` lists).
#: A module is imported only when one of its commands runs (or shows its own help), so
#: start-up does not pay for every command. New command: one line here, and the module
#: lists the command in ``COMMANDS``.
_COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "key": ("key", "Manage the key store: encrypted files, the OS keyring, PKCS#11."),
    "repo": ("repo", "TUF repositories: create one."),
    "root": ("root", "Root keys, thresholds and expiry: stage a new root version."),
    "delegation": ("delegation", "Delegate targets: paths, hash prefixes, or hashed bins."),
    "targets": ("targets", "Target files: hashes and lengths, in the role the tree assigns."),
    "sign": ("signing", "Add one signature to a metadata file."),
    "snapshot": ("signing", "New snapshot of the current targets roles."),
    "timestamp": ("signing", "New timestamp of the current snapshot."),
    "refresh": ("signing", "New versions and expiry, re-signed, then snapshot and timestamp."),
    "status": ("status", "Per role: version, expiry, signatures, who still must sign."),
    "publish": ("staging", "Publish every staged role, then a new snapshot and timestamp."),
    "merge": ("staging", "Fold signatures of signed copies into the staged roles."),
    "discard": ("staging", "Drop staged changes (published files are never touched)."),
    "diff": ("staging", "What each staged role changes against the published one."),
    "verify": ("verify", "Verify a TUF or Notary metadata chain offline."),
    "pull": ("pull", "Fetch and verify a TUF repository's metadata from a URL."),
    "pin": ("pin", "Trust pins for Docker, the Notary client and TUF clients."),
    "notary": ("notary", "Notary v1: root certificates, IDs, pull and targets."),
    "migrate": ("migrate", "Move trust data to another format (Notary v1 to TUF)."),
    "demo": ("demo", "Run trustkeep end to end on bundled example data."),
    "ceremony": ("ceremony", "Interactive key ceremony on a repository (needs a terminal)."),
    "transcript": ("transcript", "Ceremony transcripts: check the hash chain of a JSONL file."),
}


class _LazyGroup(click.Group):
    """A group that imports a command's module only when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMAND_MODULES:
            _load(_COMMAND_MODULES[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._short_help(name)) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _short_help(self, name: str) -> str:
        if name in _COMMAND_MODULES:
            return _COMMAND_MODULES[name][1]
        return self.commands[name].get_short_help_str(limit=80)


def _load(module_name: str) -> None:
    """Import ``trustkeep.cli.<module_name>`` and register every command it lists."""
    try:
        module = importlib.import_module(f"trustkeep.cli.{module_name}")
    except ModuleNotFoundError as e:
        if e.name == f"trustkeep.cli.{module_name}":
            return
        raise
    for command in getattr(module, "COMMANDS", ()):
        cli.add_command(command)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    metavar="DIR",
    default=None,
    help="trustkeep's home (key store). Default: $TRUSTKEEP_HOME, else the user data dir.",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--passphrase-file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file holding the passphrase (CI secret mounts); default: $TRUSTKEEP_PASSPHRASE_FILE.",
)
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="trustkeep")
@click.pass_context
def cli(
    ctx: click.Context,
    home: str | None,
    json_output: bool,
    passphrase_file: Path | None,
    verbose: bool,
) -> None:
    """trustkeep: root keys, delegations, trust pins and offline verification
    for TUF and Notary v1 repositories.

    Exit codes: 0 ok, 1 a trust check failed, 2 usage or input error,
    3 key access or I/O failure.
    """
    from trustkeep.cli._context import AppContext

    app = ctx.ensure_object(AppContext)  # main() passes one in, to render errors with it
    app.home_option, app.verbose, app.passphrase_file = home, verbose, passphrase_file
    app.json = app.json or json_output


def _print_traceback() -> None:
    import traceback  # error paths only: start-up does not pay for it

    traceback.print_exc()


def _verbose(argv: Sequence[str]) -> bool:
    return any(a in ("--verbose", "-v") for a in argv)


def _json_requested(app: AppContext, argv: Sequence[str]) -> bool:
    """``--json`` given, globally or after the command (also when parsing failed first)."""
    if app.json:
        return True
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _fail(
    app: AppContext,
    argv: Sequence[str],
    *,
    code: str,
    message: str,
    hint: str | None = None,
    stderr: bool = True,
) -> None:
    """An error on stderr, and with --json one document on stdout (unless one was printed)."""
    if stderr:
        plain = code in ("internal", "aborted", "interrupted")  # not the user's error
        click.echo(f"trustkeep: {'' if plain else 'error: '}{message}", err=True)
        if hint:
            click.echo(f"trustkeep: hint: {hint}", err=True)
    if not _json_requested(app, argv) or app.emitted:
        return
    document = {"schema": 1, "error": {"code": code, "message": message, "hint": hint}}
    try:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    except OSError:  # stdout is gone: stderr said it already
        return


def _usage_hint(e: click.ClickException) -> str | None:
    ctx = getattr(e, "ctx", None)
    return f"see '{ctx.command_path} --help'" if isinstance(ctx, click.Context) else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors).

    Every error is one message on stderr (two lines with a hint) and, with ``--json``,
    one ``{"schema": 1, "error": {"code", "message", "hint"}}`` document on stdout.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    from trustkeep.cli._context import AppContext
    from trustkeep.core.sslib_signer import defer_hsm_backend

    defer_hsm_backend()  # python-pkcs11 loads only when a key on a token is used

    app = AppContext()
    try:
        result = cli.main(args=args, prog_name="trustkeep", standalone_mode=False, obj=app)
    except TrustkeepError as e:
        if _verbose(args):
            _print_traceback()
        _fail(app, args, code=e.code, message=e.message, hint=e.hint)
        return e.exit_code
    except click.exceptions.Abort as e:
        if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):  # click: Ctrl-C -> Abort
            _fail(app, args, code="interrupted", message="interrupted")
            return 130
        _fail(app, args, code="aborted", message="aborted")
        return 2
    except click.ClickException as e:
        e.show()
        message, hint = e.format_message(), _usage_hint(e)
        _fail(app, args, code="usage", message=message, hint=hint, stderr=False)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except KeyboardInterrupt:
        _fail(app, args, code="interrupted", message="interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as e:  # click's own answer to a closed stdout pipe (EPIPE) is exit(1)
        if e.code == 1:
            return 0
        raise
    except Exception as e:  # the one top-level handler for bugs
        if _verbose(args):
            _print_traceback()
        message = f"internal error: {type(e).__name__} (run with --verbose for details)"
        _fail(app, args, code="internal", message=message)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console script entry point (see :mod:`trustkeep.__main__`)."""
    from trustkeep.__main__ import entry as _entry

    _entry()
