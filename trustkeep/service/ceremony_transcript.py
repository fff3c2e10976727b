"""The transcript file: hash-chained JSON lines plus their Markdown rendering.

Every append rewrites both files atomically (temporary file, fsync, rename), so a crash
leaves each one as it was or with the new entry. Fields are names, keyids, fingerprints
and digests; the core refuses field names that look like secrets.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from trustkeep.adapters.atomic import atomic_write, ensure_private_dir
from trustkeep.core import transcript as chain
from trustkeep.errors import InputError, StorageError

__all__ = ["TRANSCRIPT_NAME", "Transcript", "default_transcript", "verify_transcript"]

TRANSCRIPT_NAME = "ceremony-transcript.jsonl"
_MAX_TRANSCRIPT = 16 * 1024 * 1024


def default_transcript(home: Path) -> Path:
    """Where the transcript goes unless the user names a file: the home."""
    return home / TRANSCRIPT_NAME


def markdown_path(path: Path) -> Path:
    return path.with_suffix(".md")


def _read(path: Path) -> bytes:
    try:
        if not path.exists():
            return b""
        if path.stat().st_size > _MAX_TRANSCRIPT:
            raise StorageError(f"{path}: transcript is over 16 MB; start a new one")
        return path.read_bytes()
    except OSError as e:
        raise StorageError(f"{path}: cannot read the transcript: {e.strerror}") from e


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line]


class Transcript:
    """``Transcript(path)``: append entries (any thread; one at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.markdown = markdown_path(path)
        self._lock = threading.Lock()

    def append(
        self,
        step: str,
        fields: Mapping[str, chain.FieldValue],
        *,
        now: datetime | None = None,
    ) -> chain.Entry:
        when = (now or datetime.now(UTC)).astimezone(UTC)
        with self._lock:
            lines = _lines(_read(self.path))
            checked = chain.check_chain(lines) if lines else None
            if checked is not None and not checked.ok:
                raise StorageError(
                    f"{self.path}: the transcript's hash chain is broken "
                    f"({checked.problems[0]}); start a new transcript"
                )
            head = checked.head if checked is not None else chain.GENESIS
            try:
                line = chain.encode_entry(
                    seq=len(lines) + 1, when=when, step=step, fields=fields, prev=head
                )
            except ValueError as e:
                raise InputError(f"{self.path}: {e}") from e
            lines.append(line)
            entries = [*(checked.entries if checked else ()), chain.parse_entry(line)]
            self._write(lines, entries, chain.entry_hash(line))
            return entries[-1]

    def _write(self, lines: list[bytes], entries: list[chain.Entry], head: str) -> None:
        if not self.path.parent.exists():
            ensure_private_dir(self.path.parent)
        atomic_write(self.path, b"\n".join(lines) + b"\n", mode=0o600)
        text = chain.render_markdown(entries, head)
        atomic_write(self.markdown, text.encode("utf-8"), mode=0o600)


def verify_transcript(path: Path, *, expect_head: str | None = None) -> chain.ChainCheck:
    """The chain check of ``path``; the head recorded by its Markdown rendering is checked
    too when no ``expect_head`` is given and the rendering exists."""
    if not path.is_file():
        raise InputError(f"{path}: no such transcript file")
    data = _read(path)
    if expect_head is None:
        md = markdown_path(path)
        if md.is_file() and md != path:
            expect_head = chain.markdown_head(md.read_text(encoding="utf-8", errors="replace"))
    return chain.check_chain(_lines(data), expect_head=expect_head)
