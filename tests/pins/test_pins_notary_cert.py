"""The Notary root certificate builder: the extensions `notary init` writes, IDs, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trustkeep.core.keyids import notary_canonical_id, notary_cert_id
from trustkeep.core.notary_cert import build_root_certificate
from trustkeep.errors import InputError

START = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


def _build(key: object = None, gun: str = "example.com/acme/app", **kw: object) -> object:
    key = key or ec.generate_private_key(ec.SECP256R1())
    args: dict[str, object] = {"not_before": START, "serial": 0x1234, **kw}
    return build_root_certificate(key, gun, **args)  # type: ignore[arg-type]


def test_certificate_matches_what_notary_writes() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    result = build_root_certificate(key, "example.com/acme/app", not_before=START, serial=99)
    cert = result.certificate
    cn = x509.NameAttribute(NameOID.COMMON_NAME, "example.com/acme/app")
    assert cert.subject == cert.issuer == x509.Name([cn])
    assert cert.serial_number == 99
    assert cert.not_valid_before_utc == START
    assert cert.not_valid_after_utc == START + timedelta(days=3650)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING] and not eku.critical
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False
    assert len(cert.extensions) == 3
    cert.verify_directly_issued_by(cert)
    assert result.cert_id == notary_cert_id(cert)
    assert result.canonical_id == notary_canonical_id(key.public_key())
    assert result.pem.startswith(b"-----BEGIN CERTIFICATE-----\n")


def test_rsa_key_is_accepted() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    result = _build(key)
    assert notary_cert_id(result.certificate).startswith(result.cert_id[:8])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "kw", "message"),
    [
        (ed25519.Ed25519PrivateKey.generate(), {}, "not ed25519"),
        (ec.generate_private_key(ec.SECP384R1()), {}, "P-256; this key is secp384r1"),
        (None, {"days": 0}, "--days 0: must be between 1 and 36500"),
        (None, {"days": 40000}, "must be between"),
        (None, {"gun": ""}, "must be 1 to 255 characters"),
        (None, {"gun": "a b"}, "contains whitespace"),
        (None, {"gun": "/abs"}, "starts /"),
        (None, {"serial": 0}, "serial out of range"),
    ],
)
def test_refusals(key: object, kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        _build(key, **kw)
