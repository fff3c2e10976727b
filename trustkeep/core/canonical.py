"""Canonical JSON (OLPC, as TUF signs it), encoded by a C encoder when that is exact.

securesystemslib's ``encode_canonical`` walks the document in Python: for a role of
100,000 targets that is most of the time of signing it. A C encoder with sorted keys
and no spaces (orjson; ``json.dumps`` where orjson cannot encode) writes the same bytes
unless a string holds a backslash, a quote or a control character (canonical JSON
escapes only ``\\`` and ``"``; the encoders escape more) or a number is a float
(canonical JSON has none). Both show in the output, so the fast form is checked there;
where it could differ the caller uses python-tuf's own encoding.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["compact_sorted", "fast_canonical", "orjson_sorted", "pretty_sorted"]

_STRING = re.compile(rb'"[^"]*"')
_FLOAT = re.compile(rb"[0-9][.eE]")  # outside strings only numbers have digits
_INDENT = re.compile(rb"\n((?:  )+)")  # orjson's two spaces per level, at each line's start
#: sorted keys; what is not plain JSON data (dataclasses, datetimes, subclasses) is
#: refused rather than converted, as json's encoder refuses it
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def fast_canonical(document: Any) -> bytes | None:
    """The canonical bytes of ``document`` by a C encoder, or None where it may differ."""
    data = compact_sorted(document)
    if data is None or b"\\" in data:  # an escape: a quote, backslash or control character
        return None
    if _FLOAT.search(_STRING.sub(b"", data)):
        return None
    return data


def orjson_sorted(document: Any) -> bytes | None:
    """Sorted keys, no whitespace, raw UTF-8, by orjson alone; None where it cannot encode
    (integers beyond 64 bits, more than 254 levels of nesting, not plain JSON data).
    Floats and NaN are written as orjson writes them: callers exclude them first."""
    try:
        return orjson.dumps(document, option=_ORJSON_OPTIONS)
    except (orjson.JSONEncodeError, TypeError, RecursionError):
        return None


def compact_sorted(document: Any) -> bytes | None:
    """Sorted keys, no whitespace, raw UTF-8, by orjson (json's C encoder where orjson
    cannot encode): canonical JSON whenever it holds no backslash escape and no float.
    None when neither encoder can write ``document`` (not JSON data, NaN, a lone surrogate).
    """
    data = orjson_sorted(document)  # None e.g. for ints beyond 64 bits
    if data is not None and b"null" not in data:  # orjson writes NaN and infinities as null
        return data
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError, RecursionError):  # not JSON data, NaN / infinity, too deep
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None


def _one_space_per_level(match: re.Match[bytes]) -> bytes:
    return b"\n" + match[1][: len(match[1]) // 2]


def pretty_sorted(document: Any) -> bytes | None:
    """python-tuf's pretty form of ``document`` (``json.dumps(indent=1, sort_keys=True)``:
    one space per level, ``": "`` after keys, non-ASCII escaped), by orjson, or None
    where orjson's output could differ: a backslash (escapes), non-ASCII, null (orjson's
    NaN), a float (number formatting), or a document orjson cannot encode. Strings never
    hold a raw newline (JSON escapes it), so every line starts with its indentation.
    """
    try:
        data = orjson.dumps(document, option=_ORJSON_OPTIONS | orjson.OPT_INDENT_2)
    except (orjson.JSONEncodeError, TypeError, RecursionError):
        return None
    if b"\\" in data or b"null" in data or not data.isascii():
        return None
    if _FLOAT.search(_STRING.sub(b"", data)):
        return None
    return _INDENT.sub(_one_space_per_level, data)
