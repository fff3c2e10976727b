"""Role names and the file names they map to, safely (no path ever leaves the directory)."""

from __future__ import annotations

import re
from urllib.parse import quote

from trustkeep.errors import InputError

__all__ = [
    "NOTARY_ROLE_RE",
    "TOP_LEVEL_ROLES",
    "role_filename",
    "validate_notary_role_name",
    "validate_tuf_role_name",
]

TOP_LEVEL_ROLES = ("root", "targets", "snapshot", "timestamp")
NOTARY_ROLE_RE = re.compile(r"^targets/[-a-z0-9_/]+$")
_MAX_ROLE_NAME = 255


def validate_tuf_role_name(name: str) -> str:
    """Refuse names that are empty, too long, or carry NUL / control characters.

    ``/``, ``..`` and non-ASCII are legal TUF role names; they are made safe by
    :func:`role_filename`, never by rejecting them.
    """
    if not name:
        raise InputError("role name is empty")
    if len(name) > _MAX_ROLE_NAME:
        raise InputError(f"role name is longer than {_MAX_ROLE_NAME} characters: {name[:40]!r}…")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InputError(f"role name {name!r} contains NUL or control characters")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise InputError(f"role name {name!r} is not valid UTF-8 text")
    return name


def validate_notary_role_name(name: str) -> str:
    if len(name) >= 256 or not NOTARY_ROLE_RE.match(name) or "//" in name or name.endswith("/"):
        raise InputError(
            f"role name {name!r} is not a Notary delegation name "
            "(targets/<lowercase letters, digits, -, _, />)"
        )
    return name


def role_filename(role: str, version: int | None = None) -> str:
    """The metadata file name python-tuf's client expects: URL-quoted, no ``/`` left.

    ``role_filename("a/../b", 3) == "3.a%2F..%2Fb.json"``. A quoted name contains
    no path separator, so joining it to a directory never leaves that directory
    (``..`` becomes the plain file name ``...json``, as python-tuf's client asks).
    """
    quoted = quote(role, safe="")
    name = f"{quoted}.json"
    return f"{version}.{name}" if version is not None else name
