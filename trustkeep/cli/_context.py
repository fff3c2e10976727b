"""State shared by every CLI command: global options and the lazily built service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from trustkeep.adapters.home import resolve_home
from trustkeep.cli._secrets import CliSecrets

if TYPE_CHECKING:
    from trustkeep.service import Service

__all__ = ["AppContext", "get_app", "json_option"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    home_option: str | None = None
    json: bool = False
    verbose: bool = False
    passphrase_file: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)
    #: a document (or other data) went to stdout: an error must not add a second one
    emitted: bool = False

    @cached_property
    def secrets(self) -> CliSecrets:
        """The one source of the CLI's secrets (variables, passphrase file, prompt)."""
        return CliSecrets(passphrase_file=self.passphrase_file)

    @cached_property
    def service(self) -> Service:
        from trustkeep.cli._progress import ProgressBar
        from trustkeep.service import Service

        return Service(resolve_home(self.home_option), self.secrets, progress=ProgressBar())


def get_app() -> AppContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(AppContext)
    if obj is None:  # pragma: no cover - the root group always sets it
        obj = ctx.ensure_object(AppContext)
    return obj


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        app = ctx.find_object(AppContext)
        if app is not None:
            app.json = True
    return value


def json_option(func: F) -> F:
    """``--json`` on a command: one JSON document with ``"schema": 1`` on stdout."""
    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print one JSON document on stdout.",
    )(func)
