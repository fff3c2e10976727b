"""Output: data on stdout (JSON or human text), diagnostics on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import click

from trustkeep.cli._context import get_app
from trustkeep.errors import StorageError

__all__ = ["echo_data", "emit", "warn"]


def emit(
    document: Mapping[str, Any] | Callable[[], Mapping[str, Any]], human: Callable[[], str] | str
) -> None:
    """Print ``document`` as JSON (with ``"schema": 1``) when --json, else the human text.

    Either may be given as a function, called only for the form printed (a report of
    16,384 roles is not turned into a document for its text).
    """
    if get_app().json:
        out = {"schema": 1, **(document() if callable(document) else document)}
        echo_data(json.dumps(out, indent=2, sort_keys=False, ensure_ascii=False))
    else:
        text = human() if callable(human) else human
        if text:
            echo_data(text)


def echo_data(text: str | bytes, *, nl: bool = True) -> None:
    """Data on stdout; a failed write (not a closed pipe) is a StorageError, exit 3."""
    get_app().emitted = True
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        raise  # the reader went away: main() exits quietly
    except OSError as e:  # e.g. stdout on a full disk
        raise StorageError(f"standard output: cannot write: {e.strerror}") from e


def warn(message: str) -> None:
    """A diagnostic line on stderr."""
    click.echo(f"trustkeep: warning: {message}", err=True)
