"""Where a private key lives is its URI: one signer class per URI scheme, in a typed registry.

As securesystemslib's ``Signer.from_priv_key_uri`` does, the scheme of a key's
private-key URI (``tkfile:<keyid>``) is partitioned off and looked up in
:data:`SIGNER_FOR_URI_SCHEME`; the class it names reaches the private half and
makes the securesystemslib ``Signer`` that uses it. What ``key list`` shows as the
key's *backend* is that class's ``backend``, derived from the URI, never stored.

* ``tkfile:<keyid>``    :class:`FileSigner`: encrypted PKCS#8 ``<home>/keys/private/<keyid>.pem``
* ``tkkeyring:<keyid>`` :class:`KeyringSigner`: the same encrypted PEM text in the OS
  keyring (service ``trustkeep-private-key``); kept encrypted because file-based
  keyring backends store values in clear
* ``hsm:<id>?label=<token>`` :class:`HsmSigner`: a key on a PKCS#11 token

A new backend (a cloud KMS) is one more class here. The store context (the home's
key store, the secrets handler) comes in beside the URI because ``tkfile:`` names a
key of *this* home. A passphrase remembered in the OS keyring (service
``trustkeep``, user = keyid) is tried before the secrets handler is asked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, Final

from trustkeep.adapters import keyring_store
from trustkeep.adapters.keystore import KeyStore
from trustkeep.core.keys import KeyEntry
from trustkeep.core.secrets import (
    ExplainsWrongSecrets,
    LooksUpSecrets,
    SecretRequest,
    SecretsHandler,
)
from trustkeep.errors import InputError, KeyAccessError, StorageError
from trustkeep.service import _keymaterial as km
from trustkeep.service._keymaterial import PrivateKey

if TYPE_CHECKING:
    from securesystemslib.signer import Signer, SSlibKey

__all__ = [
    "PUBLIC_ONLY",
    "SIGNER_FOR_URI_SCHEME",
    "EncryptedPemSigner",
    "FileSigner",
    "HsmSigner",
    "KeyringSigner",
    "StoreContext",
    "StoreSigner",
    "backend_of",
    "open_private",
    "pem_signer_for_backend",
]

#: the backend shown for a key without a private half in the store
PUBLIC_ONLY = "public"


@dataclass(frozen=True)
class StoreContext:
    """What a store signer needs beside the URI: this home's key store, the secrets."""

    store: KeyStore
    secrets_handler: SecretsHandler


class StoreSigner(ABC):
    """The private half a URI names, and the securesystemslib ``Signer`` that uses it."""

    #: the URI scheme this class serves (``tkfile``)
    scheme: ClassVar[str]
    #: what ``key list`` shows (``file``)
    backend: ClassVar[str]

    def __init__(self, entry: KeyEntry, context: StoreContext) -> None:
        if entry.uri is None or entry.uri_scheme != self.scheme:
            raise ValueError(f"{type(self).__name__} serves {self.scheme}: URIs only")
        self.entry = entry
        self.uri: str = entry.uri
        self.context = context

    @classmethod
    def uri_for(cls, keyid: str) -> str:
        """The URI of a new key of this backend."""
        return f"{cls.scheme}:{keyid}"

    @abstractmethod
    def signer(self) -> Signer:
        """A securesystemslib ``Signer`` (asks the passphrase or PIN it needs)."""

    @abstractmethod
    def delete(self) -> None:
        """Delete the private half (a token's key is left on the token)."""

    def _public(self) -> SSlibKey:
        from securesystemslib.signer import SSlibKey  # the signer package: when a key is used

        key = self.entry.sslib_key()
        assert isinstance(key, SSlibKey)
        return key


