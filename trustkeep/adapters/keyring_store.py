"""The OS keyring (the ``keyring`` package): remembered passphrases and keyring-held keys.

The backend is whatever ``keyring`` selects: ``PYTHON_KEYRING_BACKEND`` (e.g.
``keyrings.alt.file.PlaintextKeyring``), the keyring config file, or the best
available OS backend. Every keyring failure becomes a ``KeyAccessError``, including
the storage errors file backends (keyrings.alt) let through: ``OSError``, ``ValueError``
and ``configparser.Error`` (a corrupt keyring file).
"""

from __future__ import annotations

import configparser
import os

from trustkeep.errors import KeyAccessError

__all__ = [
    "KEY_SERVICE",
    "PASSPHRASE_SERVICE",
    "delete_secret",
    "get_secret",
    "set_secret",
]

#: service name of remembered passphrases (user = keyid)
PASSPHRASE_SERVICE = "trustkeep"
#: service name of private keys held in the keyring (user = keyid); values are
#: encrypted PKCS#8 PEM text, never a plaintext key
KEY_SERVICE = "trustkeep-private-key"

_HINT = (
    "choose a keyring backend with PYTHON_KEYRING_BACKEND "
    "(e.g. keyrings.alt.file.PlaintextKeyring) or install an OS keyring"
)


def _keyring_error(action: str, service: str, user: str, e: Exception) -> KeyAccessError:
    return KeyAccessError(
        f"OS keyring: cannot {action} {service}/{user}: {type(e).__name__}", hint=_HINT
    )


def get_secret(service: str, user: str) -> str | None:
    """The stored value, or None when there is none."""
    import keyring
    import keyring.errors

    try:
        value = keyring.get_password(service, user)
    except (keyring.errors.KeyringError, OSError, ValueError, configparser.Error) as e:
        raise _keyring_error("read", service, user, e) from e
    return value if isinstance(value, str) else None


def _check_trusted_backend(service: str, user: str) -> None:
    """Refuse to put a passphrase into a backend keyring itself calls insecure (e.g. a
    plaintext file) unless the user picked that backend explicitly."""
    import keyring
    import keyring.core

    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 1)
    if not isinstance(priority, int | float) or priority >= 1:
        return
    if os.environ.get("PYTHON_KEYRING_BACKEND") or keyring.core.load_config() is not None:
        return
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    raise KeyAccessError(
        f"OS keyring: not storing {service}/{user} in {name}, which keyring rates insecure",
        hint="select a backend explicitly with PYTHON_KEYRING_BACKEND if you accept it",
    )


def set_secret(service: str, user: str, value: str, *, sensitive: bool = True) -> None:
    """Store a value. ``sensitive`` (a passphrase) refuses backends rated insecure unless
    chosen explicitly; encrypted key PEMs are stored with ``sensitive=False``."""
    import keyring
    import keyring.errors

    if sensitive:
        _check_trusted_backend(service, user)
    try:
        keyring.set_password(service, user, value)
    except (keyring.errors.KeyringError, OSError, ValueError, configparser.Error) as e:
        raise _keyring_error("store", service, user, e) from e


def delete_secret(service: str, user: str) -> None:
    """Delete a value; a value that is not there is not an error."""
    import keyring
    import keyring.errors

    try:
        keyring.delete_password(service, user)
    except keyring.errors.PasswordDeleteError:
        return
    except (keyring.errors.KeyringError, OSError, ValueError, configparser.Error) as e:
        raise _keyring_error("delete", service, user, e) from e
