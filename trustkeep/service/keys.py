"""The key store service: generate, look up, unlock, import, export, re-encrypt, remove keys.

Backends are picked by the private-key URI scheme of each entry:

* ``tkfile:<keyid>``   encrypted PKCS#8 file ``<home>/keys/private/<keyid>.pem``
* ``tkkeyring:<keyid>`` the same encrypted PEM text kept in the OS keyring
  (service ``trustkeep-private-key``); kept encrypted because file-based keyring
  backends store values in clear and the non-negotiable is "never plaintext"
* ``hsm:<id>?label=<token>`` a key on a PKCS#11 token (securesystemslib HSMSigner)
* no URI: a public-only entry (the private half is held elsewhere)

Secrets come through ``secrets_handler(name)``; a passphrase remembered in the
OS keyring (service ``trustkeep``, user = keyid) is tried first.
"""

from __future__ import annotations

import builtins
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

from securesystemslib.signer import CryptoSigner, Key, Signer, SSlibKey

from trustkeep.adapters import keyring_store
from trustkeep.adapters.keystore import KeyStore
from trustkeep.core.keys import KEY_TYPES, Backend, KeyEntry
from trustkeep.core.pbes2 import DEFAULT_ITERATIONS
from trustkeep.core.secrets import SecretsHandler
from trustkeep.errors import InputError, KeyAccessError, StorageError
from trustkeep.service import _key_transfer as _transfer
from trustkeep.service import _keymaterial as km
from trustkeep.service._keymaterial import PrivateKey, PublicKey
from trustkeep.service._private import PrivateHalves

__all__ = ["FILE_SCHEME", "HSM_SCHEME", "KEYRING_SCHEME", "KeyService", "validate_name"]

FILE_SCHEME = "tkfile"
KEYRING_SCHEME = "tkkeyring"
HSM_SCHEME = "hsm"

