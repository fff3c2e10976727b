"""Mangled PEM input never raises anything but InputError or KeyAccessError."""

from __future__ import annotations

import secrets

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustkeep.core import _pem
from trustkeep.core._pkcs8 import PrivateKeyInfo
from trustkeep.core.pem_keys import (
    NOTARY_ED25519_OID,
    LoadedPrivateKey,
    dump_notary_pem,
    load_private_pem,
    notary_private_keyid,
    pem_headers,
    pem_is_encrypted,
)
from trustkeep.errors import InputError, KeyAccessError

PW = b"fuzz-pass"
EC = ec.generate_private_key(ec.SECP256R1())
ED = ed25519.Ed25519PrivateKey.generate()
RSA = rsa.generate_private_key(65537, 1024)  # small: only parsed, never used


def _plain_der(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _notary_ed25519_der() -> bytes:
    raw = serialization.Encoding.Raw
    pub = ED.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    seed = ED.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    info = PrivateKeyInfo(
        {
            "version": 0,
            "algorithm": {"algorithm": NOTARY_ED25519_OID},
            "private_key": pub + seed + pub,
        }
    )
    return bytes(info.dump())


SEEDS: list[bytes] = [
    dump_notary_pem(EC, PW, role="root", gun=None, keyid=notary_private_keyid(EC)),
    dump_notary_pem(ED, PW, role="targets", gun="g/x", keyid=notary_private_keyid(ED)),
    _pem.encode("PRIVATE KEY", _plain_der(EC), {"role": "root"}),
    _pem.encode("PRIVATE KEY", _notary_ed25519_der()),
    EC.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(PW),
    ),
    RSA.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ),
    _pem.encode(
        "ED25519 PRIVATE KEY",
        secrets.token_bytes(96),
        {"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC," + "A" * 32},
    ),
]
INNER_SEEDS = [_plain_der(EC), _plain_der(RSA), _notary_ed25519_der()]


def encrypt_inner(inner: bytes, iterations: int) -> bytes:
    """Notary-style PBES2 (PBKDF2-HMAC-SHA1, AES-256-CBC) over arbitrary inner bytes."""
    salt, iv = secrets.token_bytes(8), secrets.token_bytes(16)
    key = PBKDF2HMAC(hashes.SHA1(), 32, salt, iterations).derive(PW)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    data = encryptor.update(padder.update(inner) + padder.finalize()) + encryptor.finalize()
    info = asn1_keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {
                            "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                            "iteration_count": iterations,
                        },
                    },
                    "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                },
            },
            "encrypted_data": data,
        }
    )
    return _pem.encode("ENCRYPTED PRIVATE KEY", info.dump(), {"role": "root"})


@st.composite
def mangled_bytes(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[pos : pos + draw(st.integers(1, 16))]
    return bytes(data)


@st.composite
def mangled_pem(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(SEEDS))
    if draw(st.booleans()):
        return draw(mangled_bytes(seed))  # text level: headers, armour, base64
    block = _pem.decode_all(seed)[0]  # DER level: the ASN.1 and crypto parsers
    return _pem.encode(block.type, draw(mangled_bytes(block.der)), block.headers)


PASSWORDS = st.sampled_from([PW, b"wrong", None, b""])
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes, password: bytes | None) -> None:
    try:
        result = load_private_pem(data, password, source="fuzz.key")
    except (InputError, KeyAccessError) as e:
        message = str(e)
        assert "\n" not in message
        assert message == "wrong passphrase for fuzz.key" or message.startswith("fuzz.key: ")
    else:
        assert isinstance(result, LoadedPrivateKey)
    assert isinstance(pem_headers(data), dict)
    assert isinstance(pem_is_encrypted(data), bool)


@FUZZ
@given(data=mangled_pem(), password=PASSWORDS)
def test_mangled_pem(data: bytes, password: bytes | None) -> None:
    check(data, password)


@FUZZ
@given(inner=st.sampled_from(INNER_SEEDS).flatmap(mangled_bytes), plain=st.booleans())
def test_mangled_inner_pkcs8(inner: bytes, plain: bool) -> None:
    """Mangled PKCS#8 behind a correct passphrase reaches the inner parser."""
    data = _pem.encode("PRIVATE KEY", inner) if plain else encrypt_inner(inner, 1)
    check(data, None if plain else PW)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2048), password=PASSWORDS)
def test_random_bytes(data: bytes, password: bytes | None) -> None:
    check(data, password)
    check(b"-----BEGIN PRIVATE KEY-----\n" + data + b"\n-----END PRIVATE KEY-----\n", password)
