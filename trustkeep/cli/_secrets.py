"""The CLI's secrets handler: environment variable, OS keyring, or a no-echo prompt."""

from __future__ import annotations

import os
import sys

import click

from trustkeep.core.secrets import SecretsHandler
from trustkeep.errors import KeyAccessError

__all__ = ["PASSPHRASE_ENV", "PIN_ENV", "cli_secrets_handler"]

PASSPHRASE_ENV = "TRUSTKEEP_PASSPHRASE"
PIN_ENV = "TRUSTKEEP_PIN"


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def cli_secrets_handler() -> SecretsHandler:
    """Ask for a secret: the environment first, then the terminal, never hang.

    ``name`` starting with ``"new "`` asks twice on a terminal.
    """

    def handler(name: str) -> str:
        env = PIN_ENV if "PIN" in name else PASSPHRASE_ENV
        value = os.environ.get(env)
        if value is not None:
            return value
        if not _stdin_is_tty():
            raise KeyAccessError(
                f"no {name}: no terminal to ask on and {env} is not set",
                hint=f"set {env} in the environment, or run in a terminal",
            )
        secret: str = click.prompt(
            name[0].upper() + name[1:],
            hide_input=True,
            confirmation_prompt=name.startswith("new "),
            err=True,
        )
        return secret

    return handler
