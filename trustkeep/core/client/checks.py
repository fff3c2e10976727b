"""The checks one metadata file goes through: parse, signatures, length and hashes.

Pure: bytes in, verified python-tuf objects out (or a :class:`ClientError`).
Signatures are checked over the canonical JSON of ``signed`` as received, unknown
fields included (trustkeep's envelope parser), never over the bytes as written (as
python-tuf: a signature over non-canonical bytes does not count); keyids are taken as written, never
recomputed; each distinct key counts once toward a threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
from securesystemslib.signer import Key, Signature
from tuf.api.metadata import Metadata, Root, Signed, Snapshot, Targets, Timestamp
from tuf.api.serialization import DeserializationError

from trustkeep.core.client.errors import ClientError
from trustkeep.core.verify._envelope import Envelope, Malformed, digest, parse_envelope

__all__ = [
    "Loaded",
    "check_length_and_hashes",
    "check_threshold",
    "load",
    "signature_valid",
]

T = TypeVar("T", Root, Timestamp, Snapshot, Targets)
_TYPES: Mapping[type[Signed], str] = {
    Root: "root",
    Timestamp: "timestamp",
    Snapshot: "snapshot",
    Targets: "targets",
}


def signature_valid(key: Key, signature: Signature, data: bytes) -> bool:
    """The one signature check: securesystemslib's ``verify_signature``, as a bool."""
    try:
        key.verify_signature(signature, data)
    except (UnverifiedSignatureError, VerificationError):
        return False
    return True


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """One parsed file: the python-tuf object, its envelope and the exact bytes."""

    role: str
    metadata: Metadata[T]
    envelope: Envelope
    raw: bytes
    signed_bytes: bytes  # canonical JSON of ``signed`` as received: what signatures cover

    @property
    def signed(self) -> T:
        return self.metadata.signed


def load(data: bytes, kind: type[T], role: str) -> Loaded[T]:
    """Parse ``data`` as metadata of ``kind`` for ``role``; raise ``malformed`` otherwise."""
    try:
        envelope = parse_envelope(data, name=role)
        signed_bytes = envelope.signed_bytes
        metadata: Metadata[T] = Metadata.from_bytes(data)
    except (Malformed, DeserializationError) as e:
        raise ClientError("malformed", role, f"{role}: {_first_line(e)}") from e
    if not isinstance(metadata.signed, kind):
        found = metadata.signed.type
        raise ClientError("malformed", role, f"{role}: expected {_TYPES[kind]}, got {found}")
    seen: set[str] = set()
    for sig in envelope.signatures:
        if sig.keyid in seen:
            raise ClientError("malformed", role, f"{role}: two signatures by {sig.keyid[:16]}")
        seen.add(sig.keyid)
    return Loaded(role, metadata, envelope, data, signed_bytes)


def _first_line(error: BaseException) -> str:
    cause = error.__cause__ if isinstance(error, DeserializationError) else None
    shown = cause if cause is not None and str(cause) else error
    text = str(shown).splitlines()[0] if str(shown) else type(shown).__name__
    return text[:160]


def check_threshold(
    loaded: Loaded[T], *, keyids: list[str], threshold: int, keys: Mapping[str, Key], by: str
) -> int:
    """Count valid signatures by distinct keys of the role; raise below ``threshold``.

    Signatures by keyids the role does not list are ignored; a key listed under two
    keyids counts once (same type and public value).
    """
    if len(set(keyids)) != len(keyids):
        raise ClientError("malformed", loaded.role, f"{by} lists a keyid twice for {loaded.role}")
    sigs = {s.keyid: s.sig for s in loaded.envelope.signatures}
    counted: set[tuple[str, str]] = set()
    for keyid in keyids:
        key = keys.get(keyid)
        sig = sigs.get(keyid)
        if key is None or sig is None:
            continue
        material = (key.keytype, str(key.keyval.get("public")))
        if material in counted:
            continue
        if signature_valid(key, Signature(keyid, sig), loaded.signed_bytes):
            counted.add(material)
    if len(counted) < threshold:
        raise ClientError(
            "threshold-not-met",
            loaded.role,
            f"{loaded.role} has {len(counted)} valid signature(s) of {by}'s keys, "
            f"threshold {threshold}",
        )
    return len(counted)


def check_length_and_hashes(
    data: bytes,
    *,
    length: int | None,
    hashes: Mapping[str, str] | None,
    what: str,
    role: str | None,
) -> None:
    """``data`` has the recorded length and every recorded hash (unknown algorithm: refused)."""
    if length is not None and len(data) != length:
        raise ClientError(
            "length-mismatch", role, f"{what} is {len(data)} bytes, {length} expected"
        )
    for algorithm, expected in (hashes or {}).items():
        value = digest(algorithm, data)
        if value is None:
            raise ClientError(
                "hash-mismatch", role, f"{what}: unknown hash algorithm {algorithm!r}"
            )
        if value.hex() != expected:
            raise ClientError("hash-mismatch", role, f"{what}: {algorithm} does not match")
