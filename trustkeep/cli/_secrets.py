"""The CLI's secrets handler, the one place the CLI reads secrets from: variables, a
passphrase file, else a no-echo prompt; it never hangs.

A passphrase remembered in the OS keyring is looked up by the key service before
this handler is asked. For a key named ``alice`` (keyid ``1a2b3c4d...``), the first
of these that is set answers:

* ``TRUSTKEEP_PASSPHRASE_ALICE``: that key's own passphrase (the name upper-cased,
  other characters as ``_``), then ``TRUSTKEEP_PASSPHRASE_1A2B3C4D`` (its keyid's
  first 8 hex digits: unnamed keys, e.g. Notary imports, have one too);
* ``--passphrase-file FILE`` or ``TRUSTKEEP_PASSPHRASE_FILE``: a file holding the
  passphrase (one trailing newline is dropped), as CI secret mounts provide;
* ``TRUSTKEEP_PASSPHRASE``: the shared passphrase.

A passphrase being set (``generate``, ``import``, ``passwd``, ``export``) reads
``TRUSTKEEP_NEW_PASSPHRASE`` first, then the list above. A key file being imported
reads ``--passphrase-env VAR`` and, for Notary key files, ``NOTARY_<ROLE>_PASSPHRASE``
(``ROOT``, ``TARGETS``, ``SNAPSHOT``, ``DELEGATION``) before the file and the shared
variable. A PKCS#11 PIN: ``TRUSTKEEP_PIN_<TOKEN LABEL>``, then ``TRUSTKEEP_PIN``. The
password of a Notary server login (``notary pull --username``): ``TRUSTKEEP_NOTARY_PASSWORD``.

Without any, a terminal prompt (no echo; a new secret is asked twice and its
strength shown). With neither: ``KeyAccessError`` (exit 3) naming the variables that
would have answered this request.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from trustkeep.core.secrets import (
    SecretKind,
    SecretRequest,
    env_suffix,
    weak_passphrase_reason,
)
from trustkeep.errors import InputError, KeyAccessError

__all__ = [
    "NEW_PASSPHRASE_ENV",
    "NOTARY_PASSWORD_ENV",
    "PASSPHRASE_ENV",
    "PASSPHRASE_FILE_ENV",
    "PIN_ENV",
    "CliSecrets",
    "as_request",
]

PASSPHRASE_ENV = "TRUSTKEEP_PASSPHRASE"
NEW_PASSPHRASE_ENV = "TRUSTKEEP_NEW_PASSPHRASE"
PASSPHRASE_FILE_ENV = "TRUSTKEEP_PASSPHRASE_FILE"
PIN_ENV = "TRUSTKEEP_PIN"
NOTARY_PASSWORD_ENV = "TRUSTKEEP_NOTARY_PASSWORD"
#: stands for the passphrase file in a lookup order
_FILE = "--passphrase-file"
_MAX_FILE_BYTES = 1 << 16


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def as_request(name: str) -> SecretRequest:
    """``name`` as a request: as it is, or (plain text from elsewhere) by its words."""
    if isinstance(name, SecretRequest):
        return name
    if name.startswith("password for "):  # a Notary server's token service login
        return SecretRequest(name, kind=SecretKind.PASSWORD)
    if name.startswith("PIN") or " PIN " in f" {name} ":
        return SecretRequest(name, kind=SecretKind.PIN)
    if name.startswith("new "):
        return SecretRequest(name, kind=SecretKind.NEW_PASSPHRASE)
    return SecretRequest(name, kind=SecretKind.PASSPHRASE)


class CliSecrets:
    """``secrets_handler(request) -> secret`` for the CLI's :class:`~trustkeep.service.Service`.

    ``passphrase_file`` is ``--passphrase-file`` (else ``TRUSTKEEP_PASSPHRASE_FILE``);
    ``key_file_variable`` is ``key import --passphrase-env VAR``.
    """

    def __init__(
        self,
        *,
        passphrase_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._environ = os.environ if environ is None else environ
        self._passphrase_file = passphrase_file
        self.key_file_variable: str | None = None
        #: request text -> the source that answered it (for wrong_secret_hint)
        self._answered: dict[str, str] = {}

    # -- where a secret may come from ------------------------------------------------

    def sources(self, request: SecretRequest) -> tuple[str, ...]:
        """The variables (and ``--passphrase-file``) consulted for ``request``, in order."""
        if request.kind is SecretKind.PASSWORD:
            return (NOTARY_PASSWORD_ENV,)
        if request.kind is SecretKind.PIN:
            token = (f"{PIN_ENV}_{env_suffix(request.token)}",) if request.token else ()
            return (*token, PIN_ENV)
        own: list[str] = []
        if request.kind is SecretKind.NEW_PASSPHRASE:
            own.append(NEW_PASSPHRASE_ENV)
        if self.key_file_variable and _is_key_file(request):
            own.append(self.key_file_variable)
        if request.notary_role:
            own.append(f"NOTARY_{env_suffix(request.notary_role)}_PASSPHRASE")
        if request.key_name and env_suffix(request.key_name) != "FILE":  # that one is the file
            own.append(f"{PASSPHRASE_ENV}_{env_suffix(request.key_name)}")
        if request.keyid:
            own.append(f"{PASSPHRASE_ENV}_{env_suffix(request.keyid[:8])}")
        return (*dict.fromkeys(own), _FILE, PASSPHRASE_ENV)

    def _file_path(self) -> Path | None:
        if self._passphrase_file is not None:
            return self._passphrase_file
        value = self._environ.get(PASSPHRASE_FILE_ENV)
        return Path(value) if value else None

    def _read_file(self, path: Path) -> str:
        try:
            with path.open("rb") as f:
                data = f.read(_MAX_FILE_BYTES + 1)
        except OSError as e:
            raise InputError(f"passphrase file {path}: cannot read: {e.strerror}") from e
        if len(data) > _MAX_FILE_BYTES:
            raise InputError(f"passphrase file {path}: too large for a passphrase")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"passphrase file {path}: not UTF-8 text") from e
        return text.removesuffix("\n").removesuffix("\r")

    def lookup(self, request: SecretRequest) -> str | None:
        """The secret from the first source that has one, or None."""
        for source in self.sources(request):
            if source == _FILE:
                path = self._file_path()
                if path is not None:
                    self._answered[str(request)] = f"the passphrase file {path}"
                    return self._read_file(path)
                continue
            value = self._environ.get(source)
            if value is not None:
                self._answered[str(request)] = source
                return value
        return None

    def wrong_secret_hint(self, request: SecretRequest) -> str | None:
        """Where the wrong secret for ``request`` came from, and what to set instead."""
        source = self._answered.get(str(request))
        own = [s for s in self.sources(request) if s not in (_FILE, PASSPHRASE_ENV)]
        if source is None or not own:
            return None  # typed at the prompt: the message says it all
        if source in own:
            return f"it came from {source}"
        return f"it came from {source}, which every key shares: give this key its own in {own[0]}"

    def use_key_file_variable(self, variable: str) -> None:
        """``key import --passphrase-env VAR``: the passphrase of the file being imported."""
        if variable not in self._environ:
            raise InputError(f"--passphrase-env: variable {variable} is not set")
        self.key_file_variable = variable

    def describe_sources(self, request: SecretRequest) -> str:
        """``"TRUSTKEEP_PASSPHRASE_ALICE, ... or TRUSTKEEP_PASSPHRASE"`` for a hint."""
        names = [
            f"{PASSPHRASE_FILE_ENV} (or --passphrase-file)" if s == _FILE else s
            for s in self.sources(request)
        ]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    # -- the handler -----------------------------------------------------------------

    def __call__(self, name: str) -> str:
        request = as_request(name)
        value = self.lookup(request)
        if value is not None:
            return value
        if not _stdin_is_tty():
            first = self.sources(request)[0]
            first = PASSPHRASE_FILE_ENV if first == _FILE else first
            raise KeyAccessError(
                f"no {request}: no terminal to ask on and {first} is not set",
                hint=f"set {self.describe_sources(request)}, or run in a terminal",
            )
        if request.kind is SecretKind.NEW_PASSPHRASE:
            return _prompt_new(request)
        return _prompt(request)


def _is_key_file(request: SecretRequest) -> bool:
    """The passphrase of a key file being imported (not of a key of the store)."""
    return request.kind is SecretKind.PASSPHRASE and request.keyid is None


def _ask(text: str) -> str:
    secret: str = click.prompt(text, hide_input=True, default="", show_default=False, err=True)
    return secret


def _prompt(request: SecretRequest) -> str:
    while True:
        secret = _ask(request[0].upper() + request[1:])
        if secret:
            return secret
        what = {SecretKind.PIN: "PIN", SecretKind.PASSWORD: "password"}.get(request.kind)
        click.echo(f"The {what or 'passphrase'} is empty: asked again (Ctrl-C to stop).", err=True)


def _prompt_new(request: SecretRequest) -> str:
    """Ask twice; say why an empty or too short passphrase is asked again; show strength."""
    from trustkeep.core.passphrase_strength import estimate_strength

    while True:
        first = _ask(request[0].upper() + request[1:])
        reason = weak_passphrase_reason(first, min_length=request.min_length)
        if reason is not None:
            click.echo(f"Not accepted: {reason}. Asked again.", err=True)
            continue
        hints = [x for x in (request.key_name,) if x]
        click.echo(f"Strength: {estimate_strength(first, user_inputs=hints).describe()}", err=True)
        if _ask("Repeat for confirmation") == first:
            return first
        click.echo("Error: The two entered values do not match.", err=True)
