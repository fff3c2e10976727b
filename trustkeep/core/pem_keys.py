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
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from trustkeep.core import _pem, _pkcs8
from trustkeep.core._pkcs8 import MAX_ITERATIONS, NOTARY_ED25519_OID, PrivateKeyTypes
from trustkeep.core.keyids import notary_canonical_id, notary_keyid
from trustkeep.errors import InputError, KeyAccessError

__all__ = [
    "MAX_ITERATIONS",
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

#: PBKDF2 iterations Notary writes (and the default of :func:`dump_notary_pem`).
NOTARY_ITERATIONS = 2048

_NOTARY_GUN_ROLES = frozenset({"targets", "snapshot", "timestamp"})
_ROLE_RE = re.compile(r"^(root|targets|snapshot|timestamp|targets/[-a-z0-9_/]{1,250})$")
_KEYID_RE = re.compile(r"^[0-9a-f]{64}$")
_GUN_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable, no spaces: one PEM header line


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
        key, fmt = _pkcs8.load_pkcs8_block(block, password, source)
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
    der = _pkcs8.pbes2_encrypt(_pkcs8.notary_pkcs8(private_key), password, iterations)
    headers = {"path": keyid, "role": role}
    if role in _NOTARY_GUN_ROLES and gun:
        headers["gun"] = gun
    return _pem.encode("ENCRYPTED PRIVATE KEY", der, headers)


# --- traditional OpenSSL PEM ----------------------------------------------------------


def _load_traditional_block(
    block: _pem.Block, password: bytes | None, source: str
) -> tuple[PrivateKeyTypes, str]:
    fmt = "traditional-encrypted" if block.is_encrypted else "traditional"
    if block.type == "ED25519 PRIVATE KEY":  # Notary < 0.6
        der = _legacy_decrypt(block, password, source) if block.is_encrypted else block.der
        try:
            return _pkcs8.notary_ed25519(der), fmt
        except _pkcs8.NotAKey as e:
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
    except (ValueError, TypeError):
        if block.is_encrypted:
            raise KeyAccessError(f"wrong passphrase for {source}") from None
        raise InputError(f"{source}: corrupt {block.type}") from None
    except UnsupportedAlgorithm as e:
        raise InputError(f"{source}: unsupported key encryption ({_pkcs8.short(e)})") from None
    return _pkcs8.check_key(loaded, source), fmt


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
    if role == "root" and isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise InputError(
            "a Notary root key must be ECDSA or RSA",
            hint="notary cannot make a root certificate for an ed25519 key",
        )
    expected = notary_private_keyid(private_key)
    if keyid != expected:
        raise InputError(f"key ID {keyid} is not this key's Notary ID {expected}")


def _first_key_block_or_none(data: bytes) -> _pem.Block | None:
    try:
        blocks = _pem.decode_all(data)
    except InputError:
        return None
    return next((block for block in blocks if block.is_private_key), None)
