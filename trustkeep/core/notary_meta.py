"""Notary v1 metadata details (NOTARY.md §3): keys, signatures, hashes, times, names.

Pure. Keys are ``{"keytype", "keyval": {"private": null, "public": base64}}``;
signatures are base64 with a ``method``: ``ecdsa`` (raw r‖s over SHA-256),
``rsapss`` / ``pycrypto-pkcs#1 pss`` (SHA-256, MGF1-SHA256, salt 32),
``rsapkcs1v15`` (SHA-256) and ``eddsa`` (ed25519).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from trustkeep.core.keyids import PublicKeyTypes, notary_canonical_id, notary_keyid

__all__ = [
    "NOTARY_KEY_TYPES",
    "NotaryKey",
    "NotaryKeyError",
    "b64decode_strict",
    "parse_notary_key",
    "verify_notary_signature",
]

NOTARY_KEY_TYPES = ("ecdsa", "ecdsa-x509", "rsa", "rsa-x509", "ed25519")
_MIN_RSA_BITS = 2048
_PSS_METHODS = ("rsapss", "pycrypto-pkcs#1 pss")


class NotaryKeyError(ValueError):
    """A key entry that is not a usable Notary public key (message says why)."""


def b64decode_strict(value: Any) -> bytes | None:
    """Standard base64 with padding, as Go's encoding/base64.StdEncoding; None if invalid."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


@dataclass(frozen=True)
class NotaryKey:
    """One public key of a Notary ``keys`` map, decoded."""

    keyid: str
    keytype: str
    computed_id: str
    public_key: PublicKeyTypes
    certificate: x509.Certificate | None
    chain: tuple[x509.Certificate, ...] = ()  # x509 keytypes: every certificate of the PEM

    @property
    def keyid_matches(self) -> bool:
        return self.computed_id == self.keyid

    @property
    def canonical_id(self) -> str | None:
        return notary_canonical_id(self.public_key)

    @property
    def material(self) -> bytes:
        """The public key itself (DER SubjectPublicKeyInfo), whatever keytype carries it."""
        return self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _certificates(public: bytes, keytype: str) -> tuple[list[x509.Certificate], PublicKeyTypes]:
    try:
        certs = x509.load_pem_x509_certificates(public)
    except ValueError as e:
        raise NotaryKeyError(f"{keytype} key does not hold a PEM certificate") from e
    leaf = certs[0]
    try:
        key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm) as e:
        raise NotaryKeyError("certificate public key cannot be read") from e
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise NotaryKeyError("certificate holds neither an ECDSA nor an RSA key")
    return certs, key


def _spki(public: bytes) -> PublicKeyTypes:
    try:
        key = serialization.load_der_public_key(public)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise NotaryKeyError("public key is not DER SubjectPublicKeyInfo") from e
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise NotaryKeyError("public key is neither ECDSA nor RSA")
    return key


def parse_notary_key(keyid: str, doc: Any) -> NotaryKey:
    """Decode a key entry; raise :class:`NotaryKeyError` when it is unusable."""
    if not isinstance(doc, Mapping):
        raise NotaryKeyError("key entry is not an object")
    keytype, keyval = doc.get("keytype"), doc.get("keyval")
    if not isinstance(keytype, str) or not isinstance(keyval, Mapping):
        raise NotaryKeyError("key entry lacks a string keytype and a keyval object")
    public = b64decode_strict(keyval.get("public"))
    if public is None:
        raise NotaryKeyError("keyval.public is not standard base64")
    chain: list[x509.Certificate] = []
    key: PublicKeyTypes
    if keytype in ("ecdsa-x509", "rsa-x509"):
        chain, key = _certificates(public, keytype)
    elif keytype in ("ecdsa", "rsa"):
        key = _spki(public)
    elif keytype == "ed25519":
        if len(public) != 32:
            raise NotaryKeyError("ed25519 public key is not 32 bytes")
        key = ed25519.Ed25519PublicKey.from_public_bytes(public)
    else:
        raise NotaryKeyError(f"unsupported keytype {keytype[:30]!r}")
    wants_rsa = keytype.startswith("rsa")
    if keytype != "ed25519" and wants_rsa != isinstance(key, rsa.RSAPublicKey):
        raise NotaryKeyError(f"keytype {keytype} does not match the key inside")
    return NotaryKey(
        keyid,
        keytype,
        notary_keyid(keytype, public),
        key,
        chain[0] if chain else None,
        tuple(chain),
    )


def verify_notary_signature(key: NotaryKey, method: str | None, sig: bytes, data: bytes) -> bool:
    """Check ``sig`` over ``data`` the way Notary's verifiers do (method picks the verifier)."""
    pub = key.public_key
    try:
        if method == "ecdsa" and isinstance(pub, ec.EllipticCurvePublicKey):
            octets = (pub.curve.key_size + 7) // 8
            if len(sig) != 2 * octets:
                return False
            r = int.from_bytes(sig[:octets], "big")
            s = int.from_bytes(sig[octets:], "big")
            pub.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        elif method in _PSS_METHODS and isinstance(pub, rsa.RSAPublicKey):
            if pub.key_size < _MIN_RSA_BITS:
                return False
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            pub.verify(sig, data, pss, hashes.SHA256())
        elif method == "rsapkcs1v15" and isinstance(pub, rsa.RSAPublicKey):
            if pub.key_size < _MIN_RSA_BITS:
                return False
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        elif method == "eddsa" and isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
