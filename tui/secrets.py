"""The TUI's secrets handler: a passphrase modal, reached from a worker thread.

The service calls ``handler(name)`` from the thread worker doing the signing; the
handler asks the running app (``ask``, bound by the app) and blocks until the modal
is dismissed. A cancelled modal is a ``KeyAccessError``: nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

from trustkeep.errors import KeyAccessError

__all__ = ["TuiSecrets"]

#: ``ask(name) -> secret or None (cancelled)``; called from a worker thread
Asker = Callable[[str], "str | None"]


class TuiSecrets:
    """``secrets_handler(name) -> str`` for the Service; the app binds its modal to it."""

    def __init__(self) -> None:
        self._ask: Asker | None = None

    def bind(self, ask: Asker | None) -> None:
        self._ask = ask

    def __call__(self, name: str) -> str:
        ask = self._ask
        if ask is None:
            raise KeyAccessError(f"no {name}: the ceremony screen is not running")
        try:
            secret = ask(name)
        except RuntimeError as e:  # the app stopped, or a call from the app's own thread
            raise KeyAccessError(f"no {name}: the ceremony screen could not ask for it") from e
        if secret is None:
            raise KeyAccessError(f"no {name}: entry cancelled")
        return secret
