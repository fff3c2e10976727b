"""Role names and the file names they map to, safely (no path ever leaves the directory)."""

from __future__ import annotations

import re
from urllib.parse import quote

from trustkeep.errors import InputError

__all__ = [
    "NOTARY_ROLE_RE",
    "TOP_LEVEL_ROLES",
    "VERSIONED_ROOT_RE",
    "role_filename",
    "validate_notary_role_name",
    "validate_tuf_role_name",
    "versioned_name",
    "versioned_root_version",
]

TOP_LEVEL_ROLES = ("root", "targets", "snapshot", "timestamp")
NOTARY_ROLE_RE = re.compile(r"^targets/[-a-z0-9_/]+$")
_MAX_ROLE_NAME = 255

#: ``N.root.json`` as clients fetch it: N a decimal without leading zeros (``02.root.json``
#: is not root v2), at most 19 digits. The one pattern for versioned root file names.
VERSIONED_ROOT_RE = re.compile(r"^([1-9][0-9]{0,18})\.root\.json$")
_VERSION_HEAD = re.compile(r"^[1-9][0-9]{0,18}$")
#: characters ``quote(..., safe="")`` leaves as they are (RFC 3986 unreserved)
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def versioned_root_version(name: str) -> int | None:
    """``N`` for a file named ``N.root.json`` (see :data:`VERSIONED_ROOT_RE`), else None."""
    m = VERSIONED_ROOT_RE.match(name)
    return int(m.group(1)) if m else None


def versioned_name(name: str) -> tuple[int, str] | None:
    """``"3.snapshot.json"`` → ``(3, "snapshot.json")``; None unless the head is a version
    written the way :func:`role_filename` writes one (same digit rule as root files)."""
    head, dot, rest = name.partition(".")
    if not dot or not rest or not _VERSION_HEAD.match(head):
        return None
    return int(head), rest


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
    quoted = role if _UNRESERVED.fullmatch(role) else quote(role, safe="")
    name = f"{quoted}.json"
    return f"{version}.{name}" if version is not None else name
