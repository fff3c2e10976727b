"""Options and arguments shared by the repository commands (repo, root, delegation, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = [
    "directory_argument",
    "expires_option",
    "keys_option",
    "no_sign_option",
    "split_refs",
    "stage_option",
]

F = TypeVar("F", bound=Callable[..., Any])


def split_refs(values: Iterable[str]) -> list[str]:
    """``--key a --key b,c`` -> ``[a, b, c]`` (names and keyids never hold commas)."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _directory(_ctx: click.Context, _param: click.Parameter, value: str) -> Path:
    # an empty argument (an unset "$REPO") must not quietly mean the current directory
    if not value:
        raise click.BadParameter("is empty; give a directory ('.' for this one)")
    return Path(value)


def directory_argument(func: F) -> F:
    """The DIRECTORY argument: a repository's metadata directory."""
    directory = click.Path(file_okay=False)
    return click.argument("directory", type=directory, callback=_directory)(func)


def expires_option(help: str, *, metavar: str = "WHEN") -> Callable[[F], F]:
    return click.option("--expires", metavar=metavar, help=help)


def keys_option(*names: str, help: str, required: bool = False) -> Callable[[F], F]:
    return click.option(*names, multiple=True, required=required, metavar="K", help=help)


def no_sign_option(func: F) -> F:
    """``--sign/--no-sign`` (kwarg ``sign``)."""
    return click.option(
        "--sign/--no-sign",
        default=True,
        help="Sign with the keys of this store that hold a private half (default) or not.",
    )(func)


def stage_option(func: F) -> F:
    """``--stage`` (kwarg ``stage``): keep the change in DIR/staged/ even when fully signed."""
    return click.option(
        "--stage",
        is_flag=True,
        help="Keep the change in DIR/staged/ even when this store signs it fully "
        "(publish it later with 'trustkeep publish DIR').",
    )(func)
