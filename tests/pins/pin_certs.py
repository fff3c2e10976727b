"""Certificates built with cryptography for the trust-pin tests."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def make_cert(
    cn: str,
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    ca: bool = False,
    eku: list[x509.ObjectIdentifier] | None = None,
    start: datetime = NOW - timedelta(days=1),
    days: int = 365,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate (self-signed unless ``issuer`` is given)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(signing_key, hashes.SHA256()), key


CODE_SIGNING = [ExtendedKeyUsageOID.CODE_SIGNING]
SERVER_AUTH = [ExtendedKeyUsageOID.SERVER_AUTH]


def notary_root(
    gun: str,
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    version: int = 1,
    start: datetime = NOW - timedelta(days=1),
) -> tuple[bytes, str, str]:
    """A Notary-format root.json for ``gun`` signed as notary signs (raw r||s ECDSA).

    Returns (bytes, certificate ID, canonical ID).
    """
    from trustkeep.core.keyids import canonical_json, notary_canonical_id, notary_cert_id

    cert, key = make_cert(gun, key=key, eku=CODE_SIGNING, start=start, days=3650)
    cert_id = notary_cert_id(cert)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    keyval = {"private": None, "public": base64.b64encode(pem).decode()}
    role = {"keyids": [cert_id], "threshold": 1}
    signed = {
        "_type": "Root",
        "consistent_snapshot": False,
        "expires": "2036-11-25T17:41:12.170062728Z",
        "keys": {cert_id: {"keytype": "ecdsa-x509", "keyval": keyval}},
        "roles": {"root": role, "snapshot": role, "targets": role, "timestamp": role},
        "version": version,
    }
    der = key.sign(canonical_json(signed), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    doc = {
        "signed": signed,
        "signatures": [
            {"keyid": cert_id, "method": "ecdsa", "sig": base64.b64encode(sig).decode()}
        ],
    }
    canonical = notary_canonical_id(key.public_key())
    assert canonical is not None
    return json.dumps(doc).encode(), cert_id, canonical
