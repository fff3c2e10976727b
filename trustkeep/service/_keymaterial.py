"""Private key material in memory: generation, type checks, (de)serialisation of the store's PEM.

Plaintext private keys exist only as cryptography objects and in memory buffers
here; every PEM that leaves this module for the disk or the keyring is an
``ENCRYPTED PRIVATE KEY`` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from trustkeep.core._pkcs8 import is_pbes2_pbkdf2_aes_cbc, pbes2_decrypt
from trustkeep.core.keys import KEY_TYPES
from trustkeep.core.pbes2 import DEFAULT_ITERATIONS, encrypt_pkcs8_der, pem_armor
from trustkeep.errors import InputError, KeyAccessError

if TYPE_CHECKING:
    from securesystemslib.signer import SSlibKey

__all__ = [
    "PrivateKey",
    "PublicKey",
    "check_private_key",
    "check_public_key",
    "decrypt_store_pem",
    "encrypt_store_pem",
    "generate_private_key",
    "is_well_formed_encrypted_pem",
    "key_type_name",
    "public_identity",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey

#: the most PBKDF2 iterations accepted when reading a stored key
_MAX_ITERATIONS = 10_000_000

_CURVES = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384"}


def generate_private_key(key_type: str) -> PrivateKey:
    if key_type not in KEY_TYPES:
        raise InputError(
            f"unknown key type {key_type!r}", hint=f"choose one of: {', '.join(KEY_TYPES)}"
        )
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    bits = int(key_type.removeprefix("rsa-"))
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def key_type_name(key: PublicKey) -> str:
    """Human key type: ``ed25519``, ``ecdsa-p256``, ``rsa-3072``; InputError if unsupported."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        name = _CURVES.get(key.curve.name)
        if name is None:
            raise InputError(f"unsupported key type: ECDSA curve {key.curve.name}")
        return name
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InputError(f"unsupported key type: RSA {key.key_size} bits (minimum 2048)")
        return f"rsa-{key.key_size}"
    raise InputError(f"unsupported key type: {type(key).__name__}")  # pragma: no cover


def _check_type(key: PublicKey, source: str) -> None:
    try:
        key_type_name(key)
    except InputError as e:
        raise InputError(f"{source}: {e.message}") from e


def check_private_key(key: object, source: str) -> PrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        _check_type(key.public_key(), source)
        return key
    raise InputError(f"{source}: unsupported key type {type(key).__name__.lstrip('_')}")


def check_public_key(key: object, source: str) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        _check_type(key, source)
        return key
    raise InputError(f"{source}: unsupported key type {type(key).__name__.lstrip('_')}")


def public_identity(key: PublicKey) -> tuple[SSlibKey, str | None]:
    """The securesystemslib key (TUF keyid, default scheme) and the Notary canonical ID."""
    from securesystemslib.signer import SSlibKey  # the signer package: when a key is used

    from trustkeep.core.keyids import notary_canonical_id, tuf_keyid

    key_type_name(key)
    sslib = SSlibKey.from_crypto(key)
    keyid = tuf_keyid(sslib.keytype, sslib.scheme, dict(sslib.keyval))
    if keyid != sslib.keyid:  # pragma: no cover - both compute the TUF default keyid
        sslib = SSlibKey(keyid, sslib.keytype, sslib.scheme, dict(sslib.keyval))
    return sslib, notary_canonical_id(key)


def encrypt_store_pem(
    key: PrivateKey, passphrase: str, *, iterations: int = DEFAULT_ITERATIONS
) -> bytes:
    """PKCS#8 ``ENCRYPTED PRIVATE KEY`` PEM (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)."""
    from cryptography.hazmat.primitives import serialization

    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = encrypt_pkcs8_der(
        der,
        passphrase.encode("utf-8"),
        salt=os.urandom(16),
        iv=os.urandom(16),
        iterations=iterations,
    )
    return pem_armor(encrypted, "ENCRYPTED PRIVATE KEY")


def _encrypted_info(pem: bytes) -> asn1_keys.EncryptedPrivateKeyInfo | None:
    """``pem`` parsed as an ``EncryptedPrivateKeyInfo``, or None when it is not one (or
    asks for more PBKDF2 iterations than any real key: a tampered file must not make us
    spin for hours)."""
    try:
        if not asn1_pem.detect(pem):
            return None
        label, _, der = asn1_pem.unarmor(pem)
        if label != "ENCRYPTED PRIVATE KEY":
            return None
        info = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        _ = info.native
        algorithm = info["encryption_algorithm"]
        if algorithm.kdf == "pbkdf2" and not 1 <= algorithm.kdf_iterations <= _MAX_ITERATIONS:
            return None
    except (ValueError, TypeError, KeyError):
        return None
    return info


def is_well_formed_encrypted_pem(pem: bytes) -> bool:
    """True when ``pem`` parses as an ``EncryptedPrivateKeyInfo`` (says nothing of the password)."""
    return _encrypted_info(pem) is not None


def decrypt_store_pem(pem: bytes, passphrase: str) -> object | None:
    """The decrypted key object, or None when the passphrase is wrong (ValueError if corrupt).

    PBES2 with PBKDF2 and AES-CBC (every key trustkeep writes) is decrypted by
    :func:`~trustkeep.core._pkcs8.pbes2_decrypt`, whose key derivation lets other threads
    run meanwhile (:class:`~trustkeep.service._signer_pool.SignerPool` unlocks several
    keys at once); any other scheme by pyca/cryptography's loader.
    """
    info = _encrypted_info(pem)
    if info is None:
        raise ValueError("not a well-formed ENCRYPTED PRIVATE KEY")
    password = passphrase.encode("utf-8")
    if not is_pbes2_pbkdf2_aes_cbc(info["encryption_algorithm"]):
        from cryptography.hazmat.primitives import serialization

        try:
            return serialization.load_pem_private_key(pem, password)
        except ValueError:
            return None
    try:
        plain = pbes2_decrypt(info, password, "key")
    except KeyAccessError:  # bad padding: the passphrase is wrong
        return None
    except InputError as e:
        raise ValueError("corrupt PBES2 parameters") from e
    # imported after the key derivation: a command that unlocks ahead starts it sooner
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_der_private_key(plain, None)
    except ValueError:  # padding that happened to be valid: the passphrase is wrong
        return None
