"""Output: data on stdout (JSON or human text), diagnostics on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import click

from trustkeep.cli._context import get_app

__all__ = ["emit", "warn"]


def emit(document: Mapping[str, Any], human: Callable[[], str] | str) -> None:
    """Print ``document`` as JSON (with ``"schema": 1``) when --json, else the human text."""
    if get_app().json:
        out = {"schema": 1, **document}
        click.echo(json.dumps(out, indent=2, sort_keys=False, ensure_ascii=False))
    else:
        text = human() if callable(human) else human
        if text:
            click.echo(text)


def warn(message: str) -> None:
    """A diagnostic line on stderr."""
    click.echo(f"trustkeep: warning: {message}", err=True)
