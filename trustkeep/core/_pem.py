"""PEM blocks with RFC 1421 headers, read and written the way Go's encoding/pem does.

Notary writes its key files with Go's ``pem.Encode``: headers ``key: value``
(``Proc-Type`` first, the others sorted), a blank line, base64 in 64-character lines.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from trustkeep.errors import InputError

__all__ = ["MAX_PEM_BYTES", "PRIVATE_KEY_TYPES", "Block", "decode_all", "encode"]

#: Larger input is refused before parsing (a key file is a few kilobytes).
MAX_PEM_BYTES = 1 << 20

PRIVATE_KEY_TYPES = frozenset(
    {
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "EC PRIVATE KEY",
        "RSA PRIVATE KEY",
        "ED25519 PRIVATE KEY",
    }
)
_ENCRYPTION_HEADERS = ("Proc-Type", "DEK-Info")
_HEADER_RE = re.compile(r"^[\x21-\x39\x3b-\x7e]+$")  # printable ASCII without ':' or space
_VALUE_RE = re.compile(r"^[\x20-\x7e]*$")
_BEGIN_RE = re.compile(r"^-----BEGIN ([A-Z0-9 ]{1,64})-----[ \t\r]*$", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One PEM block: its type line, its headers (in file order) and its DER bytes."""

    type: str
    der: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_private_key(self) -> bool:
        return self.type in PRIVATE_KEY_TYPES

    @property
    def is_encrypted(self) -> bool:
        proc_type = self.headers.get("Proc-Type", "")
        return self.type == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in proc_type.upper()

    @property
    def labels(self) -> dict[str, str]:
        """Headers other than the encryption ones: Notary's ``role``, ``gun``, ``path``."""
        return {k: v for k, v in self.headers.items() if k not in _ENCRYPTION_HEADERS}

    @property
    def encryption_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k in _ENCRYPTION_HEADERS}

    def encode(self) -> bytes:
        return encode(self.type, self.der, self.headers)


def encode(block_type: str, der: bytes, headers: Mapping[str, str] | None = None) -> bytes:
    """PEM text as Go's ``pem.Encode`` writes it."""
    lines = [f"-----BEGIN {block_type}-----"]
    headers = dict(headers or {})
    order = [k for k in _ENCRYPTION_HEADERS[:1] if k in headers]
    order += sorted(k for k in headers if k not in order)
    for key in order:
        value = headers[key]
        if not _HEADER_RE.match(key) or not _VALUE_RE.match(value):
            raise InputError(f"PEM header {key!r} is not one line of printable ASCII")
        lines.append(f"{key}: {value}")
    if order:
        lines.append("")
    text = base64.b64encode(der).decode("ascii")
    lines += [text[i : i + 64] for i in range(0, len(text), 64)]
    lines.append(f"-----END {block_type}-----")
    return ("\n".join(lines) + "\n").encode("ascii")


def decode_all(data: bytes, *, source: str = "input") -> list[Block]:
    """Every PEM block in ``data``; text outside blocks is ignored.

    Raises :class:`InputError` naming ``source`` for oversized input and for a block
    that is truncated (no END line) or whose base64 is corrupt.
    """
    if len(data) > MAX_PEM_BYTES:
        raise InputError(f"{source}: too large for a key file ({len(data)} bytes)")
    text = data.decode("latin-1")
    blocks: list[Block] = []
    pos = 0
    while match := _BEGIN_RE.search(text, pos):
        block_type = match.group(1)
        end_re = re.compile(rf"^-----END {re.escape(block_type)}-----[ \t\r]*$", re.MULTILINE)
        end = end_re.search(text, match.end())
        if end is None:
            raise InputError(f"{source}: truncated PEM block {block_type} (no END line)")
        body = text[match.end() : end.start()]
        blocks.append(_parse_body(block_type, body, source))
        pos = end.end()
    return blocks


def _parse_body(block_type: str, body: str, source: str) -> Block:
    lines = body.replace("\r", "").split("\n")
    if lines and lines[0] == "":
        lines = lines[1:]
    headers: dict[str, str] = {}
    index = 0
    while index < len(lines) and ":" in lines[index]:
        key, _, value = lines[index].partition(":")
        key, value = key.strip(), value.strip()
        if not _HEADER_RE.match(key) or not _VALUE_RE.match(value):
            raise InputError(f"{source}: corrupt header in PEM block {block_type}")
        headers[key] = value
        index += 1
    if headers and index < len(lines) and lines[index].strip() == "":
        index += 1
    encoded = "".join("".join(lines[index:]).split())
    if not encoded:
        raise InputError(f"{source}: empty PEM block {block_type}")
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{source}: corrupt base64 in PEM block {block_type}") from None
    return Block(type=block_type, der=der, headers=headers)