_HEX_RE = re.compile(r"^[0-9a-f]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
_MIN_PREFIX = 8


def validate_name(name: str) -> str:
    """Key names: 1-64 of ``A-Za-z0-9._@+-``, not something that reads as a keyid prefix."""
    if not _NAME_RE.match(name):
        raise InputError(
            f"invalid key name {name!r}: use 1-64 letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    if len(name) >= _MIN_PREFIX and _HEX_RE.match(name.lower()):  # resolve() ignores case
        raise InputError(f"invalid key name {name!r}: it would read as a keyid prefix")
    return name


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
        self._private = PrivateHalves(self.store, secrets_handler)

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
        if len(lowered) >= _MIN_PREFIX and _HEX_RE.match(lowered):
            hits = [k for k in self.store.keyids() if k.startswith(lowered)]
            if len(hits) == 1:
                entry = self.store.get(hits[0])
                if entry is not None:  # None: removed meanwhile by another process
                    return entry
        entries = self.store.entries()
        exact = [e for e in entries if ref in (e.keyid, e.name, e.notary_canonical_id)]
        if len(exact) == 1:
            return exact[0]
        if not exact and _HEX_RE.match(lowered):
            if len(lowered) < _MIN_PREFIX:
                raise InputError(
                    f"key prefix {ref!r} is too short: give at least {_MIN_PREFIX} hex digits"
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
    ) -> KeyEntry:
        """A new key; its private half encrypted with a new passphrase."""
        if key_type not in KEY_TYPES:
            raise InputError(
                f"unknown key type {key_type!r}", hint=f"choose one of: {', '.join(KEY_TYPES)}"
            )
        self._check_new(name=name, backend=backend)
        private_key = km.generate_private_key(key_type)
        return self.add_private(
            private_key, name=name, backend=backend, remember=remember, labels=labels
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
    ) -> KeyEntry:
        """Store a private key (generated or imported) under a new passphrase.

        ``passphrase`` is asked through the secrets handler when not given.
        """
        sslib, canonical = km.public_identity(private_key.public_key())
        self._check_new(name=name, backend=backend, keyid=sslib.keyid)
        existing = self._public_only(sslib.keyid)
        scheme = KEYRING_SCHEME if backend == "keyring" else FILE_SCHEME
        entry = _new_entry(
            sslib,
            canonical,
            uri=f"{scheme}:{sslib.keyid}",
            backend="keyring" if backend == "keyring" else "file",
            name=name,
            labels=labels,
            existing=existing,
            remembered=remember,
        )
        if passphrase is None:
            passphrase = self._new_passphrase(entry)
        elif not passphrase:
            raise InputError(f"empty passphrase for key {entry.label()}: refusing to store it")
        pem = km.encrypt_store_pem(private_key, passphrase, iterations=self.kdf_iterations)
        self._private.write(entry, pem)
        try:
            self.store.put(entry)
            if remember:
                keyring_store.set_secret(keyring_store.PASSPHRASE_SERVICE, entry.keyid, passphrase)
        except (InputError, StorageError, KeyAccessError):  # InputError: name taken meanwhile
            self._private.undo_add(entry, existing)
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
        if not isinstance(key, SSlibKey):
            raise InputError(f"key {key.keyid}: unsupported key class {type(key).__name__}")
        crypto_key = km.check_public_key(_crypto_public(key), f"key {key.keyid}")
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
        entry = _new_entry(
            sslib, canonical, uri=None, backend="public", name=name, labels=labels, existing=None
        )
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
        crypto_key = km.check_public_key(_crypto_public(key), uri)
        sslib, canonical = km.public_identity(crypto_key)
        self._check_new(name=name, backend="pkcs11", keyid=sslib.keyid)
        entry = _new_entry(
            sslib,
            canonical,
            uri=uri,
            backend="pkcs11",
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
        entry = self.resolve(ref)
        scheme = _uri_scheme(entry)
        if scheme == HSM_SCHEME:
            from trustkeep.adapters.pkcs11 import TokenSigner

            assert entry.uri is not None
            return TokenSigner(entry.uri, entry.sslib_key(), self.secrets_handler)
        private_key = self.private_key(entry)
        public = entry.sslib_key()
        assert isinstance(public, SSlibKey)
        return CryptoSigner(private_key, public)

    def private_key(self, ref: str | KeyEntry) -> PrivateKey:
        """The decrypted private key (file and keyring keys only)."""
        entry = self.resolve(ref)
        key, _ = self._private.unlock(entry)
        return key

    def public_key(self, ref: str | KeyEntry) -> PublicKey:
        entry = self.resolve(ref)
        return _crypto_public(entry.sslib_key())

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
    ) -> KeyEntry:
        """Import a PEM private/public key, a Notary key file or a TUF key JSON file."""
        data = _transfer.read_key_file(path)
        return self.import_bytes(
            data,
            source=str(path),
            password=password,
            name=name,
            backend=backend,
            remember=remember,
            labels=labels,
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
    ) -> builtins.list[KeyEntry]:
        """Import every key of a file (one key, or a multi-key `notary key export` file)."""
        return _transfer.import_bundle(
            self,
            _transfer.read_key_file(path),
            source=str(path),
            password=password,
            passwords=passwords,
            name=name,
            backend=backend,
            remember=remember,
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
    ) -> KeyEntry:
        return _transfer.import_bytes(
            self,
            data,
            source=source,
            password=password,
            name=name,
            backend=backend,
            remember=remember,
            labels=labels,
        )

    def import_notary_dir(
        self,
        path: Path,
        *,
        passwords: Mapping[str, str] | None = None,
        backend: str = "file",
        remember: bool = False,
    ) -> builtins.list[_transfer.ImportedNotaryKey]:
        return _transfer.import_notary_dir(
            self, path, passwords=passwords, backend=backend, remember=remember
        )

    def import_pkcs11(
        self,
        *,
        token_label: str | None,
        key_id: int,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> KeyEntry:
        return _transfer.import_pkcs11(
            self, token_label=token_label, key_id=key_id, name=name, labels=labels
        )

    def export_private(
        self,
        ref: str | KeyEntry,
        *,
        fmt: _transfer.PrivateFormat = "pkcs8",
        role: str | None = None,
        gun: str | None = None,
    ) -> bytes:
        return _transfer.export_private(self, ref, fmt=fmt, role=role, gun=gun)

    def export_public(self, ref: str | KeyEntry, *, fmt: _transfer.PublicFormat = "pem") -> str:
        return _transfer.export_public(self, ref, fmt=fmt)

    # -- maintenance ----------------------------------------------------------

    def passwd(self, ref: str | KeyEntry, *, remember: bool | None = None) -> KeyEntry:
        """Re-encrypt the private half under a new passphrase (atomic replace)."""
        entry = self.resolve(ref)
        private_key, old_passphrase = self._private.unlock(entry)
        passphrase = self._new_passphrase(entry)
        pem = km.encrypt_store_pem(private_key, passphrase, iterations=self.kdf_iterations)
        keep = entry.remembered if remember is None else remember
        self._private.rewrite(
            entry, pem, passphrase=passphrase, keep=keep, old_passphrase=old_passphrase
        )
        if keep != entry.remembered:
            entry = dataclasses.replace(entry, remembered=keep)
            self.store.put(entry)
        return entry

    def remove(self, ref: str | KeyEntry) -> KeyEntry:
        """Delete the entry, then its private half and keyring secrets."""
        entry = self.resolve(ref)
        self.store.delete_entry(entry.keyid)
        try:
            if entry.backend == "file":
                self.store.delete_private(entry.keyid)
            elif entry.backend == "keyring":
                keyring_store.delete_secret(keyring_store.KEY_SERVICE, entry.keyid)
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

    def _check_new(self, *, name: str | None, backend: str, keyid: str | None = None) -> None:
        if backend not in ("file", "keyring", "pkcs11"):
            raise InputError(f"unknown backend {backend!r}: choose file or keyring")
        if name is not None:
            validate_name(name)
            self._check_name_free(name, except_keyid=keyid)

    def _check_name_free(self, name: str, *, except_keyid: str | None = None) -> None:
        for e in self.store.entries():
            if e.name == name and e.keyid != except_keyid:
                raise InputError(f"key name {name!r} is already used by key {e.keyid[:8]}")

    def _new_passphrase(self, entry: KeyEntry) -> str:
        return self.ask_new_passphrase(f"key {entry.label()}")

    def ask_new_passphrase(self, what: str) -> str:
        """Ask ``"new passphrase for <what>"`` (the front end asks twice); never empty."""
        passphrase = self.secrets_handler(f"new passphrase for {what}")
        if not passphrase:
            raise InputError(f"empty passphrase for {what}: refusing it")
        return passphrase


_SCHEME_BACKENDS = {FILE_SCHEME: "file", KEYRING_SCHEME: "keyring", HSM_SCHEME: "pkcs11"}


def _uri_scheme(entry: KeyEntry) -> str:
    """The private-key URI scheme that picks the signer; it must agree with the backend."""
    if entry.uri is None:
        raise KeyAccessError(f"key {entry.keyid} is public only: no private key in the store")
    scheme = entry.uri.partition(":")[0]
    if _SCHEME_BACKENDS.get(scheme) != entry.backend:
        raise StorageError(
            f"key {entry.keyid}: private key URI scheme {scheme!r} "
            f"does not match its backend {entry.backend!r}"
        )
    return scheme


def _crypto_public(key: Key) -> PublicKey:
    if not isinstance(key, SSlibKey):
        raise InputError(f"key {key.keyid}: unsupported key class {type(key).__name__}")
    try:
        crypto_key = key._crypto_key()
    except (ValueError, TypeError) as e:
        raise InputError(f"key {key.keyid}: malformed public key value") from e
    return km.check_public_key(crypto_key, f"key {key.keyid}")


def _new_entry(
    sslib: SSlibKey,
    canonical: str | None,
    *,
    uri: str | None,
    backend: Backend,
    name: str | None,
    labels: Mapping[str, str] | None,
    existing: KeyEntry | None,
    scheme: str | None = None,
    remembered: bool = False,
) -> KeyEntry:
    """A store entry for ``sslib``; a public-only ``existing`` entry lends its name and labels."""
    return KeyEntry(
        keyid=sslib.keyid,
        name=name if name is not None else (existing.name if existing else None),
        keytype=sslib.keytype,
        scheme=scheme if scheme is not None else sslib.scheme,
        keyval=dict(sslib.keyval),
        uri=uri,
        backend=backend,
        notary_canonical_id=canonical,
        labels={**(dict(existing.labels) if existing else {}), **(labels or {})},
        remembered=remembered,
    )
