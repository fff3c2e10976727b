"""TUF 1.0 public keys and signature checks, through securesystemslib's key model.

Keys are securesystemslib ``Key`` objects built from the library's own
key-type/scheme table (``Key.from_dict``), and a signature is checked by the
library's ``verify_signature``: any key type securesystemslib supports (ML-DSA
included, when the installed cryptography has it) verifies exactly as in
python-tuf. trustkeep adds only what the report needs around that call:

* a (keytype, scheme) pair the library does not know makes python-tuf reject the
  whole file: it is ``unknown`` (an error finding);
* a known pair whose public key the installed libraries cannot load is
  ``unsupported`` (a warning; its signatures do not verify, in python-tuf either);
* a keyid that is not the sha256 of the key is ``mismatched`` (a warning);
* ``material`` (the key's DER SubjectPublicKeyInfo) lets one key listed under two
  keyids count once;
* an ed25519 key (scheme ``ed25519``) is loaded once: its signatures go to the same
  pyca/cryptography call securesystemslib's ``_verify`` makes for that scheme, which
  otherwise loads the public key anew for every signature (a point decompression,
  about a quarter of the verification's time). The verdicts are the library's: a
  signature that is not hex, has the wrong length or does not verify counts as not
  valid, as it does there (``tests/verify/test_verify_signed_bytes.py``). libsodium
  checks them first, and its acceptance is taken (it accepts only what OpenSSL
  accepts, and is faster: :mod:`~trustkeep.core.verify._sodium`).

Parsed keys are cached in a :class:`KeyCache` that belongs to one verification run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError

from trustkeep.core.verify._envelope import Malformed, canonical_bytes
from trustkeep.core.verify._sodium import Ed25519Accelerator

__all__ = ["KeyCache", "KeyTable", "TufKey", "parse_tuf_keys"]


if TYPE_CHECKING:
    from securesystemslib.signer import Key


def _key_api() -> Any:
    """securesystemslib's key classes, imported on first use and without the signer
    package's backends (GPG, cloud KMS, PKCS#11), which verification never uses."""
    from trustkeep.core.sslib_signer import key_api

    return key_api()


class TufKey(NamedTuple):
    keyid: str
    key: Key
    keyid_matches: bool
    material: bytes  # DER SPKI (or raw ed25519): the same key under two keyids is one key
    ed25519: ed25519.Ed25519PublicKey | None = None  # loaded once (keytype/scheme ed25519)
    fast: Ed25519Accelerator | None = None  # the run's libsodium fast path (ed25519 only)

    def check(self, sig_hex: str, data: bytes) -> bool:
        """securesystemslib's verdict on one signature over ``data``."""
        if self.ed25519 is not None:
            try:  # what SSlibKey.verify_signature does for ed25519, minus the key loading
                sig = bytes.fromhex(sig_hex)
                if self.fast is not None and self.fast.accepts(sig, data, self.material):
                    return True  # libsodium accepts only what OpenSSL accepts (_sodium)
                self.ed25519.verify(sig, data)
            except (InvalidSignature, ValueError, TypeError):
                return False
            return True
        try:
            self.key.verify_signature(_key_api().Signature(self.keyid, sig_hex), data)
        except (UnverifiedSignatureError, VerificationError):
            return False
        return True


class KeyTable(NamedTuple):
    """Parsed keys of a root or a delegations block: usable, unsupported, keyid mismatches."""

    usable: Mapping[str, TufKey]
    unsupported: Mapping[str, str]
    mismatched: tuple[str, ...]
    unknown: Mapping[str, str]  # type/scheme no TUF client knows: the file is rejected
    doc: Mapping[str, Any]  # the raw ``keys`` object


