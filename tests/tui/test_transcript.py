"""The transcript file: appended atomically, private, one line per action."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trustkeep.errors import StorageError
from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService, Transcript, default_transcript

WHEN = datetime(2026, 11, 28, 18, 0, 5, tzinfo=UTC)


def test_lines_are_appended_in_order_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "t.log"
    transcript = Transcript(path)
    first = transcript.append(Path("/repo"), "opened", "ceremony on /repo", now=WHEN)
    transcript.append(Path("/repo"), "signed", "root v1\nwith a newline", now=WHEN)
    assert first == "2026-11-28T18:00:05Z  /repo  opened: ceremony on /repo"
    assert path.read_text().splitlines() == [
        first,
        "2026-11-28T18:00:05Z  /repo  signed: root v1 with a newline",
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_file_without_final_newline_is_continued_on_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    path.write_bytes(b"earlier line")
    Transcript(path).append(Path("d"), "closed", "0 signing action(s)", now=WHEN)
    assert (
        path.read_text() == "earlier line\n2026-11-28T18:00:05Z  d  closed: 0 signing action(s)\n"
    )


def test_unwritable_place_is_a_storage_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as err:
        Transcript(blocker / "t.log").append(Path("d"), "opened", "x", now=WHEN)
    assert str(blocker) in err.value.message


def test_default_transcript_is_in_the_home(tmp_path: Path) -> None:
    service = Service(tmp_path / "home", lambda _name: "unused")
    ceremony = CeremonyService(service, tmp_path / "repo", transcript=None)
    assert ceremony.transcript.path == default_transcript(tmp_path / "home")
    assert ceremony.transcript.path == tmp_path / "home" / "ceremony-transcript.log"
