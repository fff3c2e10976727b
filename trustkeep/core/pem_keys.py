"""PEM private key files: PKCS#8, traditional OpenSSL and Notary / Docker trust keys.

Pure: bytes in, key objects or bytes out (NOTARY.md §4). Reads

- PKCS#8 ``PRIVATE KEY`` and ``ENCRYPTED PRIVATE KEY`` (PBES2; what pyca loads,
  plus Notary's PBKDF2-HMAC-SHA1 files, which this module decrypts itself with
  cryptography's PBKDF2 and AES-CBC);
- Notary's PKCS#8 quirks: ECDSA with ``version = 1`` (pyca refuses it) and ed25519
  under OID 1.3.6.1.4.1.11591.15.1 with a 96-byte blob (public key ‖ Go private key,
  the Go private key being seed ‖ public key);
- traditional ``EC/RSA PRIVATE KEY`` PEM, plain or ``Proc-Type: 4,ENCRYPTED`` (pyca),
  and Notary's pre-0.6 ``ED25519 PRIVATE KEY`` (OpenSSL's MD5 key derivation);
- the Notary headers ``role:``, ``gun:`` and ``path:``.

Writes Notary key files (:func:`dump_notary_pem`) that the real ``notary key import``
and ``notary init --rootkey`` accept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1
from asn1crypto import keys as asn1_keys
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from trustkeep.core import _pem
from trustkeep.core.keyids import notary_canonical_id, notary_keyid
from trustkeep.errors import InputError, KeyAccessError

__all__ = [
    "NOTARY_ED25519_OID",
    "NOTARY_ITERATIONS",
    "LoadedPrivateKey",
    "PrivateKeyTypes",
    "dump_notary_pem",
    "load_private_pem",
    "notary_private_keyid",
    "pem_headers",
    "pem_is_encrypted",
    "split_pem_blocks",
]

PrivateKeyTypes = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

#: Notary's (non-standard) ed25519 algorithm OID in PKCS#8.
NOTARY_ED25519_OID = "1.3.6.1.4.1.11591.15.1"
#: PBKDF2 iterations Notary writes (and the default of :func:`dump_notary_pem`).
NOTARY_ITERATIONS = 2048
#: Refuse KDF iteration counts above this when reading (a hostile file must not hang us).
MAX_ITERATIONS = 10_000_000

_RSA_OID = "1.2.840.113549.1.1.1"
_EC_OID = "1.2.840.10045.2.1"
_SUPPORTED_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
_NOTARY_GUN_ROLES = frozenset({"targets", "snapshot", "timestamp"})
_ROLE_RE = re.compile(r"^(root|targets|snapshot|timestamp|targets/[-a-z0-9_/]{1,250})$")
_KEYID_RE = re.compile(r"^[0-9a-f]{64}$")
_GUN_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable, no spaces: one PEM header line
_PRF_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = MappingProxyType(
    {
        "sha1": hashes.SHA1,
        "sha224": hashes.SHA224,
        "sha256": hashes.SHA256,
        "sha384": hashes.SHA384,
        "sha512": hashes.SHA512,
    }
)


@dataclass(frozen=True)
class LoadedPrivateKey:
    """A decoded private key with the PEM headers (``role``, ``gun``, ``path``) it carried.

    ``format`` is one of ``pkcs8``, ``pkcs8-encrypted``, ``notary-pkcs8-encrypted``
    (PBES2 with PBKDF2-HMAC-SHA1, as Notary >= 0.6 writes), ``traditional`` and
    ``traditional-encrypted``.
    """

    private_key: PrivateKeyTypes
    headers: Mapping[str, str] = field(default_factory=dict)
    format: str = "pkcs8"


class _NotAKey(Exception):
    """Internal: DER that does not decode to a supported private key (message says why)."""


# --- public API -----------------------------------------------------------------------


def split_pem_blocks(data: bytes) -> list[bytes]:
    """Each private key PEM block of ``data`` as its own bytes (a ``notary key export`` file
    holds several). Blocks that are not private keys (certificates, public keys) are left out.
    """
    return [block.encode() for block in _pem.decode_all(data) if block.is_private_key]


def pem_is_encrypted(data: bytes) -> bool:
    """True when the (first) private key block of ``data`` needs a passphrase."""
    block = _first_key_block_or_none(data)
    return block is not None and block.is_encrypted


def pem_headers(data: bytes) -> dict[str, str]:
    """The label headers (``role``, ``gun``, ``path``, ...) of the first private key block.

    Encryption headers (``Proc-Type``, ``DEK-Info``) are left out; ``{}`` for non-PEM input.
    """
    block = _first_key_block_or_none(data)
    return dict(block.labels) if block is not None else {}


def load_private_pem(data: bytes, password: bytes | None, *, source: str) -> LoadedPrivateKey:
    """Decode one PEM private key.

    Raises :class:`InputError` (naming ``source``) for input that is not a private key,
    is corrupt or truncated, holds several keys, or holds an unsupported key type, and
    :class:`KeyAccessError` ``wrong passphrase for <source>`` when an encrypted key's
    passphrase is wrong or missing.
    """
    blocks = [block for block in _pem.decode_all(data, source=source) if block.is_private_key]
    if not blocks:
        raise InputError(f"{source}: no PEM private key found")
    if len(blocks) > 1:
        raise InputError(
            f"{source}: holds {len(blocks)} private keys, expected one",
            hint="import the keys of a bundle one by one (a `notary key export` file)",
        )
    block = blocks[0]
    if block.is_encrypted and not password:
        raise KeyAccessError(
            f"wrong passphrase for {source}", hint=f"{source} is encrypted: give its passphrase"
        )
    if block.type in ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        key, fmt = _load_pkcs8_block(block, password, source)
    else:
        key, fmt = _load_traditional_block(block, password, source)
    return LoadedPrivateKey(private_key=key, headers=MappingProxyType(block.labels), format=fmt)


def notary_private_keyid(private_key: PrivateKeyTypes) -> str:
    """The ID Notary files this key under (``private/<id>.key``, ``notary key list``).

    The canonical key ID (DER SPKI) for ECDSA and RSA; for ed25519 the Notary key ID
    over the raw 32-byte public key.
    """
    public_key = private_key.public_key()
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return notary_keyid("ed25519", raw)
    keyid = notary_canonical_id(public_key)
    assert keyid is not None  # ECDSA and RSA always have one
    return keyid


def dump_notary_pem(
    private_key: PrivateKeyTypes,
    password: bytes,
    *,
    role: str,
    gun: str | None,
    keyid: str,
    iterations: int = NOTARY_ITERATIONS,
) -> bytes:
    """A Notary key file: ``ENCRYPTED PRIVATE KEY`` (PBES2, PBKDF2-HMAC-SHA1, 8-byte salt,
    AES-256-CBC) with the headers ``notary key export`` writes: ``gun:`` (targets, snapshot
    and timestamp keys only), ``path: <keyid>`` and ``role:``.

    ``keyid`` must be the key's Notary ID (:func:`notary_private_keyid`): Notary stores
    the imported file under that name.
    """
    _check_notary_labels(private_key, role=role, gun=gun, keyid=keyid)
    if not password:
        raise InputError("a Notary key file needs a non-empty passphrase")
    if not 1000 <= iterations <= MAX_ITERATIONS:
        raise InputError(f"PBKDF2 iteration count {iterations} out of range")
    inner = _notary_pkcs8(private_key)
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
    headers = {"path": keyid, "role": role}
    if role in _NOTARY_GUN_ROLES and gun:
        headers["gun"] = gun
    return _pem.encode("ENCRYPTED PRIVATE KEY", info.dump(), headers)


# --- PKCS#8 -----------------------------------------------------------------------------


class _AlgorithmIdentifier(asn1.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[str, type, dict[str, object]] | tuple[str, type]]] = [
        ("algorithm", asn1.ObjectIdentifier),
        ("parameters", asn1.Any, {"optional": True}),
    ]


class _PrivateKeyInfo(asn1.Sequence):  # type: ignore[misc]
    """PKCS#8 / RFC 5958 OneAsymmetricKey, tolerant of unknown algorithms."""

    _fields: ClassVar[list[tuple[str, type, dict[str, object]] | tuple[str, type]]] = [
        ("version", asn1.Integer),
        ("algorithm", _AlgorithmIdentifier),
        ("private_key", asn1.OctetString),
        ("attributes", asn1.Any, {"implicit": 0, "optional": True}),
        ("public_key", asn1.Any, {"implicit": 1, "optional": True}),
    ]


