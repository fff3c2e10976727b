"""Key ID computations for TUF 1.0 and Notary v1 (NOTARY.md §1, TUF.md).

Pure functions over bytes and public key objects.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.formats import encode_canonical

if TYPE_CHECKING:  # certificates are parsed elsewhere: x509 costs start-up time
    from cryptography import x509

__all__ = [
    "PublicKeyTypes",
    "canonical_json",
    "notary_canonical_id",
    "notary_cert_id",
    "notary_keyid",
    "tuf_keyid",
]

PublicKeyTypes = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def canonical_json(obj: Any) -> bytes:
    """OLPC canonical JSON as signed by TUF and Notary (only `"` and `\\` escaped)."""
    encoded = encode_canonical(obj)
    assert encoded is not None  # without an output callback it returns the text
    return encoded.encode("utf-8")


def tuf_keyid(keytype: str, scheme: str, keyval: dict[str, str]) -> str:
    """TUF 1.0 keyid: sha256 of the canonical JSON of keytype, scheme and keyval."""
    doc = {"keytype": keytype, "scheme": scheme, "keyval": keyval}
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def notary_keyid(keytype: str, public: bytes) -> str:
    """Notary key ID: sha256 of canonical {"keytype", "keyval": {"private": null, "public"}}."""
    doc = {
        "keytype": keytype,
        "keyval": {"private": None, "public": base64.b64encode(public).decode("ascii")},
    }
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def notary_canonical_id(public_key: PublicKeyTypes) -> str | None:
    """Notary canonical root key ID (DER SPKI); None for ed25519 (no canonical ID)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        keytype = "ecdsa"
    elif isinstance(public_key, rsa.RSAPublicKey):
        keytype = "rsa"
    else:
        return None
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return notary_keyid(keytype, der)


def notary_cert_id(certificate: x509.Certificate) -> str:
    """Notary root certificate ID: keytype ecdsa-x509 / rsa-x509 over the PEM text."""
    public_key = certificate.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        keytype = "ecdsa-x509"
    elif isinstance(public_key, rsa.RSAPublicKey):
        keytype = "rsa-x509"
    else:
        raise ValueError("Notary root certificates hold ECDSA or RSA keys only")
    return notary_keyid(keytype, certificate.public_bytes(serialization.Encoding.PEM))
