"""Parsing one metadata file into its signed part, signatures and canonical bytes.

Shared by the TUF and the Notary verifiers. Pure: bytes in, values out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from types import MappingProxyType
from typing import Any, NamedTuple

from securesystemslib.exceptions import FormatError
from securesystemslib.formats import encode_canonical

from trustkeep.core.canonical import compact_sorted, orjson_sorted

__all__ = [
    "Envelope",
    "Malformed",
    "RawSignature",
    "canonical_bytes",
    "digest",
    "fast_decoder",
    "parse_envelope",
    "parse_notary_time",
    "parse_tuf_time",
    "peek_version",
    "strict_loads",
]


class Malformed(ValueError):
    """A file or field is not metadata of the expected shape (becomes a ``malformed`` finding)."""


class RawSignature(NamedTuple):
    keyid: str
    sig: str
    method: str | None = None


@dataclass(frozen=True)
class Envelope:
    """``{"signed": ..., "signatures": [...]}`` parsed.

    Signatures are checked over :attr:`signed_bytes`, the canonical JSON of the
    parsed ``signed`` object, as python-tuf's ``Metadata.signed_bytes`` and
    Notary's client do: never over the bytes as written. A file whose bytes were
    signed but are not the canonical form of what they parse to (duplicate keys,
    unsorted keys, whitespace) does not verify, exactly as in the reference
    clients. The encoding goes through json's C encoder (see
    :func:`canonical_bytes`), which costs about half a ``json.loads``.
    """

    name: str
    raw: bytes
    signed: dict[str, Any]
    signatures: tuple[RawSignature, ...]

    @cached_property
    def _canonical(self) -> bytes | None:
        try:
            return canonical_bytes(self.signed)
        except Malformed:
            return None

    @property
    def signed_bytes(self) -> bytes:
        """The canonical JSON of ``signed`` (what a signer signs)."""
        data = self._canonical
        if data is None:
            raise Malformed(f"{self.name}: 'signed' cannot be written as canonical JSON")
        return data

    def verify_with(self, check: Callable[[bytes], bool]) -> bool:
        """``check(signed_bytes)``; False when ``signed`` has no canonical form."""
        data = self._canonical
        return data is not None and check(data)


def _no_float(text: str) -> Any:
    raise Malformed(f"number {text[:20]} is not an integer (canonical JSON has integers only)")


_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)


def _text(raw: bytes) -> str:
    """UTF-8 only, as python-tuf (``raw.decode("utf-8")``): a BOM or UTF-16/32 is malformed.

    ``json.loads`` on bytes would guess UTF-16/32 and skip a UTF-8 BOM; TUF clients do not.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raise Malformed("starts with a UTF-8 byte order mark (metadata is plain UTF-8 JSON)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        hint = " (UTF-16/32?)" if b"\x00" in raw[:4] else ""
        raise Malformed(f"not UTF-8{hint}: byte {e.start}") from e


def strict_loads(raw: bytes, *, name: str) -> Any:
    """json.loads refusing floats, NaN/Infinity, non-UTF-8 encodings and absurd nesting."""
    try:
        return _DECODER.decode(_text(raw))
    except Malformed as e:
        raise Malformed(f"{name}: {e}") from e
    except (ValueError, RecursionError) as e:  # JSONDecodeError
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise Malformed(f"{name}: not valid JSON: {reason}") from e


def peek_version(raw: bytes | None, *, name: str) -> int | None:
    """The ``signed.version`` of a metadata file, or None when it has no usable one."""
    if raw is None:
        return None
    try:
        doc = strict_loads(raw, name=name)
    except Malformed:
        return None
    signed = doc.get("signed") if isinstance(doc, dict) else None
    version = signed.get("version") if isinstance(signed, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def canonical_bytes(obj: Any) -> bytes:
    """Canonical JSON (OLPC, as TUF and Notary sign): fast path through a C encoder.

    Sorted keys, no whitespace and raw UTF-8 equal the canonical form exactly when the
    encoder writes no backslash escape (canonical JSON escapes only ``"`` and ``\\``;
    JSON encoders also escape control characters). orjson writes that form about 15x
    faster than ``json`` (its keys sorted by code point, as canonical JSON's); where it
    cannot encode (integers beyond 64 bits, deep nesting) json's C encoder does, and
    where either writes an escape the reference encoder decides.
    """
    data = compact_sorted(obj)
    if data is not None and b"\\" not in data:
        return data
    try:
        encoded = encode_canonical(obj)
        assert encoded is not None
        return encoded.encode("utf-8")
    except (FormatError, UnicodeEncodeError, TypeError, ValueError, RecursionError) as e:
        raise Malformed(f"cannot be written as canonical JSON: {type(e).__name__}") from e


def parse_envelope(raw: bytes, *, name: str, fast: Any = None) -> Envelope:
    """Parse ``raw``; raise :class:`Malformed` naming ``name`` on any shape problem.

    A ``signed`` value without a canonical form (a lone surrogate from a ``\\u``
    escape) is malformed here, before any signature is looked at. ``fast``, a decoder
    from :func:`fast_decoder`, tries :func:`_fast_envelope` first (the same result,
    about half the parse time).
    """
    if fast is not None:
        env = _fast_envelope(raw, name, fast)
        if env is not None:
            return env
    return _envelope(strict_loads(raw, name=name), raw, name)


def _envelope(doc: Any, raw: bytes, name: str, canonical: bytes | None = None) -> Envelope:
    if not isinstance(doc, dict):
        raise Malformed(f"{name}: top level is not a JSON object")
    signed = doc.get("signed")
    sigs = doc.get("signatures")
    if not isinstance(signed, dict):
        raise Malformed(f"{name}: 'signed' is missing or not an object")
    if not isinstance(sigs, list):
        raise Malformed(f"{name}: 'signatures' is missing or not a list")
    signatures: list[RawSignature] = []
    for i, s in enumerate(sigs):
        if not isinstance(s, dict):
            raise Malformed(f"{name}: signature #{i} is not an object")
        keyid = s.get("keyid")
        sig = s.get("sig")
        method = s.get("method")
        if not isinstance(keyid, str) or not isinstance(sig, str):
            raise Malformed(f"{name}: signature #{i} lacks a string 'keyid' and 'sig'")
        if method is not None and not isinstance(method, str):
            raise Malformed(f"{name}: signature #{i} has a non-string 'method'")
        signatures.append(RawSignature(keyid, sig, method))
    env = Envelope(name, raw, signed, tuple(signatures))
    if canonical is not None:
        env.__dict__["_canonical"] = canonical  # the cached_property's slot
    elif env._canonical is None:
        try:
            canonical_bytes(signed)
        except Malformed as e:
            raise Malformed(f"{name}: 'signed' {e}") from e
    return env


class _Float(ValueError):
    """A float in a document the fast decoder reads (the reference path then decides)."""


def _refuse_float(text: str) -> Any:
    raise _Float(text)


def fast_decoder() -> Any:
    """msgspec's JSON decoder refusing floats, for one run's :func:`parse_envelope` calls
    (msgspec is imported here, on first use: it costs start-up time)."""
    import msgspec

    return msgspec.json.Decoder(float_hook=_refuse_float)


#: nesting allowed outside ``signed`` on the fast path (signatures are two levels deep)
_FAST_DEPTH = 16


def _shallow(value: Any, depth: int = 0) -> bool:
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return True
    return depth < _FAST_DEPTH and all(_shallow(v, depth + 1) for v in value)


def _fast_envelope(raw: bytes, name: str, decoder: Any) -> Envelope | None:
    """:func:`parse_envelope`'s result by faster decoders, or None: the reference path
    (``json`` and :func:`canonical_bytes`) then decides, as it does for every file this
    does not answer.

    msgspec's decoder reads plain JSON (RFC 8259: no NaN, no byte order mark, UTF-8
    only) into the values ``json.loads`` builds (integers of any size, the last of
    duplicate keys at the first one's place); it hands every float to a hook that
    refuses it. The two could differ only near the interpreter's recursion limit,
    where each gives up at a slightly different depth: so the answer stands only for
    a shallow document, which the canonical encoding by orjson proves for ``signed``
    (orjson refuses more than 254 levels) and :func:`_shallow` for the rest. Any
    refusal, escape or malformed shape goes to the reference path, which gives the
    verdict and the message (``tests/verify/test_verify_fast_parse.py``).
    """
    import msgspec

    try:
        doc = decoder.decode(raw)
    except (msgspec.DecodeError, _Float, RecursionError, ValueError):
        return None
    signed = doc.get("signed") if type(doc) is dict else None
    if type(signed) is not dict:
        return None
    if not all(_shallow(v) for k, v in doc.items() if k != "signed"):
        return None
    data = orjson_sorted(signed)  # no floats here: a null is None, written as json writes it
    if data is None or b"\\" in data:
        return None
    try:
        return _envelope(doc, raw, name, canonical=data)
    except Malformed:
        return None


_DIGESTS: Mapping[str, Callable[[bytes], Any]] = MappingProxyType(
    {
        "sha256": hashlib.sha256,
        "sha512": hashlib.sha512,
        "sha384": hashlib.sha384,
        "sha224": hashlib.sha224,
        "blake2b": hashlib.blake2b,
        "blake2b-256": partial(hashlib.blake2b, digest_size=32),
    }
)


def digest(algorithm: str, data: bytes) -> bytes | None:
    """Digest of ``data`` for a TUF/Notary hash name; None when the algorithm is unknown."""
    constructor = _DIGESTS.get(algorithm)
    if constructor is None:
        return None
    result: bytes = constructor(data).digest()
    return result


_TUF_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$"
)


def parse_tuf_time(value: Any, *, name: str) -> datetime:
    """TUF ``expires``: ``YYYY-MM-DDTHH:MM:SSZ`` exactly (what python-tuf accepts)."""
    m = _TUF_TIME.match(value) if isinstance(value, str) else None
    if m is None:
        raise Malformed(f"{name}: 'expires' {str(value)[:40]!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        year, month, day, hour, minute, second = map(int, m.groups())
        parsed = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as e:
        raise Malformed(f"{name}: 'expires' {value!r} is not a valid date") from e
    return parsed


def parse_notary_time(value: Any, *, name: str) -> datetime:
    """Notary ``expires``: Go RFC 3339 (nanoseconds, offsets)."""
    m = _RFC3339.match(value) if isinstance(value, str) else None
    if m is None:
        raise Malformed(f"{name}: 'expires' {str(value)[:40]!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    fraction = m.group(7) or ""
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = m.group(8)
    try:
        if zone in ("Z", "z"):
            tz = UTC
        else:
            sign = 1 if zone[0] == "+" else -1
            delta = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            tz = UTC if delta == timedelta(0) else _fixed(sign * delta)
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise Malformed(f"{name}: 'expires' {value!r} is not a valid time") from e


def _fixed(offset: timedelta) -> Any:
    from datetime import timezone

    return timezone(offset)
