"""The ceremony transcript: a hash chain of JSON lines, its Markdown rendering, and
``trustkeep transcript verify`` catching any edit, removal or reordering."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trustkeep.core.transcript import GENESIS, check_chain, encode_entry, entry_hash
from trustkeep.errors import InputError, StorageError
from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService
from trustkeep.service.ceremony_transcript import Transcript, default_transcript

WHEN = datetime(2026, 11, 28, 18, 0, 5, tzinfo=UTC)


def _three(path: Path) -> Transcript:
    t = Transcript(path)
    t.append("opened", {"directory": "/repo"}, now=WHEN)
    t.append("signed", {"role": "root", "keyid": "ab" * 32, "sha256": "cd" * 32}, now=WHEN)
    t.append("closed", {"actions": 1, "roles": ("root", "targets")}, now=WHEN)
    return t


def test_entries_chain_to_the_previous_line_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "t.jsonl"
    _three(path)
    lines = path.read_bytes().splitlines()
    docs = [json.loads(line) for line in lines]
    assert [d["seq"] for d in docs] == [1, 2, 3]
    assert docs[0]["prev"] == GENESIS
    assert docs[1]["prev"] == entry_hash(lines[0])
    assert docs[2]["prev"] == entry_hash(lines[1])
    assert docs[0] == {
        "seq": 1,
        "time": "2026-11-28T18:00:05Z",
        "step": "opened",
        "fields": {"directory": "/repo"},
        "prev": GENESIS,
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    md = path.with_suffix(".md").read_text()
    assert "## 2. signed — 2026-11-28T18:00:05Z" in md
    assert md.endswith(f"head: sha256 `{entry_hash(lines[2])}` after 3 entries\n")


def _edit(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[1].replace(b'"root"', b'"targets"'), lines[2]]


TAMPERING: dict[str, tuple[Callable[[list[bytes]], list[bytes]], str]] = {
    "an edited entry": (_edit, "line 3: the previous entry's hash does not match"),
    "a removed entry": (lambda ls: [ls[0], ls[2]], "line 2: entry 3 is out of place"),
    "reordered entries": (lambda ls: [ls[0], ls[2], ls[1]], "line 2: entry 3 is out of place"),
    "a removed first entry": (lambda ls: ls[1:], "line 1: entry 2 is out of place"),
    "a removed last entry": (lambda ls: ls[:2], "the last entry's hash is"),
    "garbage": (lambda ls: [*ls[:2], b"{not json"], "line 3: not a JSON object"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_verify_detects_tampering(case: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.jsonl"
    _three(path)
    assert run_cli("transcript", "verify", str(path))[0] == 0
    tamper, problem = TAMPERING[case]
    path.write_bytes(b"\n".join(tamper(path.read_bytes().splitlines())) + b"\n")
    code, out, _ = run_cli("transcript", "verify", str(path))
    assert code == 1
    assert out.startswith(f"{path}: BROKEN")
    assert problem in out
    code, out, _ = run_cli("--json", "transcript", "verify", str(path))
    doc = json.loads(out)
    assert (code, doc["schema"], doc["valid"]) == (1, 1, False)
    assert any(problem in p for p in doc["problems"])


def test_verify_ok_and_the_head_given_by_hand(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.jsonl"
    _three(path)
    head = entry_hash(path.read_bytes().splitlines()[-1])
    code, out, _ = run_cli("transcript", "verify", str(path), "--head", head)
    assert (code, out) == (0, f"{path}: OK — 3 entries, head sha256 {head}\n")
    path.with_suffix(".md").unlink()  # without the rendering, truncation needs --head
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join(lines[:2]) + b"\n")
    assert run_cli("transcript", "verify", str(path))[0] == 0
    assert run_cli("transcript", "verify", str(path), "--head", head)[0] == 1


def test_missing_file_is_an_input_error(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("transcript", "verify", str(tmp_path / "nope.jsonl"))
    assert (code, out) == (2, "")
    assert err == f"trustkeep: error: {tmp_path / 'nope.jsonl'}: no such transcript file\n"


def test_a_secret_field_name_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with pytest.raises(InputError) as err:
        Transcript(path).append("key", {"passphrase": "hunter2hunter2"}, now=WHEN)
    assert "looks like a secret" in err.value.message
    assert "hunter2" not in err.value.message
    assert not path.exists()


def test_appending_to_a_broken_chain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    _three(path)
    path.write_bytes(b"\n".join(path.read_bytes().splitlines()[1:]) + b"\n")
    with pytest.raises(StorageError) as err:
        Transcript(path).append("more", {}, now=WHEN)
    assert "hash chain is broken" in err.value.message


def test_unwritable_place_is_a_storage_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as err:
        Transcript(blocker / "t.jsonl").append("opened", {"x": "y"}, now=WHEN)
    assert str(blocker) in err.value.message


def test_chain_rule_on_encoded_entries() -> None:
    first = encode_entry(seq=1, when=WHEN, step="a", fields={}, prev=GENESIS)
    second = encode_entry(seq=2, when=WHEN, step="b", fields={}, prev=entry_hash(first))
    assert check_chain([first, second]).ok
    assert check_chain([first, second], expect_head=entry_hash(second)).ok
    assert not check_chain([]).ok


def test_default_transcript_is_in_the_home(tmp_path: Path) -> None:
    service = Service(tmp_path / "home", lambda _name: "unused")
    ceremony = CeremonyService(service, tmp_path / "repo", transcript=None)
    assert ceremony.transcript.path == default_transcript(tmp_path / "home")
    assert ceremony.transcript.path == tmp_path / "home" / "ceremony-transcript.jsonl"
