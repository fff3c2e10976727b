"""The self-signed root certificate Notary expects for a repository (NOTARY.md §1, §3).

As ``notary init`` writes it (inspected from a real one): subject and issuer
``CN=<GUN>``, 128-bit random serial, key usage digitalSignature +
keyEncipherment (critical), extended key usage codeSigning, basic constraints
CA:FALSE (critical), ECDSA P-256 with SHA-256. Serial and times are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trustkeep.core.keyids import notary_canonical_id, notary_cert_id
from trustkeep.errors import InputError

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "RootCertificate", "build_root_certificate"]

DEFAULT_DAYS = 3650
MAX_DAYS = 36500
_MAX_GUN = 255


@dataclass(frozen=True)
class RootCertificate:
    certificate: x509.Certificate
    pem: bytes
    cert_id: str
    canonical_id: str


def _check_gun(gun: str) -> None:
    if not gun or len(gun) > _MAX_GUN:
        raise InputError(f"GUN {gun[:40]!r} must be 1 to {_MAX_GUN} characters")
    if any(c.isspace() or ord(c) < 0x20 for c in gun) or gun.startswith("/"):
        raise InputError(f"GUN {gun!r} contains whitespace or control characters, or starts /")


def build_root_certificate(
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    gun: str,
    *,
    not_before: datetime,
    days: int = DEFAULT_DAYS,
    serial: int,
) -> RootCertificate:
    """Build and self-sign the root certificate of ``gun`` with ``private_key``."""
    _check_gun(gun)
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"--days {days}: must be between 1 and {MAX_DAYS}")
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise InputError(
                f"Notary root certificates use ECDSA P-256; this key is {private_key.curve.name}"
            )
    elif isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 2048:
            raise InputError(f"RSA root keys need at least 2048 bits, not {private_key.key_size}")
    else:
        raise InputError("Notary root certificates need an ECDSA P-256 or RSA key (not ed25519)")
    if not 0 < serial < (1 << 159):
        raise InputError("certificate serial out of range")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, gun)])
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    certificate = builder.sign(private_key, hashes.SHA256())
    canonical = notary_canonical_id(private_key.public_key())
    assert canonical is not None  # ECDSA and RSA keys always have one
    return RootCertificate(
        certificate=certificate,
        pem=certificate.public_bytes(Encoding.PEM),
        cert_id=notary_cert_id(certificate),
        canonical_id=canonical,
    )
