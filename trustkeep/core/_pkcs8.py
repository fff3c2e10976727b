"""PKCS#8 internals of the key-file codec: tolerant PrivateKeyInfo parsing (Notary's
ECDSA ``version = 1`` and ed25519 OID), PBES2 decryption for every PBKDF2 PRF with
AES-CBC, and Notary's PBES2-SHA1 encryption. cryptography does PBKDF2 and AES;
asn1crypto the ASN.1. Errors name ``source``; decrypted bytes never reach a message.

cryptography's ``serialization`` package (its SSH codecs come with it) is imported by
the functions that use it: :func:`pbes2_decrypt` needs none of it, so a command that
unlocks a store key ahead starts the key derivation sooner.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from trustkeep.core import _pem
from trustkeep.errors import InputError, KeyAccessError

__all__ = [
    "MAX_ITERATIONS",
    "NOTARY_ED25519_OID",
    "AlgorithmIdentifier",
    "NotAKey",
    "PrivateKeyInfo",
    "PrivateKeyTypes",
    "check_key",
    "key_or_not",
    "load_pkcs8_block",
    "notary_ed25519",
    "notary_pkcs8",
    "pbes2_decrypt",
    "pbes2_encrypt",
    "pkcs8_der_to_key",
    "short",
]

PrivateKeyTypes = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

#: Notary's (non-standard) ed25519 algorithm OID in PKCS#8.
NOTARY_ED25519_OID = "1.3.6.1.4.1.11591.15.1"
#: Refuse KDF iteration counts above this when reading (a hostile file must not hang us).
MAX_ITERATIONS = 10_000_000

_EC_OID = "1.2.840.10045.2.1"
_SUPPORTED_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_PRF_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = MappingProxyType(
    {
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
    }
)


class NotAKey(Exception):
    """Internal: DER that does not decode to a supported private key (message says why)."""


class AlgorithmIdentifier(asn1.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[str, type, dict[str, object]] | tuple[str, type]]] = [
        ("algorithm", asn1.ObjectIdentifier),
        ("parameters", asn1.Any, {"optional": True}),
    ]


class PrivateKeyInfo(asn1.Sequence):  # type: ignore[misc]
    """PKCS#8 / RFC 5958 OneAsymmetricKey, tolerant of unknown algorithms."""

    _fields: ClassVar[list[tuple[str, type, dict[str, object]] | tuple[str, type]]] = [
        ("version", asn1.Integer),
        ("algorithm", AlgorithmIdentifier),
        ("private_key", asn1.OctetString),
        ("attributes", asn1.Any, {"implicit": 0, "optional": True}),
        ("public_key", asn1.Any, {"implicit": 1, "optional": True}),
    ]


def load_pkcs8_block(
    block: _pem.Block, password: bytes | None, source: str
) -> tuple[PrivateKeyTypes, str]:
    from cryptography.hazmat.primitives import serialization  # when used: module doc

    if block.type == "PRIVATE KEY":
        try:
            return pkcs8_der_to_key(block.der), "pkcs8"
        except NotAKey as e:
            raise InputError(f"{source}: {e}") from None
    assert password is not None
    info = parse_encrypted_info(block.der, source)
    algorithm = info["encryption_algorithm"]
    if is_pbes2_pbkdf2_aes_cbc(algorithm):
        prf = algorithm.kdf_hmac
        der = pbes2_decrypt(info, password, source)
        try:
            key = pkcs8_der_to_key(der)
        except NotAKey:
            raise KeyAccessError(f"wrong passphrase for {source}") from None
        return key, "notary-pkcs8-encrypted" if prf == "sha1" else "pkcs8-encrypted"
    # Other schemes (PBES1, scrypt, 3DES): OpenSSL through pyca, within bounds.
    _check_work_factor(algorithm, source)
    try:
        loaded = serialization.load_der_private_key(block.der, password)
    except (ValueError, TypeError):
        raise KeyAccessError(f"wrong passphrase for {source}") from None
    except UnsupportedAlgorithm as e:
        raise InputError(f"{source}: unsupported key encryption ({short(e)})") from None
    return check_key(loaded, source), "pkcs8-encrypted"


def _check_work_factor(algorithm: asn1_keys.EncryptionAlgorithm, source: str) -> None:
    try:
        iterations = int(algorithm.kdf_iterations)
    except (ValueError, TypeError, KeyError, AttributeError):
        return  # a KDF asn1crypto does not describe (scrypt): OpenSSL bounds its memory
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise InputError(f"{source}: implausible KDF iteration count {iterations}")


def parse_encrypted_info(der: bytes, source: str) -> asn1_keys.EncryptedPrivateKeyInfo:
    try:
        info = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        _ = info.native  # asn1crypto parses lazily: force it here
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise InputError(f"{source}: corrupt encrypted private key ({short(e)})") from None
    return info


def is_pbes2_pbkdf2_aes_cbc(algorithm: asn1_keys.EncryptionAlgorithm) -> bool:
    try:
        return bool(
            algorithm["algorithm"].native == "pbes2"
            and algorithm.kdf == "pbkdf2"
            and algorithm.kdf_hmac in _PRF_HASHES
            and algorithm.encryption_cipher == "aes"
            and algorithm.encryption_mode == "cbc"
        )
    except (ValueError, TypeError, KeyError):
        return False