class EncryptedPemSigner(StoreSigner):
    """A private half kept as an encrypted PKCS#8 PEM, unlocked with a passphrase."""

    @abstractmethod
    def read_pem(self) -> bytes: ...

    @abstractmethod
    def write_pem(self, pem: bytes) -> None: ...

    @abstractmethod
    def where(self) -> str:
        """Where the PEM lives, for messages (a path, a keyring entry)."""

    def signer(self) -> Signer:
        key, _ = self.unlock()
        return self.signer_for(key)

    def signer_for(self, key: PrivateKey) -> Signer:
        """The ``Signer`` of this key once decrypted (by :meth:`unlock` or :meth:`decrypt`)."""
        from securesystemslib.signer import CryptoSigner

        return CryptoSigner(key, self._public())

    def _request(self) -> SecretRequest:
        entry = self.entry
        return SecretRequest.passphrase(
            f"key {entry.label()}", key_name=entry.name, keyid=entry.keyid
        )

    def _remembered(self) -> str | None:
        if not self.entry.remembered:
            return None
        return keyring_store.get_secret(keyring_store.PASSPHRASE_SERVICE, self.entry.keyid)

    def known_passphrase(self) -> str | None:
        """The passphrase to try without asking anyone: remembered in the OS keyring, or
        held by the secrets handler's own sources (environment, a file); else None."""
        remembered = self._remembered()
        if remembered is not None:
            return remembered
        handler = self.context.secrets_handler
        return handler.lookup(self._request()) if isinstance(handler, LooksUpSecrets) else None

    def unlock(self) -> tuple[PrivateKey, str]:
        """The decrypted key and the passphrase that opened it."""
        entry = self.entry
        pem = self.read_pem()
        remembered = self._remembered()
        if remembered is not None:
            key = self.decrypt(pem, remembered)
            if key is not None:
                return key, remembered
        request = self._request()
        passphrase = self.context.secrets_handler(request)
        key = self.decrypt(pem, passphrase)
        if key is None:
            named = f" ({entry.name})" if entry.name else ""
            handler = self.context.secrets_handler
            hint = (
                handler.wrong_secret_hint(request)
                if isinstance(handler, ExplainsWrongSecrets)
                else None
            )
            raise KeyAccessError(f"wrong passphrase for key {entry.keyid}{named}", hint=hint)
        return key, passphrase

    def decrypt(self, pem: bytes, passphrase: str) -> PrivateKey | None:
        """The key in ``pem`` (this entry's), None when ``passphrase`` is wrong. Safe to
        run in another thread: the key derivation lets other threads run meanwhile."""
        keyid = self.entry.keyid
        try:
            obj = km.decrypt_store_pem(pem, passphrase)
        except ValueError as e:
            raise StorageError(f"{self.where()}: corrupt private key of key {keyid}") from e
        if obj is None:
            return None
        try:
            key = km.check_private_key(obj, self.where())
        except InputError as e:
            raise StorageError(e.message) from e
        sslib, _ = km.public_identity(key.public_key())
        if sslib.keyid != keyid:
            raise StorageError(f"{self.where()}: private key does not belong to key {keyid}")
        return key

    def rewrite(self, pem: bytes, *, passphrase: str, keep: bool, old_passphrase: str) -> None:
        """Replace the PEM re-encrypted under ``passphrase``, and remember that passphrase
        in the OS keyring when ``keep``: both change, or neither does."""
        service, keyid = keyring_store.PASSPHRASE_SERVICE, self.entry.keyid
        if keep:  # first: a keyring that refuses the secret leaves everything as it was
            keyring_store.set_secret(service, keyid, passphrase)
        try:
            self.write_pem(pem)
        except (StorageError, KeyAccessError):
            if keep:
                self._restore_remembered(old_passphrase)
            raise
        if not keep and self.entry.remembered:
            keyring_store.delete_secret(service, keyid)

    def _restore_remembered(self, old_passphrase: str) -> None:
        """Best effort: the keyring's passphrase as it was before a failed rewrite."""
        service, keyid = keyring_store.PASSPHRASE_SERVICE, self.entry.keyid
        try:
            if self.entry.remembered:
                keyring_store.set_secret(service, keyid, old_passphrase)
            else:
                keyring_store.delete_secret(service, keyid)
        except KeyAccessError:
            pass

    def undo_add(self, *, keep_entry: bool) -> None:
        """Best effort: put the store back as it was after a failed add."""
        try:
            self.delete()
            if not keep_entry:
                self.context.store.delete_entry(self.entry.keyid)
        except (StorageError, KeyAccessError):
            pass


