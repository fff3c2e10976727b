"""The one error hierarchy, rendered by both the CLI and the TUI.

Subclasses are chosen by what the user must do, and each carries its exit code
(PRODUCT.md): 1 a trust check failed, 2 usage / bad input / configuration,
3 key access or I/O failure, and a ``code`` for the ``--json`` error document.
Messages name the file, role and keyid concerned and never contain a secret.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "KeyAccessError",
    "StorageError",
    "TrustFailure",
    "TrustkeepError",
]


class TrustkeepError(Exception):
    """Base of every error trustkeep reports to a user."""

    exit_code: int = 2
    #: ``{"error": {"code": ...}}`` of ``--json``: what kind of failure, stable for scripts
    code: str = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class TrustFailure(TrustkeepError):
    """A trust check failed: bad signature, threshold not met, pin mismatch."""

    exit_code = 1
    code = "trust-failure"


class InputError(TrustkeepError):
    """Bad arguments, an unreadable or malformed input file, an unknown key."""

    exit_code = 2
    code = "input"


class KeyAccessError(TrustkeepError):
    """A key could not be used: wrong passphrase, no secret available, HSM missing."""

    exit_code = 3
    code = "key-access"


class StorageError(TrustkeepError):
    """Reading or writing trustkeep's own files failed (disk full, read-only home)."""

    exit_code = 3
    code = "storage"