def _load_pkcs8_block(
    block: _pem.Block, password: bytes | None, source: str
) -> tuple[PrivateKeyTypes, str]:
    if block.type == "PRIVATE KEY":
        try:
            return _pkcs8_der_to_key(block.der), "pkcs8"
        except _NotAKey as e:
            raise InputError(f"{source}: {e}") from None
    assert password is not None
    info = _parse_encrypted_info(block.der, source)
    algorithm = info["encryption_algorithm"]
    if _is_pbes2_pbkdf2_aes_cbc(algorithm):
        prf = algorithm.kdf_hmac
        der = _pbes2_decrypt(info, password, source)
        try:
            key = _pkcs8_der_to_key(der)
        except _NotAKey:
            raise KeyAccessError(f"wrong passphrase for {source}") from None
        return key, "notary-pkcs8-encrypted" if prf == "sha1" else "pkcs8-encrypted"
    # Other schemes (PBES1, scrypt, 3DES): OpenSSL through pyca.
    try:
        loaded = serialization.load_der_private_key(block.der, password)
    except (ValueError, TypeError):
        raise KeyAccessError(f"wrong passphrase for {source}") from None
    except UnsupportedAlgorithm as e:
        raise InputError(f"{source}: unsupported key encryption ({e})") from None
    return _check_key(loaded, source), "pkcs8-encrypted"


