"""The ceremony transcript as a hash chain: one canonical JSON object per line.

Each entry carries ``prev``, the sha256 of the previous line's bytes (64 zeros for the
first), and ``seq``, its position. Editing, removing or reordering any line breaks the
chain at that line; removing lines at the end is caught by the head (the sha256 of the
last line) that the Markdown rendering and the operator's notes record.

Pure: entries are built from values given in (the time too); no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "GENESIS",
    "ChainCheck",
    "Entry",
    "FieldValue",
    "check_chain",
    "encode_entry",
    "entry_hash",
    "markdown_head",
    "parse_entry",
    "render_markdown",
]

GENESIS = "0" * 64
_KEYS = frozenset({"seq", "time", "step", "fields", "prev"})
#: field names a transcript refuses outright: a secret must never reach it
_SECRET_WORDS = ("passphrase", "password", "secret", "pin_code", "private")

FieldValue = str | int | bool | tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    step: str
    fields: Mapping[str, FieldValue]
    prev: str


def entry_hash(line: bytes) -> str:
    """sha256 hex of one transcript line (without its newline)."""
    return hashlib.sha256(line).hexdigest()


def _check_fields(fields: Mapping[str, FieldValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if any(word in name.lower() for word in _SECRET_WORDS):
            raise ValueError(f"transcript field {name!r} looks like a secret: refused")
        if isinstance(value, tuple):
            out[name] = [str(v) for v in value]
        elif isinstance(value, str | int | bool):
            out[name] = value
        else:
            raise ValueError(f"transcript field {name!r}: {type(value).__name__} is not allowed")
    return out


def encode_entry(
    *, seq: int, when: datetime, step: str, fields: Mapping[str, FieldValue], prev: str
) -> bytes:
    """The canonical line for one entry (sorted keys, no spaces, UTF-8, no newline)."""
    doc = {
        "seq": seq,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "step": step,
        "fields": _check_fields(fields),
        "prev": prev,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_entry(line: bytes) -> Entry:
    """One line back into an :class:`Entry`; ``ValueError`` naming what is wrong."""
    try:
        doc = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not a JSON object ({e.__class__.__name__})") from e
    if not isinstance(doc, dict) or set(doc) != _KEYS:
        raise ValueError("not a transcript entry (keys seq, time, step, fields, prev)")
    seq, time, step, fields, prev = (doc[k] for k in ("seq", "time", "step", "fields", "prev"))
    if not (isinstance(seq, int) and not isinstance(seq, bool)):
        raise ValueError("seq is not an integer")
    if not all(isinstance(v, str) for v in (time, step, prev)) or not isinstance(fields, dict):
        raise ValueError("time, step and prev must be strings, fields an object")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    return Entry(seq=seq, time=time, step=step, fields=values, prev=prev)


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on a transcript: ``problems`` empty exactly when the chain holds."""

    entries: tuple[Entry, ...]
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_chain(lines: Sequence[bytes], *, expect_head: str | None = None) -> ChainCheck:
    """Check every link; each problem names its line (1-based)."""
    problems: list[str] = []
    entries: list[Entry] = []
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = parse_entry(line)
        except ValueError as e:
            problems.append(f"line {number}: {e}")
            prev = entry_hash(line)
            continue
        if entry.seq != number:
            problems.append(
                f"line {number}: entry {entry.seq} is out of place (lines removed or reordered)"
            )
        if entry.prev != prev:
            problems.append(
                f"line {number}: the previous entry's hash does not match "
                "(an earlier line was edited, removed or moved)"
            )
        entries.append(entry)
        prev = entry_hash(line)
    if not lines:
        problems.append("the transcript is empty")
    if expect_head is not None and expect_head != prev:
        problems.append(
            f"the last entry's hash is {prev[:16]}…, not the expected head {expect_head[:16]}… "
            "(entries were removed at the end, or added)"
        )
    return ChainCheck(entries=tuple(entries), head=prev, problems=tuple(problems))


def _field_text(value: FieldValue) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else "—"
    return str(value)


def render_markdown(entries: Sequence[Entry], head: str) -> str:
    """A readable rendering; its last line records the head the JSON lines must end at."""
    out = ["# trustkeep ceremony transcript", ""]
    for e in entries:
        out.append(f"## {e.seq}. {e.step} — {e.time}")
        out.append("")
        for name, value in e.fields.items():
            out.append(f"- **{name}**: `{_field_text(value)}`")
        out.append(f"- previous entry sha256: `{e.prev}`")
        out.append("")
    out.append(f"head: sha256 `{head}` after {len(entries)} entries")
    return "\n".join(out) + "\n"


_HEAD_RE = re.compile(r"^head: sha256 `([0-9a-f]{64})` after (\d+) entries$", re.M)


def markdown_head(text: str) -> str | None:
    """The head a Markdown rendering recorded (its last ``head:`` line), or None."""
    found = _HEAD_RE.findall(text)
    return found[-1][0] if found else None
