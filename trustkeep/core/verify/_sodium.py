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
pay more for the import than it saves.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WARMUP", "Ed25519Accelerator"]

#: signatures a run checks with OpenSSL alone before PyNaCl is imported: its import
#: (about 6 ms) pays for itself after about 100 signatures (60 to 80 µs saved on each)
WARMUP = 128


class Ed25519Accelerator:
    """One run's libsodium fast path; :meth:`accepts` is True only when libsodium accepts."""

    def __init__(self, warmup: int = WARMUP) -> None:
        self._budget = warmup
        self._libsodium: Any = None  # nacl.bindings, once loaded
        self._refused: type[Exception] = Exception  # nacl's CryptoError, once loaded
        self._points: dict[bytes, bool] = {}

    def expect(self, signatures: int) -> None:
        """A run about to check this many more signatures loads PyNaCl now when they
        would end the warm-up anyway (before a pool forks: one import, not one per
        worker)."""
        if self._libsodium is None and signatures >= self._budget:
            self._load()

    def accepts(self, sig: bytes, data: bytes, public: bytes) -> bool:
        """Whether libsodium accepts ``sig`` over ``data`` by the raw key ``public``;
        False also means "not asked" (warming up, a key libsodium does not take): the
        caller then asks OpenSSL."""
        if self._libsodium is None:
            if self._budget > 0:
                self._budget -= 1
                return False
            self._load()
        if len(sig) != 64 or len(public) != 32:
            return False
        valid = self._points.get(public)
        if valid is None:
            valid = self._points[public] = self._libsodium.crypto_core_ed25519_is_valid_point(
                public
            )
        if not valid:
            return False
        try:
            self._libsodium.crypto_sign_open(sig + data, public)
        except self._refused:  # BadSignatureError: OpenSSL decides
            return False
        return True

    def _load(self) -> None:
        import nacl.bindings
        import nacl.exceptions

        self._libsodium = nacl.bindings
        self._refused = nacl.exceptions.CryptoError
