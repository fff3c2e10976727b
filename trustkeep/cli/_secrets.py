"""The CLI's secrets handler: environment variables, else a no-echo prompt; never hangs.

A passphrase remembered in the OS keyring is looked up by the key service before
this handler is asked.

* ``TRUSTKEEP_PASSPHRASE``: the passphrase of an existing key or key file.
* ``TRUSTKEEP_NEW_PASSPHRASE``: a passphrase being set (``generate``, ``import``,
  ``passwd``, ``export``); falls back to ``TRUSTKEEP_PASSPHRASE`` when unset.
* ``TRUSTKEEP_PIN``: the PIN of a PKCS#11 token.
* ``TRUSTKEEP_NOTARY_PASSWORD``: the password for ``notary pull --username``.

Without a variable, a terminal prompt (no echo; a new secret is asked twice). With
neither: ``KeyAccessError`` (exit 3) saying how to provide the secret.
"""

from __future__ import annotations

import os
import sys

import click

from trustkeep.core.secrets import SecretsHandler
from trustkeep.errors import KeyAccessError

__all__ = ["NEW_PASSPHRASE_ENV", "PASSPHRASE_ENV", "PIN_ENV", "cli_secrets_handler", "env_for"]

PASSPHRASE_ENV = "TRUSTKEEP_PASSPHRASE"
NEW_PASSPHRASE_ENV = "TRUSTKEEP_NEW_PASSPHRASE"
PIN_ENV = "TRUSTKEEP_PIN"
NOTARY_PASSWORD_ENV = "TRUSTKEEP_NOTARY_PASSWORD"


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def env_for(name: str) -> tuple[str, ...]:
    """The environment variables consulted, in order, for the secret called ``name``."""
    if name.startswith("password for "):  # a notary server's token service login
        return (NOTARY_PASSWORD_ENV,)
    if name.startswith("PIN") or " PIN " in f" {name} ":
        return (PIN_ENV,)
    if name.startswith("new "):
        return (NEW_PASSPHRASE_ENV, PASSPHRASE_ENV)
    return (PASSPHRASE_ENV,)


def cli_secrets_handler() -> SecretsHandler:
    """Ask for a secret: the environment first, then the terminal, never hang.

    ``name`` starting with ``"new "`` asks twice on a terminal.
    """

    def handler(name: str) -> str:
        variables = env_for(name)
        for env in variables:
            value = os.environ.get(env)
            if value is not None:
                return value
        if not _stdin_is_tty():
            raise KeyAccessError(
                f"no {name}: no terminal to ask on and {variables[0]} is not set",
                hint=f"set {' or '.join(variables)} in the environment, or run in a terminal",
            )
        secret: str = click.prompt(
            name[0].upper() + name[1:],
            hide_input=True,
            confirmation_prompt=name.startswith("new "),
            err=True,
        )
        return secret

    return handler
