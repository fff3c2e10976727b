"""The bytes of a metadata file's ``signed`` value as written, to verify without re-encoding.

A signer signs the canonical JSON of ``signed``. Writers that store exactly
those bytes (Notary; python-tuf's, go-tuf's and tough's compact output) make
re-canonicalising the parsed object redundant. So the verifier first checks a
signature over the ``signed`` value's bytes as written (the *candidate*), and
canonicalises the parsed object (the reference path) only when that does not
verify.

Why this never changes a verdict: if a signature verifies over the candidate
X, the key holder signed exactly X. Key holders sign canonical JSON only, so X
is the canonical form of what they meant, and ``json.loads(X)`` is the
``signed`` object this file holds (X is its exact span, parsed by the same
decoder), so canonicalising that object gives X again: the reference path
accepts the same signature. Every signature the reference path accepts is
still tried on it. Files whose candidate does not verify (pretty-printed,
unsorted keys, escapes, duplicate keys, a bad signature) take the reference
path, at the cost of one more signature check.

The argument rests on "key holders sign canonical JSON only": a key holder who
signed some non-canonical byte string (duplicate keys, say) that is then used as
``signed`` would be accepted here and refused by the reference path. TUF and
Notary signers canonicalise before signing, so that needs a misbehaving signer.
The parse-time ``malformed`` finding for a ``signed`` value without a canonical
form (a lone surrogate, only reachable through a ``\\u`` escape) is kept: such
files get no candidate and are canonicalised at once.

The top-level object is parsed piecewise with the json module's own C scanner
so the exact character span of the ``signed`` value (the last one, as
``json.loads`` keeps) is known; anything unusual (a BOM, UTF-16, invalid
UTF-8, a syntax error) returns None and the caller parses the reference way,
which also produces the error message.
"""

from __future__ import annotations

import json.decoder
from collections.abc import Callable
from typing import Any

__all__ = ["Scanner", "candidate_bytes", "scanner_of", "split_envelope"]

#: json's C ``scan_once(text, index) -> (value, end)`` (raises StopIteration when no value)
Scanner = Callable[[str, int], tuple[Any, int]]

#: json's C ``scanstring(text, index_after_quote, strict) -> (string, end)`` (not in typeshed)
_scanstring: Callable[[str, int, bool], tuple[str, int]]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


def scanner_of(decoder: json.JSONDecoder) -> Scanner:
    """The decoder's value scanner: same hooks and strictness as ``decoder.decode``."""
    scan: Scanner = decoder.scan_once  # type: ignore[attr-defined]
    return scan


_WS = " \t\n\r"


def split_envelope(raw: bytes, scan_once: Scanner) -> tuple[dict[str, Any], bytes | None] | None:
    """``(document, signed_raw)`` exactly as ``json.loads(raw)`` would parse the document.

    ``signed_raw`` is the byte span of the top-level ``signed`` value (None when
    absent). Returns None when the document is not a plain UTF-8 JSON object that
    this scanner handles; the caller then falls back to ``json.loads``.
    """
    ascii_only = raw.isascii()
    try:
        text = raw.decode("ascii" if ascii_only else "utf-8")
    except UnicodeDecodeError:
        return None
    try:
        found = _scan_object(text, scan_once)
    except (ValueError, StopIteration, RecursionError, IndexError):
        return None
    if found is None:
        return None
    doc, span = found
    if span is None:
        return doc, None
    start, end = span
    return doc, raw[start:end] if ascii_only else text[start:end].encode("utf-8")


def _skip(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def _scan_object(
    text: str, scan_once: Scanner
) -> tuple[dict[str, Any], tuple[int, int] | None] | None:
    """The top-level object, mirroring json's object parser (duplicate keys: last wins)."""
    i = _skip(text, 0)
    if text[i : i + 1] != "{":
        return None
    doc: dict[str, Any] = {}
    span: tuple[int, int] | None = None
    i = _skip(text, i + 1)
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            if text[i : i + 1] != '"':
                return None
            key, i = _scanstring(text, i + 1, True)
            if text[i : i + 1] != ":":  # compact files: no whitespace to skip
                i = _skip(text, i)
                if text[i : i + 1] != ":":
                    return None
            start = i + 1
            if text[start : start + 1] in _WS:
                start = _skip(text, start)
            value, i = scan_once(text, start)
            doc[key] = value
            if key == "signed":
                span = (start, i)
            sep = text[i : i + 1]
            if sep in _WS:
                i = _skip(text, i)
                sep = text[i : i + 1]
            if sep == "}":
                i += 1
                break
            if sep != ",":
                return None
            i = _skip(text, i + 1)
    if _skip(text, i) != len(text):
        return None
    return doc, span


#: pretty-printers break the line right after the opening brace; looking further only
#: costs time (a later line break merely makes the candidate fail to verify)
_HEAD = 64


def candidate_bytes(signed_raw: bytes) -> bytes | None:
    """The bytes to try a signature over first: ``signed_raw`` as written, or None.

    None (the caller canonicalises at once) when ``signed_raw`` holds a ``\\u``
    escape: canonical JSON writes none, and a lone surrogate must stay a
    ``malformed`` finding at parse time, as the reference path reports it. Also
    None when it is pretty-printed (a line break near the start), only to save a
    signature check that cannot succeed: removing the whitespace safely costs as
    much as re-encoding. Any other non-canonical candidate just fails to verify.
    """
    if b"\n" in signed_raw[:_HEAD]:
        return None
    if b"\\" in signed_raw and b"\\u" in signed_raw:  # one-byte search first: much faster
        return None
    return signed_raw
