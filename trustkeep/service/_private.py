"""Private halves of file and keyring keys: where the encrypted PEM lives, and unlocking it.

Used by :class:`~trustkeep.service.keys.KeyService`. A passphrase remembered in
the OS keyring is tried first, then the secrets handler is asked.
"""

from __future__ import annotations

from trustkeep.adapters import keyring_store
from trustkeep.adapters.keystore import KeyStore
from trustkeep.core.keys import KeyEntry
from trustkeep.core.secrets import SecretsHandler
from trustkeep.errors import InputError, KeyAccessError, StorageError
from trustkeep.service import _keymaterial as km
from trustkeep.service._keymaterial import PrivateKey

__all__ = ["PrivateHalves"]


class PrivateHalves:
    """Read, write, unlock and delete the encrypted private half of a key."""

    def __init__(self, store: KeyStore, secrets_handler: SecretsHandler) -> None:
        self.store = store
        self.secrets_handler = secrets_handler

    def write(self, entry: KeyEntry, pem: bytes) -> None:
        if entry.backend == "keyring":
            keyring_store.set_secret(
                keyring_store.KEY_SERVICE, entry.keyid, pem.decode("ascii"), sensitive=False
            )
        else:
            self.store.write_private(entry.keyid, pem)

    def rewrite(
        self, entry: KeyEntry, pem: bytes, *, passphrase: str, keep: bool, old_passphrase: str
    ) -> None:
        """Replace the private half re-encrypted under ``passphrase``, and remember that
        passphrase in the OS keyring when ``keep``: both change, or neither does."""
        service = keyring_store.PASSPHRASE_SERVICE
        if keep:  # first: a keyring that refuses the secret leaves everything as it was
            keyring_store.set_secret(service, entry.keyid, passphrase)
        try:
            self.write(entry, pem)
        except (StorageError, KeyAccessError):
            if keep:
                self._restore_remembered(entry, old_passphrase)
            raise
        if not keep and entry.remembered:
            keyring_store.delete_secret(service, entry.keyid)

    def _restore_remembered(self, entry: KeyEntry, old_passphrase: str) -> None:
        """Best effort: the keyring's passphrase as it was before a failed rewrite."""
        service = keyring_store.PASSPHRASE_SERVICE
        try:
            if entry.remembered:
                keyring_store.set_secret(service, entry.keyid, old_passphrase)
            else:
                keyring_store.delete_secret(service, entry.keyid)
        except KeyAccessError:
            pass

    def undo_add(self, entry: KeyEntry, existing: KeyEntry | None) -> None:
        """Best effort: put the store back as it was after a failed add."""
        try:
            if entry.backend == "keyring":
                keyring_store.delete_secret(keyring_store.KEY_SERVICE, entry.keyid)
            else:
                self.store.delete_private(entry.keyid)
            if existing is None:
                self.store.delete_entry(entry.keyid)
        except (StorageError, KeyAccessError):
            pass

    def read_encrypted(self, entry: KeyEntry) -> bytes:
        if entry.backend == "file":
            return self.store.read_private(entry.keyid)
        if entry.backend == "keyring":
            text = keyring_store.get_secret(keyring_store.KEY_SERVICE, entry.keyid)
            if text is None:
                raise KeyAccessError(
                    f"private key {entry.keyid} is missing from the OS keyring "
                    f"(service {keyring_store.KEY_SERVICE})"
                )
            return text.encode("ascii", errors="replace")
        if entry.backend == "pkcs11":
            raise KeyAccessError(
                f"key {entry.keyid} lives on a PKCS#11 token: its private key cannot be read"
            )
        raise KeyAccessError(f"key {entry.keyid} is public only: no private key in the store")

    def unlock(self, entry: KeyEntry) -> tuple[PrivateKey, str]:
        pem = self.read_encrypted(entry)
        if entry.remembered:
            remembered = keyring_store.get_secret(keyring_store.PASSPHRASE_SERVICE, entry.keyid)
            if remembered is not None:
                key = self._decrypt(entry, pem, remembered)
                if key is not None:
                    return key, remembered
        passphrase = self.secrets_handler(f"passphrase for key {entry.label()}")
        key = self._decrypt(entry, pem, passphrase)
        if key is None:
            named = f" ({entry.name})" if entry.name else ""
            raise KeyAccessError(f"wrong passphrase for key {entry.keyid}{named}")
        return key, passphrase

    def _decrypt(self, entry: KeyEntry, pem: bytes, passphrase: str) -> PrivateKey | None:
        where = (
            str(self.store.private_path(entry.keyid))
            if entry.backend == "file"
            else f"OS keyring entry {keyring_store.KEY_SERVICE}/{entry.keyid}"
        )
        try:
            obj = km.decrypt_store_pem(pem, passphrase)
        except ValueError as e:
            raise StorageError(f"{where}: corrupt private key of key {entry.keyid}") from e
        if obj is None:
            return None
        try:
            key = km.check_private_key(obj, where)
        except InputError as e:
            raise StorageError(e.message) from e
        sslib, _ = km.public_identity(key.public_key())
        if sslib.keyid != entry.keyid:
            raise StorageError(f"{where}: private key does not belong to key {entry.keyid}")
        return key