class FileSigner(EncryptedPemSigner):
    """``tkfile:<keyid>``: an encrypted PEM file, 0600, in the home's key store."""

    scheme = "tkfile"
    backend = "file"

    def where(self) -> str:
        return str(self.context.store.private_path(self.entry.keyid))

    def read_pem(self) -> bytes:
        return self.context.store.read_private(self.entry.keyid)

    def write_pem(self, pem: bytes) -> None:
        self.context.store.write_private(self.entry.keyid, pem)

    def delete(self) -> None:
        self.context.store.delete_private(self.entry.keyid)


class KeyringSigner(EncryptedPemSigner):
    """``tkkeyring:<keyid>``: the encrypted PEM text in the OS keyring."""

    scheme = "tkkeyring"
    backend = "keyring"

    def where(self) -> str:
        return f"OS keyring entry {keyring_store.KEY_SERVICE}/{self.entry.keyid}"

    def read_pem(self) -> bytes:
        text = keyring_store.get_secret(keyring_store.KEY_SERVICE, self.entry.keyid)
        if text is None:
            raise KeyAccessError(
                f"private key {self.entry.keyid} is missing from the OS keyring "
                f"(service {keyring_store.KEY_SERVICE})"
            )
        return text.encode("ascii", errors="replace")

    def write_pem(self, pem: bytes) -> None:
        keyring_store.set_secret(
            keyring_store.KEY_SERVICE, self.entry.keyid, pem.decode("ascii"), sensitive=False
        )

    def delete(self) -> None:
        keyring_store.delete_secret(keyring_store.KEY_SERVICE, self.entry.keyid)


class HsmSigner(StoreSigner):
    """``hsm:<key id>?label=<token>``: a key on a PKCS#11 token (securesystemslib HSMSigner)."""

    scheme = "hsm"
    backend = "pkcs11"

    def signer(self) -> Signer:
        from trustkeep.adapters.pkcs11 import TokenSigner

        return TokenSigner(self.uri, self._public(), self.context.secrets_handler)

    def delete(self) -> None:
        """Nothing: the key stays on the token, only the store forgets it."""


#: URI scheme -> the class that serves it. A new backend is one class added here.
SIGNER_FOR_URI_SCHEME: Final[Mapping[str, type[StoreSigner]]] = MappingProxyType(
    {cls.scheme: cls for cls in (FileSigner, KeyringSigner, HsmSigner)}
)


def _signer_class(entry: KeyEntry) -> type[StoreSigner] | None:
    scheme = entry.uri_scheme
    return None if scheme is None else SIGNER_FOR_URI_SCHEME.get(scheme)


def backend_of(entry: KeyEntry) -> str:
    """The backend a key's URI names (``file``, ``keyring``, ``pkcs11``, ``public``)."""
    scheme = entry.uri_scheme
    if scheme is None:
        return PUBLIC_ONLY
    cls = SIGNER_FOR_URI_SCHEME.get(scheme)
    return cls.backend if cls is not None else scheme


def open_private(entry: KeyEntry, context: StoreContext) -> StoreSigner:
    """The private half of ``entry``, by its URI's scheme (partitioned, then looked up)."""
    if entry.uri_scheme is None:
        raise KeyAccessError(f"key {entry.keyid} is public only: no private key in the store")
    cls = _signer_class(entry)
    if cls is None:
        raise StorageError(
            f"key {entry.keyid}: unknown private key URI scheme {entry.uri_scheme!r}",
            hint=f"known schemes: {', '.join(SIGNER_FOR_URI_SCHEME)}",
        )
    return cls(entry, context)


def pem_signer_for_backend(backend: str) -> type[EncryptedPemSigner]:
    """The class that stores a new passphrase-protected key in ``backend`` (file, keyring)."""
    for cls in SIGNER_FOR_URI_SCHEME.values():
        if issubclass(cls, EncryptedPemSigner) and cls.backend == backend:
            return cls
    choices = [
        c.backend for c in SIGNER_FOR_URI_SCHEME.values() if issubclass(c, EncryptedPemSigner)
    ]
    raise InputError(f"unknown backend {backend!r}: choose {' or '.join(choices)}")
