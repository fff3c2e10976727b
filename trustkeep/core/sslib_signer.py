"""securesystemslib's signer package, with its PKCS#11 backend loaded only when used.

Importing ``securesystemslib.signer`` imports every signer backend; python-pkcs11 (and
asn1crypto under it) is most of that cost, and only signing on a token needs it.
:func:`signer_api` imports the package with ``pkcs11`` held back (its HSM backend then
records the library as unavailable); :func:`load_hsm_backend` loads that backend for
real, and the PKCS#11 adapter calls it before it uses ``HSMSigner``. Both are
idempotent; a process that imported the package some other way keeps it as it is.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["load_hsm_backend", "signer_api"]

_PACKAGE = "securesystemslib.signer"
_HELD_BACK = "pkcs11"


def signer_api() -> ModuleType:
    """``securesystemslib.signer``, imported without ``pkcs11`` when this is the first."""
    loaded = sys.modules.get(_PACKAGE)
    if loaded is not None:
        return loaded
    hold = _HELD_BACK not in sys.modules
    if hold:
        sys.modules[_HELD_BACK] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        return importlib.import_module(_PACKAGE)
    finally:
        if hold and sys.modules.get(_HELD_BACK, ...) is None:
            del sys.modules[_HELD_BACK]


def load_hsm_backend() -> None:
    """Make securesystemslib's ``HSMSigner`` usable when :func:`signer_api` held it back.

    Re-running its module fills in the real ``pkcs11`` in the same namespace, where the
    ``HSMSigner`` class the package exports looks it up.
    """
    signer_api()
    hsm = importlib.import_module(f"{_PACKAGE}._hsm_signer")
    if getattr(hsm, "PKCS11_IMPORT_ERROR", None) is not None:
        importlib.reload(hsm)
