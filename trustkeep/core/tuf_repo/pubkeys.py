"""Public keys of holders who are not in this key store: PEM SPKI or securesystemslib JSON."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.signer import SSlibKey

from trustkeep.core.keyids import tuf_keyid
from trustkeep.errors import InputError

__all__ = ["key_from_public_bytes", "keyid_is_hash"]

_MAX_KEY_FILE = 64 * 1024


def _from_pem(data: bytes, source: str) -> SSlibKey:
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError as e:
        raise InputError(f"{source}: not a PEM public key (SubjectPublicKeyInfo)") from e
    if isinstance(public, ed25519.Ed25519PublicKey):
        scheme = "ed25519"
    elif isinstance(public, ec.EllipticCurvePublicKey):
        size = public.curve.key_size
        if size not in (256, 384, 521):
            raise InputError(f"{source}: unsupported ECDSA curve {public.curve.name}")
        scheme = f"ecdsa-sha2-nistp{size}"
    elif isinstance(public, rsa.RSAPublicKey):
        if public.key_size < 2048:
            raise InputError(f"{source}: RSA key of {public.key_size} bits is too weak")
        scheme = "rsassa-pss-sha256"
    else:
        raise InputError(f"{source}: unsupported public key type")
    return SSlibKey.from_crypto(public, scheme=scheme)


def _from_json(data: bytes, source: str) -> SSlibKey:
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{source}: not a PEM public key nor JSON key") from e
    if not isinstance(doc, dict):
        raise InputError(f"{source}: JSON key must be an object")
    keytype, scheme, keyval = doc.get("keytype"), doc.get("scheme"), doc.get("keyval")
    if not (isinstance(keytype, str) and isinstance(scheme, str) and isinstance(keyval, dict)):
        raise InputError(f"{source}: JSON key needs string keytype, scheme and object keyval")
    public = keyval.get("public")
    if not isinstance(public, str) or set(keyval) != {"public"}:
        raise InputError(f"{source}: JSON key must hold exactly one public key (keyval.public)")
    keyid = tuf_keyid(keytype, scheme, {"public": public})
    try:
        if keytype == "ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
        else:
            serialization.load_pem_public_key(public.encode("utf-8"))
        return SSlibKey(keyid, keytype, scheme, {"public": public})
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: unusable {keytype}/{scheme} public key") from e


def key_from_public_bytes(data: bytes, source: str) -> SSlibKey:
    """A public key with its TUF keyid recomputed (a given ``keyid`` field is ignored)."""
    if len(data) > _MAX_KEY_FILE:
        raise InputError(f"{source}: too large for a public key file")
    if b"PRIVATE KEY" in data:
        raise InputError(f"{source}: holds a private key; give the public key file")
    if data.lstrip().startswith(b"-----BEGIN"):
        return _from_pem(data, source)
    return _from_json(data, source)


def keyid_is_hash(keyid: str, keytype: str, scheme: str, keyval: dict[str, Any]) -> bool:
    """Whether ``keyid`` is the sha256 of the key's canonical JSON (some clients insist)."""
    try:
        return keyid == tuf_keyid(keytype, scheme, keyval)
    except (TypeError, ValueError):
        return False
