"""A per-command pool of signers: each key of the store unlocked once, some ahead of use.

This module loads neither securesystemslib's signer package nor python-tuf, so a command
can start a key's derivation (PBKDF2, which lets Python's other threads run) before it
imports the repository code (:func:`keys_ahead`).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters import root_hint
from trustkeep.adapters.process_pool import workers
from trustkeep.core.keys import KeyEntry
from trustkeep.errors import KeyAccessError, TrustkeepError
from trustkeep.service._keymaterial import PrivateKey
from trustkeep.service._private import EncryptedPemSigner

if TYPE_CHECKING:
    from securesystemslib.signer import Signer

    from trustkeep.service.keys import KeyService

__all__ = ["SignerPool", "keys_ahead"]


class SignerPool:
    """Signers for the keys of this store that hold a private half, each unlocked once.

    :meth:`prefetch` starts unlocking keys a command will need, in threads, while the
    command goes on (loading, hashing); :meth:`signer` waits for such a key when it is
    first used.
    """

    def __init__(self, keys: KeyService) -> None:
        self._keys = keys
        self._signers: dict[str, Signer] = {}
        self._entries: dict[str, KeyEntry | None] = {}  # each store entry read once
        #: keyid -> (its private half, the unlock running in a thread)
        self._ahead: dict[str, tuple[EncryptedPemSigner, Future[PrivateKey | None]]] = {}

    def _entry(self, keyid: str) -> KeyEntry | None:
        if keyid not in self._entries:
            self._entries[keyid] = self._keys.get(keyid)
        return self._entries[keyid]

    def available(self, keyids: Iterable[str]) -> list[str]:
        out = []
        for keyid in keyids:
            entry = self._entry(keyid)
            if entry is not None and entry.has_private:
                out.append(keyid)
        return out

    def signer(self, keyid: str) -> Signer:
        if keyid not in self._signers and keyid in self._ahead:
            half, unlocking = self._ahead.pop(keyid)
            key = unlocking.result()
            if key is not None:
                self._signers[keyid] = half.signer_for(key)
        if keyid not in self._signers:
            entry = self._entry(keyid)
            if entry is None or not entry.has_private:
                raise KeyAccessError(f"key {keyid[:8]}: its private half is not in this store")
            self._signers[keyid] = self._keys.signer(entry)
        return self._signers[keyid]

    def signers(self, keyids: Iterable[str]) -> list[Signer]:
        return [self.signer(k) for k in self.available(keyids)]

    def prefetch(self, keyids: Iterable[str]) -> None:
        """Start unlocking, in threads, the keys among ``keyids`` whose passphrases are
        known without asking anyone (remembered in the OS keyring, or in the environment
        or a passphrase file); returns at once. Their key derivations (PBKDF2, which lets
        Python's other threads run) go on side by side, one per core, while the command
        goes on. Never asks; a key that does not unlock ahead (no known passphrase, a
        wrong one, another backend) is unlocked, and its error reported, when it is
        first used, as without this call."""
        jobs: list[tuple[str, EncryptedPemSigner, bytes, str]] = []
        for keyid in dict.fromkeys(keyids):
            if keyid in self._signers or keyid in self._ahead:
                continue
            try:
                entry = self._entry(keyid)
                if entry is None or not entry.has_private:
                    continue
                half = self._keys.private_half(entry)
                if not isinstance(half, EncryptedPemSigner):
                    continue
                passphrase = half.known_passphrase()
                if passphrase is not None:
                    jobs.append((keyid, half, half.read_pem(), passphrase))
            except TrustkeepError:
                continue  # reported when the key is used
        if not jobs:
            return
        pool = ThreadPoolExecutor(min(len(jobs), workers()), thread_name_prefix="unlock")
        for keyid, half, pem, passphrase in jobs:
            self._ahead[keyid] = (half, pool.submit(_try_decrypt, half, pem, passphrase))
        pool.shutdown(wait=False)  # its threads end with their unlocks


def keys_ahead(keys: KeyService, directory: Path, role: str) -> SignerPool:
    """A pool already unlocking the keys of this store that ``directory``'s root.json
    names for ``role`` (:func:`trustkeep.adapters.root_hint.role_keyids`: plain JSON,
    trusted for nothing). The command that takes it loads and verifies the root as
    ever, and signs only with the keys that root names."""
    pool = SignerPool(keys)
    pool.prefetch(root_hint.role_keyids(directory, role))
    return pool


def _try_decrypt(half: EncryptedPemSigner, pem: bytes, passphrase: str) -> PrivateKey | None:
    try:
        return half.decrypt(pem, passphrase)
    except TrustkeepError:
        return None  # reported when the key is used