def _parse_encrypted_info(der: bytes, source: str) -> asn1_keys.EncryptedPrivateKeyInfo:
    try:
        info = asn1_keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        _ = info.native  # asn1crypto parses lazily: force it here
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise InputError(f"{source}: corrupt encrypted private key ({_short(e)})") from None
    return info


def _is_pbes2_pbkdf2_aes_cbc(algorithm: asn1_keys.EncryptionAlgorithm) -> bool:
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


def _pbes2_decrypt(info: asn1_keys.EncryptedPrivateKeyInfo, password: bytes, source: str) -> bytes:
    algorithm = info["encryption_algorithm"]
    try:
        iterations = int(algorithm.kdf_iterations)
        salt = bytes(algorithm.kdf_salt)
        iv = bytes(algorithm.encryption_iv)
        key_length = int(algorithm.key_length)
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: corrupt PBES2 parameters ({_short(e)})") from None
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


def _pkcs8_der_to_key(der: bytes) -> PrivateKeyTypes:
    """PKCS#8 DER to a key: standard ones through pyca, Notary's variants by hand."""
    try:
        info = _PrivateKeyInfo.load(der, strict=True)
        oid = info["algorithm"]["algorithm"].dotted
        inner = bytes(info["private_key"].native)
        params = info["algorithm"]["parameters"]
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise _NotAKey(f"corrupt PKCS#8 private key ({_short(e)})") from None
    if oid == NOTARY_ED25519_OID:
        return _notary_ed25519(inner)
    if oid == _EC_OID:
        # Notary writes version 1, which pyca refuses: re-wrap as version 0.
        der = _PrivateKeyInfo(
            {
                "version": 0,
                "algorithm": {"algorithm": oid, "parameters": params},
                "private_key": inner,
            }
        ).dump()
    try:
        loaded = serialization.load_der_private_key(der, None)
    except (ValueError, TypeError) as e:
        raise _NotAKey(f"corrupt PKCS#8 private key ({_short(e)})") from None
    except UnsupportedAlgorithm:
        raise _NotAKey(f"unsupported key type (algorithm {oid})") from None
    return _key_or_not(loaded)


def _notary_ed25519(blob: bytes) -> ed25519.Ed25519PrivateKey:
    """Notary's ed25519 blob: public (32) ‖ seed (32) ‖ public (32)."""
    if len(blob) != 96:
        raise _NotAKey(f"malformed Notary ed25519 key ({len(blob)} bytes, expected 96)")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(blob[32:64])
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if blob[:32] != public or blob[64:] != public:
        raise _NotAKey("malformed Notary ed25519 key (public key does not match the seed)")
    return key


def _notary_pkcs8(private_key: PrivateKeyTypes) -> bytes:
    """Unencrypted PKCS#8 DER as Notary reads it (its own OID and blob for ed25519)."""
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
            _PrivateKeyInfo(
                {"version": 0, "algorithm": {"algorithm": NOTARY_ED25519_OID}, "private_key": blob}
            ).dump()
        )
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- traditional OpenSSL PEM ----------------------------------------------------------


def _load_traditional_block(
    block: _pem.Block, password: bytes | None, source: str
) -> tuple[PrivateKeyTypes, str]:
    fmt = "traditional-encrypted" if block.is_encrypted else "traditional"
    if block.type == "ED25519 PRIVATE KEY":  # Notary < 0.6
        der = _legacy_decrypt(block, password, source) if block.is_encrypted else block.der
        try:
            return _notary_ed25519(der), fmt
        except _NotAKey as e:
            if block.is_encrypted:
                raise KeyAccessError(f"wrong passphrase for {source}") from None
            raise InputError(f"{source}: {e}") from None
    # Hand pyca the block with only canonical encryption headers (Notary adds role/gun).
    headers: dict[str, str] = {}
    if block.is_encrypted:
        cipher_name, iv = _check_dek_info(block, source)
        headers = {"Proc-Type": "4,ENCRYPTED", "DEK-Info": f"{cipher_name},{iv.hex().upper()}"}
    clean = _pem.encode(block.type, block.der, headers)
    try:
        loaded = serialization.load_pem_private_key(clean, password if block.is_encrypted else None)
    except (ValueError, TypeError) as e:
        if block.is_encrypted:
            raise KeyAccessError(f"wrong passphrase for {source}") from None
        raise InputError(f"{source}: corrupt {block.type} ({_short(e)})") from None
    except UnsupportedAlgorithm as e:
        raise InputError(f"{source}: unsupported key encryption ({_short(e)})") from None
    return _check_key(loaded, source), fmt


