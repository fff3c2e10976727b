"""What a pin needs from a root: read a Notary or TUF root.json, check it signs itself.

Pure: bytes in, a :class:`RootInfo` out. A Notary root's root role holds x509
certificates: their IDs (root.json keyids) are the certificate IDs, their public
keys give the canonical IDs, their CN is the GUN. A TUF root is only good for
``--format tuf``. The self-signature check (a threshold of the root role's own
keys) stands in for full chain verification where none is available.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from trustkeep.core.keyids import canonical_json, notary_canonical_id, notary_cert_id
from trustkeep.core.rotation import check_root_rotation
from trustkeep.errors import InputError, TrustFailure

__all__ = [
    "RootInfo",
    "read_root",
    "verify_notary_root_signatures",
    "verify_tuf_root_chain",
]

_X509_TYPES = ("ecdsa-x509", "rsa-x509")


@dataclass(frozen=True, kw_only=True)
class RootInfo:
    """A root.json as a pin source."""

    source: str
    format: str  # "notary" | "tuf"
    raw: bytes
    version: int
    gun: str | None = None
    cert_ids: tuple[str, ...] = ()
    canonical_ids: tuple[str, ...] = ()
    certificates: tuple[x509.Certificate, ...] = ()
    keyids: tuple[str, ...] = ()


def _load_json(raw: bytes, source: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"{source}: not valid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("signed"), dict):
        raise InputError(f"{source}: not a metadata file (no 'signed' object)")
    return doc


def read_root(raw: bytes, *, source: str, verify: bool = True) -> RootInfo:
    """Parse a Notary (``_type: Root``) or TUF (``_type: root``) root.json."""
    doc = _load_json(raw, source)
    kind = doc["signed"].get("_type")
    if kind == "Root":
        info = _read_notary_root(doc, raw, source)
        if verify:
            verify_notary_root_signatures(doc, source=source)
        return info
    if kind == "root":
        return _read_tuf_root(raw, source, verify=verify)
    raise InputError(f"{source}: not a root.json (_type is {kind!r})")


def _root_role(signed: Mapping[str, Any], source: str) -> tuple[list[str], int]:
    try:
        role = signed["roles"]["root"]
        keyids = list(role["keyids"])
        threshold = int(role["threshold"])
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{source}: root role is missing or malformed") from e
    if threshold < 1 or not all(isinstance(k, str) for k in keyids):
        raise InputError(f"{source}: root role has a bad threshold or keyids")
    return keyids, threshold


def _certificate_chain(key: Any, keyid: str, source: str) -> list[x509.Certificate]:
    try:
        if key["keytype"] not in _X509_TYPES:
            raise InputError(f"{source}: root key {keyid[:12]} is {key['keytype']}, not x509")
        pem = base64.b64decode(key["keyval"]["public"], validate=True)
        return x509.load_pem_x509_certificates(pem)
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise InputError(f"{source}: root key {keyid[:12]} is not a PEM certificate") from e


def _read_notary_root(doc: dict[str, Any], raw: bytes, source: str) -> RootInfo:
    signed = doc["signed"]
    keyids, _threshold = _root_role(signed, source)
    keys = signed.get("keys")
    if not isinstance(keys, dict):
        raise InputError(f"{source}: root has no keys object")
    leaves: list[x509.Certificate] = []
    canonical: list[str] = []
    for keyid in keyids:
        if keyid not in keys:
            raise InputError(f"{source}: root keyid {keyid[:12]} has no key")
        chain = _certificate_chain(keys[keyid], keyid, source)
        if len(chain) == 1 and notary_cert_id(chain[0]) != keyid:
            raise InputError(f"{source}: root keyid {keyid[:12]} is not its certificate's ID")
        leaves.append(chain[0])
        cid = notary_canonical_id(chain[0].public_key())  # type: ignore[arg-type]
        if cid is not None:
            canonical.append(cid)
    gun = None
    if leaves:
        names = leaves[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        gun = str(names[0].value) if names else None
    version = signed.get("version")
    return RootInfo(
        source=source,
        format="notary",
        raw=raw,
        version=version if isinstance(version, int) else 0,
        gun=gun,
        cert_ids=tuple(keyids),
        canonical_ids=tuple(canonical),
        certificates=tuple(leaves),
    )


def _verify_one(public_key: Any, method: str, sig: bytes, payload: bytes) -> bool:
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey) and method == "ecdsa":
            half = (public_key.curve.key_size + 7) // 8
            if len(sig) != 2 * half:
                return False
            r = int.from_bytes(sig[:half], "big")
            s = int.from_bytes(sig[half:], "big")
            public_key.verify(encode_dss_signature(r, s), payload, ec.ECDSA(hashes.SHA256()))
            return True
        if isinstance(public_key, rsa.RSAPublicKey) and method in ("rsapss", "rsapkcs1v15"):
            pad: padding.AsymmetricPadding = (
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                if method == "rsapss"
                else padding.PKCS1v15()
            )
            public_key.verify(sig, payload, pad, hashes.SHA256())
            return True
    except InvalidSignature:
        return False
    return False


def verify_notary_root_signatures(doc: Mapping[str, Any], *, source: str) -> int:
    """Count valid root-role signatures; TrustFailure below the threshold."""
    signed = doc["signed"]
    keyids, threshold = _root_role(signed, source)
    payload = canonical_json(signed)
    valid: set[str] = set()
    signatures = doc.get("signatures")
    if not isinstance(signatures, list):
        raise InputError(f"{source}: 'signatures' is not a list")
    for entry in signatures:
        if not isinstance(entry, dict):
            continue
        keyid = entry.get("keyid")
        if keyid not in keyids or keyid in valid:
            continue
        try:
            sig = base64.b64decode(str(entry.get("sig", "")), validate=True)
        except (binascii.Error, ValueError):
            continue
        chain = _certificate_chain(signed["keys"][keyid], keyid, source)
        if _verify_one(chain[0].public_key(), str(entry.get("method")), sig, payload):
            valid.add(keyid)
    if len(valid) < threshold:
        raise TrustFailure(
            f"{source}: root is signed by {len(valid)} of its root keys, threshold {threshold}"
        )
    return len(valid)


def _read_tuf_root(raw: bytes, source: str, *, verify: bool) -> RootInfo:
    from tuf.api.exceptions import UnsignedMetadataError
    from tuf.api.metadata import Metadata, Root
    from tuf.api.serialization import DeserializationError, SerializationError

    try:
        md = Metadata[Root].from_bytes(raw)
    except (DeserializationError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{source}: not a valid TUF root: {e}") from e
    if verify:
        try:
            md.signed.verify_delegate("root", md.signed_bytes, md.signatures)
        except UnsignedMetadataError as e:
            raise TrustFailure(f"{source}: root does not meet its own threshold: {e}") from e
        except SerializationError as e:  # e.g. a float: not canonical JSON, nothing signed it
            raise InputError(f"{source}: not a valid TUF root: not canonical JSON") from e
    return RootInfo(
        source=source,
        format="tuf",
        raw=raw,
        version=md.signed.version,
        keyids=tuple(md.signed.roles["root"].keyids),
    )


def verify_tuf_root_chain(raws: Sequence[tuple[str, bytes]]) -> RootInfo:
    """Walk ``1.root.json`` .. ``N.root.json``: N+1 signed by N's and its own threshold."""
    from tuf.api.metadata import Metadata, Root

    if not raws:
        raise InputError("no root.json versions to verify")
    first_source, first_raw = raws[0]
    info = _read_tuf_root(first_raw, first_source, verify=True)
    previous = Metadata[Root].from_bytes(first_raw)
    previous_source = first_source
    for source, raw in raws[1:]:
        info = _read_tuf_root(raw, source, verify=True)
        current = Metadata[Root].from_bytes(raw)
        payload = current.signed_bytes
        old = previous.signed.get_verification_result("root", payload, current.signatures)
        own = current.signed.get_verification_result("root", payload, current.signatures)
        problems = check_root_rotation(
            old_version=previous.signed.version,
            new_version=current.signed.version,
            old_threshold=old.threshold,
            by_old=len(old.signed),
            new_threshold=own.threshold,
            by_new=len(own.signed),
        )
        for problem in problems:
            if problem.kind == "version":
                raise TrustFailure(
                    f"{source}: holds root version {current.signed.version}, which does not "
                    f"follow version {previous.signed.version} in {previous_source}"
                )
            raise TrustFailure(
                f"{source}: not signed by a threshold of the previous root "
                f"({problem.describe(previous.signed.version, current.signed.version)})"
            )
        previous_source = source
        previous = current
    return info
