"""The ``trustkeep`` command line: parsing and rendering only; work goes to the service.

One command group per module; each module exposes ``COMMANDS``. ``main(argv)`` is
the single top-level handler that turns errors into messages and exit codes.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Sequence

import click

from trustkeep import __version__
from trustkeep.cli._context import AppContext
from trustkeep.errors import TrustkeepError

__all__ = ["EXIT_INTERNAL", "cli", "entry", "main"]

#: A bug in trustkeep (never a user error): distinct from 0-3 of the contract.
EXIT_INTERNAL = 4

_COMMAND_MODULES = (
    "key",
    "repo",
    "root",
    "delegation",
    "targets",
    "signing",
    "status",
    "staging",
    "verify",
    "pull",
    "pin",
    "notary",
    "migrate",
    "demo",
    "ceremony",
    "transcript",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    metavar="DIR",
    default=None,
    help="trustkeep's home (key store). Default: $TRUSTKEEP_HOME, else the user data dir.",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="trustkeep")
@click.pass_context
def cli(ctx: click.Context, home: str | None, json_output: bool, verbose: bool) -> None:
    """trustkeep: root keys, delegations, trust pins and offline verification
    for TUF and Notary v1 repositories.

    Exit codes: 0 ok, 1 a trust check failed, 2 usage or input error,
    3 key access or I/O failure.
    """
    ctx.obj = AppContext(home_option=home, json=json_output, verbose=verbose)


def _register() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"trustkeep.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"trustkeep.cli.{name}":
                continue
            raise
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()


def _verbose(argv: Sequence[str]) -> bool:
    return any(a in ("--verbose", "-v") for a in argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="trustkeep", standalone_mode=False)
    except TrustkeepError as e:
        if _verbose(args):
            traceback.print_exc()
        click.echo(f"trustkeep: error: {e.message}", err=True)
        if e.hint:
            click.echo(f"trustkeep: hint: {e.hint}", err=True)
        return e.exit_code
    except click.exceptions.Abort as e:
        if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):  # click: Ctrl-C -> Abort
            click.echo("trustkeep: interrupted", err=True)
            return 130
        click.echo("trustkeep: aborted", err=True)
        return 2
    except click.ClickException as e:
        e.show()
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("trustkeep: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as e:  # click's own answer to a closed stdout pipe (EPIPE) is exit(1)
        if e.code == 1:
            return 0
        raise
    except Exception as e:  # the one top-level handler for bugs
        if _verbose(args):
            traceback.print_exc()
        click.echo(
            f"trustkeep: internal error: {type(e).__name__} (run with --verbose for details)",
            err=True,
        )
        return EXIT_INTERNAL
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console script entry point (see :mod:`trustkeep.__main__`)."""
    from trustkeep.__main__ import entry as _entry

    _entry()
