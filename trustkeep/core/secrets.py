"""How secrets reach code that needs them: a callback supplied by the front end.

The service never reads a terminal or the environment: it calls
``secrets_handler(request)`` and the front end answers (a prompt, a modal, the
environment, a test lambda). A request *is* its prompt text (a ``str``), so a
handler that only shows text needs nothing else; it also carries the facts a
handler may look a secret up by (the key's name and keyid, the Notary role of a
key file, whether a new secret is being set and how short it may be).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "MIN_PASSPHRASE_LENGTH",
    "ExplainsWrongSecrets",
    "SecretKind",
    "SecretRequest",
    "SecretsHandler",
    "env_suffix",
    "weak_passphrase_reason",
]

#: the shortest passphrase accepted for a new key without ``allow_weak``
MIN_PASSPHRASE_LENGTH = 8

_NOT_ENV = re.compile(r"[^A-Z0-9]")


class SecretKind(StrEnum):
    PASSPHRASE = "passphrase"  # of an existing key or of a key file being imported
    NEW_PASSPHRASE = "new-passphrase"  # being set: asked twice on a terminal
    PIN = "pin"  # of a PKCS#11 token
    PASSWORD = "password"  # of a server login (a Notary token service)


class SecretRequest(str):
    """What is asked for: the prompt text, plus the facts to look the secret up by.

    ``SecretRequest("passphrase for key 1a2b3c4d (alice)", kind=..., key_name="alice",
    keyid="1a2b...")`` compares and prints as its text.
    """

    kind: SecretKind
    key_name: str | None
    keyid: str | None
    notary_role: str | None
    token: str | None
    min_length: int

    def __new__(
        cls,
        text: str,
        *,
        kind: SecretKind,
        key_name: str | None = None,
        keyid: str | None = None,
        notary_role: str | None = None,
        token: str | None = None,
        min_length: int = 1,
    ) -> SecretRequest:
        request = super().__new__(cls, text)
        request.kind = kind
        request.key_name = key_name
        request.keyid = keyid
        request.notary_role = notary_role
        request.token = token
        request.min_length = min_length
        return request

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        """``copy`` and ``pickle`` rebuild a request with its facts."""
        facts = ("kind", "key_name", "keyid", "notary_role", "token", "min_length")
        return (str(self),), {name: getattr(self, name) for name in facts}

    @classmethod
    def passphrase(
        cls,
        what: str,
        *,
        key_name: str | None = None,
        keyid: str | None = None,
        notary_role: str | None = None,
    ) -> SecretRequest:
        """``"passphrase for <what>"`` of a key (``keyid``) or a key file being imported."""
        return cls(
            f"passphrase for {what}",
            kind=SecretKind.PASSPHRASE,
            key_name=key_name,
            keyid=keyid,
            notary_role=notary_role,
        )

    @classmethod
    def new_passphrase(
        cls, what: str, *, min_length: int, key_name: str | None = None, keyid: str | None = None
    ) -> SecretRequest:
        """``"new passphrase for <what>"``: a passphrase being set, at least ``min_length``."""
        return cls(
            f"new passphrase for {what}",
            kind=SecretKind.NEW_PASSPHRASE,
            key_name=key_name,
            keyid=keyid,
            min_length=min_length,
        )

    @classmethod
    def pin(cls, what: str, *, token: str | None) -> SecretRequest:
        """``"PIN for <what>"`` of a PKCS#11 token."""
        return cls(f"PIN for {what}", kind=SecretKind.PIN, token=token)


#: ``secrets_handler(request) -> secret``. ``request`` is a :class:`SecretRequest` (a
#: ``str``: e.g. ``"passphrase for key 1a2b3c4d (alice)"``, ``"new passphrase for key
#: 1a2b3c4d"`` or ``"PIN for token trustkeep"``). The handler raises ``KeyAccessError``
#: when it cannot obtain the secret; it never returns a secret into logs or messages.
SecretsHandler = Callable[[str], str]


@runtime_checkable
class ExplainsWrongSecrets(Protocol):
    """A handler that can say where a secret it gave came from, when that secret was wrong
    (e.g. "it came from TRUSTKEEP_PASSPHRASE, which every key shares")."""

    def __call__(self, request: str, /) -> str: ...

    def wrong_secret_hint(self, request: SecretRequest) -> str | None: ...


@runtime_checkable
class LooksUpSecrets(Protocol):
    """A handler that can give a secret it holds without asking anyone (from the
    environment or a file), or None: what may be used ahead of time, e.g. to unlock
    several keys at once."""

    def __call__(self, request: str, /) -> str: ...

    def lookup(self, request: SecretRequest) -> str | None: ...


def env_suffix(name: str) -> str:
    """A key name as an environment variable suffix: upper-cased, other characters ``_``.

    >>> env_suffix("root-alice@example.com")
    'ROOT_ALICE_EXAMPLE_COM'
    """
    return _NOT_ENV.sub("_", name.upper())


def weak_passphrase_reason(passphrase: str, *, min_length: int) -> str | None:
    """Why ``passphrase`` is refused for a new secret, or None when it is accepted."""
    if not passphrase:
        return "an empty passphrase is not accepted: the private key is encrypted under it"
    if len(passphrase) < min_length:
        return (
            f"a passphrase of {len(passphrase)} characters is too short: use at least {min_length}"
        )
    return None