#: OpenSSL legacy PEM ciphers pyca reads: name -> (IV length = block size)
_DEK_CIPHERS: Mapping[str, int] = MappingProxyType(
    {"AES-128-CBC": 16, "AES-192-CBC": 16, "AES-256-CBC": 16, "DES-EDE3-CBC": 8, "DES-CBC": 8}
)


def _check_dek_info(block: _pem.Block, source: str) -> tuple[str, bytes]:
    """Validate ``DEK-Info`` before any decryption (pyca panics on a short IV)."""
    dek = block.encryption_headers.get("DEK-Info", "")
    cipher_name, _, iv_hex = dek.partition(",")
    cipher_name = cipher_name.strip().upper()
    if cipher_name not in _DEK_CIPHERS:
        raise InputError(f"{source}: unsupported PEM encryption {cipher_name or '(none)'}")
    try:
        iv = bytes.fromhex(iv_hex.strip())
    except ValueError:
        raise InputError(f"{source}: corrupt DEK-Info header") from None
    block_size = _DEK_CIPHERS[cipher_name]
    if len(iv) != block_size:
        raise InputError(f"{source}: corrupt DEK-Info header")
    if not block.der or len(block.der) % block_size:
        raise InputError(f"{source}: truncated encrypted private key")
    return cipher_name, iv


def _legacy_decrypt(block: _pem.Block, password: bytes | None, source: str) -> bytes:
    """OpenSSL's legacy PEM encryption (EVP_BytesToKey with MD5, one round), AES-CBC only."""
    assert password is not None
    cipher_name, iv = _check_dek_info(block, source)
    sizes = {"AES-128-CBC": 16, "AES-192-CBC": 24, "AES-256-CBC": 32}
    if cipher_name not in sizes:
        raise InputError(f"{source}: unsupported PEM encryption {cipher_name} for ed25519")
    key = b""
    digest = b""
    while len(key) < sizes[cipher_name]:
        digest = hashlib.md5(digest + password + iv[:8], usedforsecurity=False).digest()
        key += digest
    decryptor = Cipher(algorithms.AES(key[: sizes[cipher_name]]), modes.CBC(iv)).decryptor()
    plain = decryptor.update(block.der) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise KeyAccessError(f"wrong passphrase for {source}") from None


# --- helpers -----------------------------------------------------------------------------


def _key_or_not(loaded: object) -> PrivateKeyTypes:
    if isinstance(loaded, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        return loaded
    if isinstance(loaded, ec.EllipticCurvePrivateKey):
        if isinstance(loaded.curve, _SUPPORTED_CURVES):
            return loaded
        raise _NotAKey(f"unsupported key type (ECDSA curve {loaded.curve.name})")
    kind = type(loaded).__name__.removeprefix("_").replace("PrivateKey", "")
    raise _NotAKey(f"unsupported key type ({kind or 'unknown'})")


def _check_key(loaded: object, source: str) -> PrivateKeyTypes:
    try:
        return _key_or_not(loaded)
    except _NotAKey as e:
        raise InputError(f"{source}: {e}") from None


def _check_notary_labels(
    private_key: PrivateKeyTypes, *, role: str, gun: str | None, keyid: str
) -> None:
    if not _ROLE_RE.match(role):
        raise InputError(f"not a Notary role name: {role!r}")
    if role in _NOTARY_GUN_ROLES and not gun:
        raise InputError(f"a Notary {role} key needs a GUN")
    if gun is not None and not _GUN_RE.match(gun):
        raise InputError(f"not a usable GUN: {gun!r}")
    if not _KEYID_RE.match(keyid):
        raise InputError(f"not a Notary key ID: {keyid!r}")
    if not isinstance(private_key, PrivateKeyTypes):
        raise InputError(f"unsupported key type for Notary: {type(private_key).__name__}")
    expected = notary_private_keyid(private_key)
    if keyid != expected:
        raise InputError(f"key ID {keyid} is not this key's Notary ID {expected}")


def _specified(salt: bytes) -> asn1_algos.Pbkdf2Salt:
    return asn1_algos.Pbkdf2Salt(name="specified", value=salt)


def _first_key_block_or_none(data: bytes) -> _pem.Block | None:
    try:
        blocks = _pem.decode_all(data)
    except InputError:
        return None
    return next((block for block in blocks if block.is_private_key), None)


def _short(error: BaseException) -> str:
    """A foreign exception's text, cut to one short line (it never holds a secret here)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:120]
