"""The key store service: generate, look up, unlock, import, export, re-encrypt, remove keys.

Where a private half lives is its entry's URI; the URI's scheme picks the signer
class (:mod:`trustkeep.service._private`: ``tkfile:``, ``tkkeyring:``, ``hsm:``),
and so the backend. An entry without a URI is public only (the private half is
held elsewhere).

Secrets come through ``secrets_handler(request)`` as
:class:`~trustkeep.core.secrets.SecretRequest` values; a passphrase remembered in
the OS keyring (service ``trustkeep``, user = keyid) is tried first. A new
passphrase must have at least ``MIN_PASSPHRASE_LENGTH`` characters unless the
caller passes ``allow_weak``.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters import keyring_store
from trustkeep.adapters.keystore import KeyStore
from trustkeep.core.keys import KEY_TYPES, KeyEntry
from trustkeep.core.pbes2 import DEFAULT_ITERATIONS
from trustkeep.core.secrets import (
    MIN_PASSPHRASE_LENGTH,
    SecretRequest,
    SecretsHandler,
)
from trustkeep.errors import InputError, KeyAccessError, StorageError
from trustkeep.service import _keymaterial as km
from trustkeep.service._key_entries import (
    HEX_RE,
    MIN_PREFIX,
    check_new_passphrase,
    crypto_public,
    new_entry,
    validate_name,
)
from trustkeep.service._keymaterial import PrivateKey, PublicKey
from trustkeep.service._private import (
    EncryptedPemSigner,
    HsmSigner,
    StoreContext,
    StoreSigner,
    backend_of,
    open_private,
    pem_signer_for_backend,
)

if TYPE_CHECKING:
    from securesystemslib.signer import Key, Signer, SSlibKey

    from trustkeep.service._key_transfer import ImportedNotaryKey, PrivateFormat, PublicFormat

__all__ = ["KeyService", "validate_name"]


class KeyService:
    """Key store API used by the CLI, the TUI and the other services."""

    def __init__(
        self,
        home: Path,
        secrets_handler: SecretsHandler,
        *,
        kdf_iterations: int = DEFAULT_ITERATIONS,
    ) -> None:
        self.home = home
        self.store = KeyStore(home)
        self.secrets_handler = secrets_handler
        self.kdf_iterations = kdf_iterations
        self._context = StoreContext(self.store, secrets_handler)

    # -- lookup ---------------------------------------------------------------

    def list(self) -> list[KeyEntry]:
        """All entries, sorted by name (unnamed last), then keyid."""
        entries = self.store.entries()
        return sorted(entries, key=lambda e: (e.name is None, e.name or "", e.keyid))

    def get(self, keyid: str) -> KeyEntry | None:
        """The entry with exactly this keyid, or None."""
        if not re.match(r"^[0-9a-f]{64}$", keyid):
            return None
        return self.store.get(keyid)

    def resolve(self, ref: str | KeyEntry) -> KeyEntry:
        """A full keyid, an unambiguous keyid prefix (>= 8 hex digits) or a name."""
        if isinstance(ref, KeyEntry):
            return ref
        ref = ref.strip()
        lowered = ref.lower()
        if len(lowered) >= MIN_PREFIX and HEX_RE.match(lowered):
            hits = [k for k in self.store.keyids() if k.startswith(lowered)]
            if len(hits) == 1:
                entry = self.store.get(hits[0])
                if entry is not None:  # None: removed meanwhile by another process
                    return entry
        entries = self.store.entries()
        exact = [e for e in entries if ref in (e.keyid, e.name, e.notary_canonical_id)]
        if len(exact) == 1:
            return exact[0]
        if not exact and HEX_RE.match(lowered):
            if len(lowered) < MIN_PREFIX:
                raise InputError(
                    f"key prefix {ref!r} is too short: give at least {MIN_PREFIX} hex digits"
                )
            exact = [e for e in entries if e.keyid.startswith(lowered)]
            if len(exact) == 1:
                return exact[0]
        if not exact:
            raise InputError(
                f"unknown key {ref!r}", hint="'trustkeep key list' shows the keys in the store"
            )
        matches = ", ".join(e.label() for e in exact)
        raise InputError(f"ambiguous key {ref!r}: matches {matches}; give more hex digits")

    # -- creation -------------------------------------------------------------

    def generate(
        self,
        key_type: str,
        *,
        name: str | None = None,
        backend: str = "file",
        remember: bool = False,
        labels: Mapping[str, str] | None = None,
        allow_weak: bool = False,
    ) -> KeyEntry:
        """A new key; its private half encrypted with a new passphrase."""
        if key_type not in KEY_TYPES:
            raise InputError(
                f"unknown key type {key_type!r}", hint=f"choose one of: {', '.join(KEY_TYPES)}"
            )
        self._check_new(name=name, backend=backend)
        private_key = km.generate_private_key(key_type)
        return self.add_private(
            private_key,
            name=name,
            backend=backend,
            remember=remember,
            labels=labels,
            allow_weak=allow_weak,
        )

    def add_private(
        self,
        private_key: PrivateKey,
        *,
        name: str | None = None,
        backend: str = "file",
        remember: bool = False,
        labels: Mapping[str, str] | None = None,
        passphrase: str | None = None,
        allow_weak: bool = False,
    ) -> KeyEntry:
        """Store a private key (generated or imported) under a new passphrase.

        ``passphrase`` is asked through the secrets handler when not given.
        """
        sslib, canonical = km.public_identity(private_key.public_key())
        self._check_new(name=name, backend=backend, keyid=sslib.keyid)
        existing = self._public_only(sslib.keyid)
        entry = new_entry(
            sslib,
            canonical,
            uri=pem_signer_for_backend(backend).uri_for(sslib.keyid),
            name=name,
            labels=labels,
            existing=existing,
            remembered=remember,
        )
        if passphrase is None:
            passphrase = self._new_passphrase(entry, allow_weak=allow_weak)
        else:
            check_new_passphrase(passphrase, f"key {entry.label()}", allow_weak=allow_weak)
        pem = km.encrypt_store_pem(private_key, passphrase, iterations=self.kdf_iterations)
        half = self._pem_half(entry)
        half.write_pem(pem)
        try:
            self.store.put(entry)
            if remember:
                keyring_store.set_secret(keyring_store.PASSPHRASE_SERVICE, entry.keyid, passphrase)
        except (InputError, StorageError, KeyAccessError):  # InputError: name taken meanwhile
            half.undo_add(keep_entry=existing is not None)
            raise
        return entry

    def add_public(
        self,
        key: Key,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> KeyEntry:
        """A public-only entry (the private half is held elsewhere); idempotent per keyid."""
        from securesystemslib.signer import SSlibKey

        if not isinstance(key, SSlibKey):
            raise InputError(f"key {key.keyid}: unsupported key class {type(key).__name__}")
        crypto_key = km.check_public_key(crypto_public(key), f"key {key.keyid}")
        sslib, canonical = km.public_identity(crypto_key)
        if sslib.scheme != key.scheme:
            sslib = SSlibKey(key.keyid, key.keytype, key.scheme, dict(key.keyval))
        existing = self.store.get(sslib.keyid)
        if existing is not None:
            if name is None and not labels:
                return existing
            name = name if name is not None else existing.name
            if name is not None and name != existing.name:
                validate_name(name)
                self._check_name_free(name, except_keyid=existing.keyid)
            merged = {**dict(existing.labels), **(labels or {})}
            updated = dataclasses.replace(existing, name=name, labels=merged)
            self.store.put(updated)
            return updated
        if name is not None:
            validate_name(name)
            self._check_name_free(name)
        entry = new_entry(sslib, canonical, uri=None, name=name, labels=labels, existing=None)
        self.store.put(entry)
        return entry

    def add_token_key(
        self,
        uri: str,
        key: SSlibKey,
        *,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> KeyEntry:
        """Register a key that lives on a PKCS#11 token (``hsm:`` URI)."""
        if uri.partition(":")[0] != HsmSigner.scheme:
            raise InputError(f"not a PKCS#11 key URI: {uri!r}")
        crypto_key = km.check_public_key(crypto_public(key), uri)
        sslib, canonical = km.public_identity(crypto_key)
        self._check_new(name=name, keyid=sslib.keyid)
        entry = new_entry(
            sslib,
            canonical,
            uri=uri,
            name=name,
            labels=labels,
            existing=self._public_only(sslib.keyid),
            scheme=key.scheme,
        )
        self.store.put(entry)
        return entry

    def _public_only(self, keyid: str) -> KeyEntry | None:
        """The store's entry for a key about to get a private half: none, or public-only."""
        existing = self.store.get(keyid)
        if existing is not None and existing.has_private:
            raise InputError(f"key {existing.label()} is already in the store")
        return existing

    # -- use ------------------------------------------------------------------

    def signer(self, ref: str | KeyEntry) -> Signer:
        """A securesystemslib Signer for the key (asks its passphrase or PIN)."""
        return self.private_half(ref).signer()

    def private_half(self, ref: str | KeyEntry) -> StoreSigner:
        """Where the key's private half lives, by its URI's scheme."""
        return open_private(self.resolve(ref), self._context)

    def backend_of(self, ref: str | KeyEntry) -> str:
        """``file``, ``keyring``, ``pkcs11`` or ``public``: derived from the key's URI."""
        return backend_of(self.resolve(ref))

    def private_key(self, ref: str | KeyEntry) -> PrivateKey:
        """The decrypted private key (file and keyring keys only)."""
        key, _ = self._pem_half(self.resolve(ref)).unlock()
        return key

    def public_key(self, ref: str | KeyEntry) -> PublicKey:
        entry = self.resolve(ref)
        return crypto_public(entry.sslib_key())

    # -- import / export (see _key_transfer) ------------------------------------

    def import_file(
        self,
        path: Path,
        *,
        password: str | None = None,
        name: str | None = None,
        backend: str = "file",
        remember: bool = False,
        labels: Mapping[str, str] | None = None,
        allow_weak: bool = False,
        new_passphrase: str | None = None,
    ) -> KeyEntry:
        """Import a PEM private/public key, a Notary key file or a TUF key JSON file.

        ``password`` opens an encrypted file (asked when needed); ``new_passphrase``
        encrypts the private key in the store (asked when not given).
        """
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        data = _transfer.read_key_file(path)
        return self.import_bytes(
            data,
            source=str(path),
            password=password,
            name=name,
            backend=backend,
            remember=remember,
            labels=labels,
            allow_weak=allow_weak,
            new_passphrase=new_passphrase,
        )

    def import_bundle(
        self,
        path: Path,
        *,
        password: str | None = None,
        passwords: Mapping[str, str] | None = None,
        name: str | None = None,
        backend: str = "file",
        remember: bool = False,
        allow_weak: bool = False,
    ) -> builtins.list[KeyEntry]:
        """Import every key of a file (one key, or a multi-key `notary key export` file)."""
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.import_bundle(
            self,
            _transfer.read_key_file(path),
            source=str(path),
            password=password,
            passwords=passwords,
            name=name,
            backend=backend,
            remember=remember,
            allow_weak=allow_weak,
        )

    def import_bytes(
        self,
        data: bytes,
        *,
        source: str,
        password: str | None = None,
        name: str | None = None,
        backend: str = "file",
        remember: bool = False,
        labels: Mapping[str, str] | None = None,
        allow_weak: bool = False,
        new_passphrase: str | None = None,
    ) -> KeyEntry:
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.import_bytes(
            self,
            data,
            source=source,
            password=password,
            name=name,
            backend=backend,
            remember=remember,
            labels=labels,
            allow_weak=allow_weak,
            new_passphrase=new_passphrase,
        )

    def import_notary_dir(
        self,
        path: Path,
        *,
        passwords: Mapping[str, str] | None = None,
        backend: str = "file",
        remember: bool = False,
        allow_weak: bool = False,
    ) -> builtins.list[ImportedNotaryKey]:
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.import_notary_dir(
            self,
            path,
            passwords=passwords,
            backend=backend,
            remember=remember,
            allow_weak=allow_weak,
        )

    def import_pkcs11(
        self,
        *,
        token_label: str | None,
        key_id: int,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> KeyEntry:
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.import_pkcs11(
            self, token_label=token_label, key_id=key_id, name=name, labels=labels
        )

    def export_private(
        self,
        ref: str | KeyEntry,
        *,
        fmt: PrivateFormat = "pkcs8",
        role: str | None = None,
        gun: str | None = None,
        allow_weak: bool = False,
    ) -> bytes:
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.export_private(
            self, ref, fmt=fmt, role=role, gun=gun, allow_weak=allow_weak
        )

    def export_public(self, ref: str | KeyEntry, *, fmt: PublicFormat = "pem") -> str:
        from trustkeep.service import _key_transfer as _transfer  # asn1crypto: when used

        return _transfer.export_public(self, ref, fmt=fmt)

    # -- maintenance ----------------------------------------------------------

    def passwd(
        self, ref: str | KeyEntry, *, remember: bool | None = None, allow_weak: bool = False
    ) -> KeyEntry:
        """Re-encrypt the private half under a new passphrase (atomic replace)."""
        entry = self.resolve(ref)
        half = self._pem_half(entry)
        private_key, old_passphrase = half.unlock()
        passphrase = self._new_passphrase(entry, allow_weak=allow_weak)
        pem = km.encrypt_store_pem(private_key, passphrase, iterations=self.kdf_iterations)
        keep = entry.remembered if remember is None else remember
        half.rewrite(pem, passphrase=passphrase, keep=keep, old_passphrase=old_passphrase)
        if keep != entry.remembered:
            entry = dataclasses.replace(entry, remembered=keep)
            self.store.put(entry)
        return entry

    def remove(self, ref: str | KeyEntry) -> KeyEntry:
        """Delete the entry, then its private half and keyring secrets."""
        entry = self.resolve(ref)
        half = open_private(entry, self._context) if entry.has_private else None
        self.store.delete_entry(entry.keyid)
        try:
            if half is not None:
                half.delete()
        except (StorageError, KeyAccessError):
            self.store.put(entry)  # the private half is still there: so is the key
            raise
        if entry.remembered:
            keyring_store.delete_secret(keyring_store.PASSPHRASE_SERVICE, entry.keyid)
        return entry

    def rename(self, ref: str | KeyEntry, name: str | None) -> KeyEntry:
        entry = self.resolve(ref)
        if name is not None:
            validate_name(name)
            self._check_name_free(name, except_keyid=entry.keyid)
        updated = dataclasses.replace(entry, name=name)
        self.store.put(updated)
        return updated

    # -- internals ------------------------------------------------------------

    def _check_new(
        self, *, name: str | None, backend: str | None = None, keyid: str | None = None
    ) -> None:
        if backend is not None:
            pem_signer_for_backend(backend)
        if name is not None:
            validate_name(name)
            self._check_name_free(name, except_keyid=keyid)

    def _check_name_free(self, name: str, *, except_keyid: str | None = None) -> None:
        for e in self.store.entries():
            if e.name == name and e.keyid != except_keyid:
                raise InputError(f"key name {name!r} is already used by key {e.keyid[:8]}")

    def _pem_half(self, entry: KeyEntry) -> EncryptedPemSigner:
        """The passphrase-protected private half of a file or keyring key."""
        half = open_private(entry, self._context)
        if not isinstance(half, EncryptedPemSigner):
            raise KeyAccessError(
                f"key {entry.keyid} lives on a PKCS#11 token: its private key cannot be read"
            )
        return half

    def _new_passphrase(self, entry: KeyEntry, *, allow_weak: bool) -> str:
        return self.ask_new_passphrase(
            f"key {entry.label()}", allow_weak=allow_weak, key_name=entry.name, keyid=entry.keyid
        )

    def ask_new_passphrase(
        self,
        what: str,
        *,
        allow_weak: bool = False,
        key_name: str | None = None,
        keyid: str | None = None,
    ) -> str:
        """Ask ``"new passphrase for <what>"`` (the front end asks twice); never empty,
        and at least ``MIN_PASSPHRASE_LENGTH`` characters unless ``allow_weak``."""
        shortest = 1 if allow_weak else MIN_PASSPHRASE_LENGTH
        request = SecretRequest.new_passphrase(
            what, min_length=shortest, key_name=key_name, keyid=keyid
        )
        passphrase = self.secrets_handler(request)
        check_new_passphrase(passphrase, what, allow_weak=allow_weak)
        return passphrase