class KeyCache:
    """Keys, key tables and expiry times already parsed in one run (bins share one
    delegator's keys, and mostly a few expiry times)."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], TufKey | Exception] = {}
        self._tables: dict[int, tuple[Mapping[str, Any], str, KeyTable]] = {}
        self.accelerator = Ed25519Accelerator()
        self.times: dict[str, datetime] = {}

    def key(self, keyid: str, doc: dict[str, Any], *, where: str) -> TufKey:
        cache_key = (keyid, canonical_bytes(doc).decode("utf-8"))
        found = self._keys.get(cache_key)
        if found is None:
            try:
                found = _parse_key(keyid, doc, where=where, fast=self.accelerator)
            except (Malformed, _Unknown, _Unsupported) as e:
                found = e
            self._keys[cache_key] = found
        if isinstance(found, Exception):
            raise found
        return found

    def table(self, keys: Any, *, where: str) -> KeyTable:
        hit = self._tables.get(id(keys))
        if hit is not None and hit[0] is keys and hit[1] == where:
            return hit[2]
        table = parse_tuf_keys(keys, where=where, cache=self)
        self._tables[id(keys)] = (keys, where, table)
        return table


class _Unknown(ValueError):
    """securesystemslib has no key class for this (keytype, scheme): python-tuf rejects."""


class _Unsupported(ValueError):
    """A known key type whose public key cannot be loaded here: its signatures never verify."""

    keyid_matches = True


def _material(key: Key) -> tuple[bytes, ed25519.Ed25519PublicKey | None]:
    """The key's material and, for scheme ed25519, the loaded key its signatures use."""
    public = key.keyval.get("public")
    if not isinstance(public, str):
        raise _Unsupported("keyval.public is not a string")
    try:
        if key.keytype == "ed25519":
            raw = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            material = raw.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            plain = key.scheme == "ed25519" and type(key) is _key_api().SSlibKey
            return material, raw if plain else None
        loaded = serialization.load_pem_public_key(public.encode("utf-8"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as e:
        raise _Unsupported(f"public key cannot be loaded ({type(e).__name__})") from e
    der: bytes = loaded.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der, None


def _parse_key(
    keyid: str, doc: dict[str, Any], *, where: str, fast: Ed25519Accelerator | None = None
) -> TufKey:
    keytype, scheme, keyval = doc.get("keytype"), doc.get("scheme"), doc.get("keyval")
    if not isinstance(keytype, str) or not isinstance(scheme, str) or not isinstance(keyval, dict):
        raise Malformed(f"{where}: key {keyid[:16]} lacks string keytype/scheme and keyval object")
    from trustkeep.core.sslib_signer import key_class

    cls = key_class(keytype, scheme)  # the class securesystemslib's Key.from_dict picks
    if cls is None:
        raise _Unknown(f"unknown key type/scheme {keytype}/{scheme}"[:100])
    try:
        key = cls.from_dict(keyid, _copy(doc))
    except (ValueError, KeyError, TypeError) as e:
        raise Malformed(f"{where}: key {keyid[:16]}: {str(e)[:80]}") from e
    try:
        matches = hashlib.sha256(canonical_bytes(key.to_dict())).hexdigest() == keyid
    except Malformed:
        matches = False
    try:
        material, loaded = _material(key)
    except _Unsupported as e:
        e.keyid_matches = matches
        raise
    return TufKey(keyid, key, matches, material, loaded, fast if loaded is not None else None)


def _copy(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``Key.from_dict`` pops fields from its argument: give it a copy (one level deeper too)."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in doc.items()}


def parse_tuf_keys(keys: Any, *, where: str, cache: KeyCache | None = None) -> KeyTable:
    if not isinstance(keys, dict):
        raise Malformed(f"{where}: 'keys' is not an object")
    cache = cache or KeyCache()
    usable: dict[str, TufKey] = {}
    unsupported: dict[str, str] = {}
    mismatched: list[str] = []
    unknown: dict[str, str] = {}
    for keyid, doc in keys.items():
        if not isinstance(doc, dict):
            raise Malformed(f"{where}: key {keyid[:16]} is not an object")
        try:
            key = cache.key(keyid, doc, where=where)
        except _Unknown as e:
            unknown[keyid] = str(e)
            continue
        except _Unsupported as e:
            unsupported[keyid] = str(e)
            if not e.keyid_matches:
                mismatched.append(keyid)
            continue
        usable[keyid] = key
        if not key.keyid_matches:
            mismatched.append(keyid)
    return KeyTable(usable, unsupported, tuple(mismatched), unknown, keys)