def pbes2_decrypt(info: asn1_keys.EncryptedPrivateKeyInfo, password: bytes, source: str) -> bytes:
    algorithm = info["encryption_algorithm"]
    try:
        iterations = int(algorithm.kdf_iterations)
        salt = bytes(algorithm.kdf_salt)
        iv = bytes(algorithm.encryption_iv)
        key_length = int(algorithm.key_length)
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: corrupt PBES2 parameters ({short(e)})") from None
    encrypted = bytes(info["encrypted_data"].native)
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise InputError(f"{source}: implausible PBKDF2 iteration count {iterations}")
    if len(iv) != 16 or key_length not in (16, 24, 32) or not 1 <= len(salt) <= 1024:
        raise InputError(f"{source}: corrupt PBES2 parameters")
    if not encrypted or len(encrypted) % 16:
        raise InputError(f"{source}: truncated encrypted private key")
    kdf = PBKDF2HMAC(_PRF_HASHES[algorithm.kdf_hmac](), key_length, salt, iterations)
    decryptor = Cipher(algorithms.AES(kdf.derive(password)), modes.CBC(iv)).decryptor()
    plain = decryptor.update(encrypted) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise KeyAccessError(f"wrong passphrase for {source}") from None


def pkcs8_der_to_key(der: bytes) -> PrivateKeyTypes:
    """PKCS#8 DER to a key: standard ones through pyca, Notary's variants by hand."""
    from cryptography.hazmat.primitives import serialization  # when used: module doc

    try:
        info = PrivateKeyInfo.load(der, strict=True)
        oid = info["algorithm"]["algorithm"].dotted
        inner = bytes(info["private_key"].native)
        params = info["algorithm"]["parameters"]
    except (ValueError, TypeError, KeyError, OverflowError):
        # no foreign text: it could quote private key bytes
        raise NotAKey("corrupt PKCS#8 private key") from None
    if oid == NOTARY_ED25519_OID:
        return notary_ed25519(inner)
    if oid == _EC_OID:
        # Notary writes version 1, which pyca refuses: re-wrap as version 0.
        der = PrivateKeyInfo(
            {
                "version": 0,
                "algorithm": {"algorithm": oid, "parameters": params},
                "private_key": inner,
            }
        ).dump()
    try:
        loaded = serialization.load_der_private_key(der, None)
    except (ValueError, TypeError):
        raise NotAKey("corrupt PKCS#8 private key") from None
    except UnsupportedAlgorithm:
        raise NotAKey(f"unsupported key type (algorithm {oid})") from None
    return key_or_not(loaded)


def notary_ed25519(blob: bytes) -> ed25519.Ed25519PrivateKey:
    """Notary's ed25519 blob: public (32) ‖ seed (32) ‖ public (32)."""
    from cryptography.hazmat.primitives import serialization  # when used: module doc

    if len(blob) != 96:
        raise NotAKey(f"malformed Notary ed25519 key ({len(blob)} bytes, expected 96)")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(blob[32:64])
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if blob[:32] != public or blob[64:] != public:
        raise NotAKey("malformed Notary ed25519 key (public key does not match the seed)")
    return key


def notary_pkcs8(private_key: PrivateKeyTypes) -> bytes:
    """Unencrypted PKCS#8 DER as Notary reads it (its own OID and blob for ed25519)."""
    from cryptography.hazmat.primitives import serialization  # when used: module doc

    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        seed = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        blob = public + seed + public
        return bytes(
            PrivateKeyInfo(
                {"version": 0, "algorithm": {"algorithm": NOTARY_ED25519_OID}, "private_key": blob}
            ).dump()
        )
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def key_or_not(loaded: object) -> PrivateKeyTypes:
    if isinstance(loaded, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return loaded
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        if isinstance(loaded.curve, _SUPPORTED_CURVES):
            return loaded
        raise NotAKey(f"unsupported key type (ECDSA curve {loaded.curve.name})")
    kind = type(loaded).__name__.removeprefix("_").replace("PrivateKey", "")
    raise NotAKey(f"unsupported key type ({kind or 'unknown'})")


def check_key(loaded: object, source: str) -> PrivateKeyTypes:
    try:
        return key_or_not(loaded)
    except NotAKey as e:
        raise InputError(f"{source}: {e}") from None


def pbes2_encrypt(inner: bytes, password: bytes, iterations: int) -> bytes:
    """DER ``EncryptedPrivateKeyInfo`` exactly as Notary writes it: PBES2, PBKDF2 params
    ``SEQUENCE {salt (8 bytes), iterations}`` (no keyLength, PRF = default HMAC-SHA1),
    AES-256-CBC. Salt and IV come from ``secrets`` (no I/O)."""
    salt = secrets.token_bytes(8)
    iv = secrets.token_bytes(16)
    key = PBKDF2HMAC(hashes.SHA1(), 32, salt, iterations).derive(password)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(inner) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(plain) + encryptor.finalize()
    info = asn1_keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {"salt": _specified(salt), "iteration_count": iterations},
                    },
                    "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                },
            },
            "encrypted_data": encrypted,
        }
    )
    return bytes(info.dump())


def _specified(salt: bytes) -> asn1_algos.Pbkdf2Salt:
    return asn1_algos.Pbkdf2Salt(name="specified", value=salt)


def short(error: BaseException) -> str:
    """A foreign exception's text, cut to one short line (it never holds a secret here)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:120]
