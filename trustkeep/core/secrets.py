"""How secrets reach code that needs them: a callback supplied by the front end."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["SecretsHandler"]

#: ``secrets_handler(name) -> secret``. ``name`` says what is asked for, e.g.
#: ``"passphrase for key 1a2b3c4d (alice)"``, ``"new passphrase for key 1a2b3c4d"``
#: or ``"PIN for token trustkeep"``. The handler raises ``KeyAccessError`` when it
#: cannot obtain the secret; it never returns a secret into logs or messages.
SecretsHandler = Callable[[str], str]
