"""securesystemslib's signer package, with its PKCS#11 backend loaded only when used.

Importing ``securesystemslib.signer`` imports every signer backend; python-pkcs11 (and
asn1crypto under it) is most of that cost, and only signing on a token needs it.
:func:`signer_api` imports the package with ``pkcs11`` held back (its HSM backend then
records the library as unavailable); :func:`load_hsm_backend` loads that backend for
real, and the PKCS#11 adapter calls it before it uses ``HSMSigner``. Both are
idempotent; a process that imported the package some other way keeps it as it is.

Verification needs even less: the public-key classes of ``securesystemslib.signer._key``.
:func:`key_class` loads that one module without running the package's ``__init__`` (every
backend: GPG and its subprocess machinery, the cloud KMS signers, the HSM signer) for the
key types securesystemslib maps to ``SSlibKey``; any other key type loads the package and
looks it up in the package's own table, exactly as ``Key.from_dict`` does.

python-tuf's Metadata API imports the signer package itself, from many places. A
trustkeep process (the CLI's ``main``) calls :func:`defer_hsm_backend` once: whoever
imports the package first then gets it with PKCS#11 held back, as :func:`signer_api`
does, and write commands do not pay for python-pkcs11 and asn1crypto unless they sign
on a token.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any

__all__ = [
    "SSLIB_KEY_PAIRS",
    "defer_hsm_backend",
    "key_api",
    "key_class",
    "load_hsm_backend",
    "signer_api",
]

_PACKAGE = "securesystemslib.signer"
_KEY_MODULE = f"{_PACKAGE}._key"
_HELD_BACK = "pkcs11"

#: (keytype, scheme) pairs that ``securesystemslib.signer.KEY_FOR_TYPE_AND_SCHEME`` maps to
#: ``SSlibKey`` (tests/test_startup.py checks this against the package's own table)
SSLIB_KEY_PAIRS = frozenset(
    {
        ("ed25519", "ed25519"),
        ("ecdsa", "ecdsa-sha2-nistp256"),
        ("ecdsa", "ecdsa-sha2-nistp384"),
        ("ecdsa", "ecdsa-sha2-nistp521"),
        ("rsa", "rsassa-pss-sha256"),
        ("rsa", "rsassa-pss-sha384"),
        ("rsa", "rsassa-pss-sha512"),
        ("rsa", "rsa-pkcs1v15-sha256"),
        ("rsa", "rsa-pkcs1v15-sha384"),
        ("rsa", "rsa-pkcs1v15-sha512"),
    }
)


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
        _bind_loaded_submodules()


def _bind_loaded_submodules() -> None:
    """Submodules :func:`key_api` loaded before the package are attributes of it too."""
    package = sys.modules.get(_PACKAGE)
    if package is None:
        return
    for name, module in list(sys.modules.items()):
        child = name.removeprefix(f"{_PACKAGE}.")
        loaded_first = module is not None and not hasattr(package, child)
        if child != name and "." not in child and loaded_first:
            setattr(package, child, module)


def key_api() -> ModuleType:
    """``securesystemslib.signer._key`` (``Key``, ``SSlibKey``, ``Signature``).

    When the package is not imported yet, its directory stands in for it while this one
    module (and the few it imports) loads, so the package's ``__init__`` does not run;
    a later ``import securesystemslib.signer`` runs it then and reuses these modules.
    """
    loaded = sys.modules.get(_KEY_MODULE)
    if loaded is not None:
        return loaded
    if _PACKAGE in sys.modules:
        return importlib.import_module(_KEY_MODULE)
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.submodule_search_locations is None:  # pragma: no cover
        return importlib.import_module(_KEY_MODULE)
    stand_in = ModuleType(_PACKAGE)
    stand_in.__spec__ = spec
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[_PACKAGE] = stand_in
    try:
        return importlib.import_module(_KEY_MODULE)
    finally:
        if sys.modules.get(_PACKAGE) is stand_in:
            del sys.modules[_PACKAGE]


def key_class(keytype: Any, scheme: Any) -> Any:
    """The class ``Key.from_dict`` would build for this pair; None if securesystemslib
    knows none (python-tuf then rejects the metadata)."""
    if _PACKAGE not in sys.modules and (keytype, scheme) in SSLIB_KEY_PAIRS:
        return key_api().SSlibKey
    return signer_api().KEY_FOR_TYPE_AND_SCHEME.get((keytype, scheme))


class _HeldBackLoader:
    """Runs the signer package's ``__init__`` with ``pkcs11`` held back; else its loader."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._inner.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        hold = _HELD_BACK not in sys.modules
        if hold:
            sys.modules[_HELD_BACK] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            self._inner.exec_module(module)
        finally:
            if hold and sys.modules.get(_HELD_BACK, ...) is None:
                del sys.modules[_HELD_BACK]
        _bind_loaded_submodules()


class _DeferHsmBackend:
    """A meta path finder for the one name ``securesystemslib.signer``."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != _PACKAGE:
            return None
        spec = PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _HeldBackLoader(spec.loader)  # type: ignore[assignment]
        return spec


def defer_hsm_backend() -> None:
    """From now on the first import of the signer package holds back ``pkcs11`` (see
    the module's doc); :func:`load_hsm_backend` loads it when a token is used."""
    if _PACKAGE not in sys.modules and not any(
        isinstance(f, _DeferHsmBackend) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _DeferHsmBackend())


def load_hsm_backend() -> None:
    """Make securesystemslib's ``HSMSigner`` usable when :func:`signer_api` held it back.

    Re-running its module fills in the real ``pkcs11`` in the same namespace, where the
    ``HSMSigner`` class the package exports looks it up.
    """
    signer_api()
    hsm = importlib.import_module(f"{_PACKAGE}._hsm_signer")
    if getattr(hsm, "PKCS11_IMPORT_ERROR", None) is not None:
        importlib.reload(hsm)
