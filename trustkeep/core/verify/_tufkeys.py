"""TUF 1.0 public keys and signature checks, with parsed keys cached.

A key that is well-formed but of a type or scheme trustkeep cannot check is
``Unsupported`` (reported, never a crash); a key whose fields are of the wrong
shape is ``Malformed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from trustkeep.core.keyids import tuf_keyid
from trustkeep.core.verify._envelope import Malformed, canonical_bytes

__all__ = [
    "KNOWN_KEY_TYPES",
    "KeyTable",
    "TufKey",
    "Unsupported",
    "parse_tuf_key",
    "parse_tuf_keys",
]


#: (keytype, scheme) pairs TUF clients know (securesystemslib's registry); others make
#: python-tuf reject the whole file
KNOWN_KEY_TYPES = frozenset(
    {
        ("ed25519", "ed25519"),
        ("ecdsa", "ecdsa-sha2-nistp256"),
        ("ecdsa", "ecdsa-sha2-nistp384"),
        ("ecdsa", "ecdsa-sha2-nistp521"),
        ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"),
        ("ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"),
        ("ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"),
        ("rsa", "rsassa-pss-sha256"),
        ("rsa", "rsassa-pss-sha384"),
        ("rsa", "rsassa-pss-sha512"),
        ("rsa", "rsa-pkcs1v15-sha256"),
        ("rsa", "rsa-pkcs1v15-sha384"),
        ("rsa", "rsa-pkcs1v15-sha512"),
        ("rsa", "pgp+rsa-pkcsv1.5"),
        ("dsa", "pgp+dsa-fips-180-2"),
        ("eddsa", "pgp+eddsa-ed25519"),
        ("ml-dsa", "ml-dsa-44/1"),
        ("ml-dsa", "ml-dsa-65/1"),
        ("ml-dsa", "ml-dsa-87/1"),
    }
)


class Unsupported(ValueError):
    """A key type or scheme trustkeep does not verify."""


Verify = Callable[[bytes, bytes], bool]

_HASHES: Mapping[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_ECDSA: Mapping[str, tuple[type[ec.EllipticCurve], Callable[[], hashes.HashAlgorithm]]] = {
    "ecdsa-sha2-nistp256": (ec.SECP256R1, hashes.SHA256),
    "ecdsa-sha2-nistp384": (ec.SECP384R1, hashes.SHA384),
    "ecdsa-sha2-nistp521": (ec.SECP521R1, hashes.SHA512),
}


@dataclass(frozen=True)
class TufKey:
    keyid: str
    keytype: str
    scheme: str
    verify: Verify
    keyid_matches: bool
    material: bytes = b""  # DER SPKI: the same key under two keyids is one key

    def check(self, sig_hex: str, data: bytes) -> bool:
        try:
            sig = bytes.fromhex(sig_hex)
        except ValueError:
            return False
        return self.verify(sig, data)


def _wrap(fn: Callable[[bytes, bytes], None]) -> Verify:
    def verify(sig: bytes, data: bytes) -> bool:
        try:
            fn(sig, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return verify


def _load_pem(public: str) -> Any:
    try:
        return serialization.load_pem_public_key(public.encode("utf-8"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as e:
        raise Unsupported("public key is not a PEM SubjectPublicKeyInfo") from e


@lru_cache(maxsize=4096)
def _verifier(keytype: str, scheme: str, public: str) -> Verify:
    if keytype == "ed25519" and scheme == "ed25519":
        try:
            ed = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
        except ValueError as e:
            raise Unsupported("ed25519 public key is not 32 hex-encoded bytes") from e
        return _wrap(ed.verify)
    if keytype in ("ecdsa", scheme) and scheme in _ECDSA:
        curve, hash_cls = _ECDSA[scheme]
        key = _load_pem(public)
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            raise Unsupported(f"public key is not on the curve of {scheme}")
        ec_key = key
        return _wrap(lambda s, d: ec_key.verify(s, d, ec.ECDSA(hash_cls())))
    if keytype == "rsa" and scheme.startswith(("rsassa-pss-", "rsa-pkcs1v15-")):
        hash_name = scheme.rsplit("-", 1)[1]
        if hash_name not in _HASHES:
            raise Unsupported(f"unknown RSA scheme {scheme}")
        key = _load_pem(public)
        if not isinstance(key, rsa.RSAPublicKey):
            raise Unsupported(f"public key is not an RSA key for {scheme}")
        rsa_key = key
        algo = _HASHES[hash_name]
        pad: padding.AsymmetricPadding
        if scheme.startswith("rsassa-pss-"):
            pad = padding.PSS(mgf=padding.MGF1(algo()), salt_length=padding.PSS.AUTO)
        else:
            pad = padding.PKCS1v15()
        return _wrap(lambda s, d: rsa_key.verify(s, d, pad, algo()))
    raise Unsupported(f"unsupported key type/scheme {keytype}/{scheme}")


@lru_cache(maxsize=4096)
def _material(keytype: str, public: str) -> bytes:
    """The key itself (DER SubjectPublicKeyInfo), whatever its encoding or keyid."""
    if keytype == "ed25519":
        key: Any = ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    else:
        key = _load_pem(public)
    der: bytes = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der


@lru_cache(maxsize=4096)
def _keyid_cached(keytype: str, scheme: str, items: tuple[tuple[str, str], ...]) -> str:
    doc = {"keytype": keytype, "scheme": scheme, "keyval": dict(items)}
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def _keyid_of(keytype: str, scheme: str, keyval: Mapping[str, Any]) -> str | None:
    """TUF keyid (sha256 of canonical keytype/scheme/keyval); None if not computable."""
    try:
        if all(isinstance(v, str) for v in keyval.values()):
            return _keyid_cached(keytype, scheme, tuple(sorted(keyval.items())))
        return tuf_keyid(keytype, scheme, dict(keyval))
    except (TypeError, ValueError, Malformed):
        return None


def parse_tuf_key(keyid: str, doc: Any, *, where: str) -> TufKey:
    """Parse one key of a ``keys`` map; raise Malformed (shape) or Unsupported (type)."""
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: key {keyid[:16]} is not an object")
    keytype, scheme, keyval = doc.get("keytype"), doc.get("scheme"), doc.get("keyval")
    if not isinstance(keytype, str) or not isinstance(scheme, str) or not isinstance(keyval, dict):
        raise Malformed(f"{where}: key {keyid[:16]} lacks string keytype/scheme and keyval object")
    public = keyval.get("public")
    if not isinstance(public, str):
        raise Malformed(f"{where}: key {keyid[:16]} has no string keyval.public")
    matches = _keyid_of(keytype, scheme, keyval) == keyid
    verify = _verifier(keytype, scheme, public)
    return TufKey(keyid, keytype, scheme, verify, matches, _material(keytype, public))


@dataclass(frozen=True)
class KeyTable:
    """Parsed keys of a root or a delegations block: usable, unsupported, keyid mismatches."""

    usable: Mapping[str, TufKey]
    unsupported: Mapping[str, str]
    mismatched: tuple[str, ...]
    unknown: Mapping[str, str]  # type/scheme no TUF client knows: the file is rejected
    doc: Mapping[str, Any] = field(default_factory=dict)  # the raw ``keys`` object


def parse_tuf_keys(keys: Any, *, where: str) -> KeyTable:
    if not isinstance(keys, dict):
        raise Malformed(f"{where}: 'keys' is not an object")
    usable: dict[str, TufKey] = {}
    unsupported: dict[str, str] = {}
    mismatched: list[str] = []
    unknown: dict[str, str] = {}
    for keyid, doc in keys.items():
        try:
            key = parse_tuf_key(keyid, doc, where=where)
        except Unsupported as e:
            pair = (doc.get("keytype"), doc.get("scheme"))
            if pair not in KNOWN_KEY_TYPES:
                unknown[keyid] = f"unknown key type/scheme {pair[0]}/{pair[1]}"[:100]
            else:
                unsupported[keyid] = str(e)
            kt, sc, kv = doc.get("keytype"), doc.get("scheme"), doc.get("keyval")
            if (
                isinstance(kt, str)
                and isinstance(sc, str)
                and isinstance(kv, dict)
                and _keyid_of(kt, sc, kv) != keyid
            ):
                mismatched.append(keyid)
            continue
        usable[keyid] = key
        if not key.keyid_matches:
            mismatched.append(keyid)
    return KeyTable(usable, unsupported, tuple(mismatched), unknown, keys)
