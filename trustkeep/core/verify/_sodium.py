"""libsodium's ed25519 check (PyNaCl) as a fast path in front of pyca/cryptography's.

A verification run checks one ed25519 signature per file; with 16,384 bins those
checks are most of the run, and libsodium's takes about 60 % of the time OpenSSL's
takes here (121 µs against 198 µs for a 9 KB file). But the verdict must stay
securesystemslib's, which is OpenSSL's (python-tuf's client reaches the same
verdict), so libsodium only ever says *yes*:

* Both libraries accept exactly when ``S < L`` and encoding ``[S]B - [k]A`` gives
  the bytes of ``R`` (cofactorless, ``k = SHA-512(R || A || M)``). libsodium also
  rejects a non-canonical or small-order ``A`` and a small-order ``R``; OpenSSL
  accepts some of those. So for the same ``A`` a libsodium acceptance is an OpenSSL
  acceptance, and every signature libsodium rejects is checked again by OpenSSL:
  its answer is the verdict.
* The fast path is taken only for keys libsodium holds to be valid points (canonical,
  in the main subgroup, not of small order), so the two libraries decode the same
  ``A``; any other key goes to OpenSSL alone.

PyNaCl is imported only once a run has checked :data:`WARMUP` signatures this way,
or is about to check that many (:meth:`Ed25519Accelerator.expect`): small runs would
pay more for the import than it saves. If it is missing, every signature goes to
OpenSSL, with the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["WARMUP", "Ed25519Accelerator"]

#: signatures a run checks with OpenSSL alone before PyNaCl is imported: its import
#: (about 6 ms) pays for itself after about 100 signatures (60 to 80 µs saved on each)
WARMUP = 128


class Ed25519Accelerator:
    """One run's libsodium fast path; :meth:`accepts` is True only when libsodium accepts."""

    def __init__(self, warmup: int = WARMUP) -> None:
        self._budget = warmup
        self._open: Callable[[bytes, bytes], object] | None = None
        self._is_valid_point: Callable[[bytes], object] | None = None
        self._loaded = False
        self._points: dict[bytes, bool] = {}

    def expect(self, signatures: int) -> None:
        """A run about to check this many more signatures loads PyNaCl now when they
        would end the warm-up anyway (before a pool forks: one import, not one per
        worker)."""
        if not self._loaded and signatures >= self._budget:
            self._load()

    def accepts(self, sig: bytes, data: bytes, public: bytes) -> bool:
        """Whether libsodium accepts ``sig`` over ``data`` by the raw key ``public``;
        False also means "not asked" (warming up, PyNaCl missing, a key libsodium
        does not take): the caller then asks OpenSSL."""
        if not self._loaded:
            if self._budget > 0:
                self._budget -= 1
                return False
            self._load()
        if self._open is None or len(sig) != 64:
            return False
        valid = self._points.get(public)
        if valid is None:
            valid = self._points[public] = self._valid_point(public)
        if not valid:
            return False
        try:
            self._open(sig + data, public)
        except Exception:  # BadSignatureError, or anything else: OpenSSL decides
            return False
        return True

    def _load(self) -> None:
        self._loaded = True
        try:
            from nacl.bindings import crypto_core_ed25519_is_valid_point, crypto_sign_open
        except ImportError:  # pragma: no cover - PyNaCl is a dependency
            return
        self._open = crypto_sign_open
        self._is_valid_point = crypto_core_ed25519_is_valid_point

    def _valid_point(self, public: bytes) -> bool:
        if len(public) != 32 or self._is_valid_point is None:
            return False
        try:
            return bool(self._is_valid_point(public))
        except Exception:
            return False
