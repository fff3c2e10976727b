"""Canonical JSON (OLPC, as TUF signs it), encoded by the C JSON encoder when that is exact.

securesystemslib's ``encode_canonical`` walks the document in Python: for a role of
100,000 targets that is most of the time of signing it. ``json.dumps`` with sorted keys
and no spaces writes the same bytes unless a string holds a backslash, a quote or a
control character (canonical JSON escapes only ``\\`` and ``"``; ``json`` escapes more)
or a number is a float (canonical JSON has none). Both show in the output, so the fast
form is checked there; where it could differ the caller uses python-tuf's own encoding.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["fast_canonical"]

_STRING = re.compile(r'"[^"]*"')
_FLOAT_MARKS = (".", "e+", "e-", "E")


def fast_canonical(document: Any) -> bytes | None:
    """The canonical bytes of ``document`` by the C encoder, or None where it may differ."""
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError):  # not JSON at all, or NaN / infinity
        return None
    if "\\" in text:  # an escape: a quote, backslash or control character in a string
        return None
    structure = _STRING.sub("", text)
    if any(mark in structure for mark in _FLOAT_MARKS):
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
