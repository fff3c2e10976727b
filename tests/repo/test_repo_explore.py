"""Regressions found by exploratory testing of the repository commands.

Each was an internal error (exit 4) or a hang; each is now one line, exit 2, nothing
changed on disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _one_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("trustkeep: error:"), err
    assert "Traceback" not in err and "internal error" not in err
    for needle in needles:
        assert needle in lines[0], err


def test_delegation_add_non_utf8_role_name(tk, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("dele")
    before = _tree(repo)
    name = os.fsdecode(b"a\xffb")  # what a shell passes for a non-UTF-8 argument
    code, _, err = tk("delegation", "add", str(repo), name, "--key", "dele", "--paths", "x/*")
    _one_error(code, err, "not valid UTF-8")
    assert _tree(repo) == before


def test_targets_add_non_utf8_file_name(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    dist = tmp_path / "dist"
    dist.mkdir()
    target = dist / os.fsdecode(b"n\xff.txt")
    target.write_bytes(b"payload")
    before = _tree(repo)
    code, _, err = tk("targets", "add", str(repo), str(target), "--base", str(dist))
    _one_error(code, err, "not valid UTF-8")
    assert _tree(repo) == before


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_targets_add_special_file_refused_without_hanging(  # type: ignore[no-untyped-def]
    tk, basic_repo, tmp_path, kind
) -> None:
    repo, _ = basic_repo
    if kind == "fifo":
        special = tmp_path / "pipe.bin"
        os.mkfifo(special)  # opening it for reading used to wait forever for a writer
        base = tmp_path
    else:
        special, base = Path("/dev/zero"), Path("/dev")  # reading it never ends
    before = _tree(repo)
    code, _, err = tk("targets", "add", str(repo), str(special), "--base", str(base))
    _one_error(code, err, str(special), "not a regular file")
    assert _tree(repo) == before


def test_targets_add_symlink_loop(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    loop = tmp_path / "loop.txt"
    loop.symlink_to("loop.txt")
    before = _tree(repo)
    code, _, err = tk("targets", "add", str(repo), str(loop), "--base", str(tmp_path))
    _one_error(code, err, "loop.txt", "symbolic link loop")
    assert _tree(repo) == before


def _with_version(repo: Path, text: str) -> None:
    raw = (repo / "targets.json").read_text()
    doc = json.loads(raw)
    doc["signed"]["version"] = "@@V@@"
    (repo / "targets.json").write_text(json.dumps(doc).replace('"@@V@@"', text))


@pytest.mark.parametrize("version", ["NaN", "Infinity", "1.5", "true"])
@pytest.mark.parametrize("command", ["sign", "status", "snapshot"])
def test_non_integer_version_is_input_error(  # type: ignore[no-untyped-def]
    tk, basic_repo, version, command
) -> None:
    repo, _ = basic_repo
    _with_version(repo, version)
    before = _tree(repo)
    argv = {
        "sign": ("sign", str(repo / "targets.json"), "--key", "tgt"),
        "status": ("status", str(repo)),
        "snapshot": ("snapshot", str(repo)),
    }[command]
    code, _, err = tk(*argv)
    _one_error(code, err, "targets.json", "is not an integer")
    assert _tree(repo) == before


@pytest.mark.parametrize("role", ["targets", "root"])
@pytest.mark.parametrize("command", ["sign", "status"])
def test_float_inside_signed_is_input_error(  # type: ignore[no-untyped-def]
    tk, basic_repo, role, command
) -> None:
    repo, _ = basic_repo
    for name in [f"{role}.json"] + (["1.root.json"] if role == "root" else []):
        doc = json.loads((repo / name).read_text())
        doc["signed"]["x-custom"] = 1.5  # canonical JSON has no floats: nothing can sign this
        (repo / name).write_text(json.dumps(doc))
    before = _tree(repo)
    key = "alice" if role == "root" else "tgt"
    travelled = repo.parent / "travelled"  # a copy signed away from the repository
    travelled.mkdir()
    for name in {f"{role}.json", "root.json"}:
        (travelled / name).write_bytes((repo / name).read_bytes())
    argv = {
        "sign": ("sign", str(travelled / f"{role}.json"), "--key", key),
        "status": ("status", str(repo)),
    }[command]
    code, _, err = tk(*argv)
    _one_error(code, err, f"role '{role}'", "canonical JSON")
    assert _tree(repo) == before


def test_root_rotate_to_the_same_key_changes_nothing(tk, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _tree(repo)
    code, _, err = tk("root", "rotate", str(repo), "--old", "alice", "--new", "alice")
    _one_error(code, err, "role 'root'", "changes nothing")
    assert _tree(repo) == before  # used to write root v2 with the very same keys
    code, _, err = tk(
        "root", "rotate", str(repo), "--old", "alice", "--new", "alice", "--threshold", "3"
    )
    assert code == 0, err  # a threshold change alone is still a rotation
    assert (repo / "2.root.json").is_file()


def _edit_root(repo: Path, edit) -> None:  # type: ignore[no-untyped-def]
    for name in ("root.json", "1.root.json"):
        doc = json.loads((repo / name).read_text())
        edit(doc["signed"])
        (repo / name).write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: s["roles"]["root"].__setitem__("keyids", [1]), "non-string keyid"),
        (lambda s: s.__setitem__("keys", {}), "not in its 'keys'"),
    ],
    ids=["int-keyid", "keyid-without-key"],
)
@pytest.mark.parametrize("command", [("status",), ("root", "show"), ("snapshot",)])
def test_root_role_keyids_checked(tk, basic_repo, edit, needle, command) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    _edit_root(repo, edit)  # status crashed on sorting int keyids, root show on a KeyError
    before = _tree(repo)
    code, _, err = tk(*command, str(repo))
    _one_error(code, err, "root.json", "role 'root'", needle)
    assert _tree(repo) == before


@pytest.mark.parametrize("bad_name", ["true", "1", '"\\ud800"'])
@pytest.mark.parametrize("command", [("status",), ("delegation", "list"), ("snapshot",)])
def test_delegated_role_name_must_be_text(  # type: ignore[no-untyped-def]
    tk, basic_repo, make_keys, bad_name, command
) -> None:
    repo, _ = basic_repo
    make_keys("dele")
    code, _, err = tk("delegation", "add", str(repo), "rel", "--key", "dele", "--paths", "r/*")
    assert code == 0, err
    raw = (repo / "targets.json").read_text()
    assert raw.count('"name": "rel"') == 1
    (repo / "targets.json").write_text(raw.replace('"name": "rel"', f'"name": {bad_name}'))
    before = _tree(repo)
    code, _, err = tk(*command, str(repo))  # was a TypeError / UnicodeEncodeError (exit 4)
    _one_error(code, err, "targets.json", "is not text")
    assert _tree(repo) == before


def test_failed_write_leaves_delegator_untouched(tk, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    """Delegated files are written before their delegator: a run that dies part-way
    (Ctrl-C, disk full) never leaves targets.json naming bins whose files are missing."""
    repo, _ = basic_repo
    make_keys("binkey")
    (repo / "bins-f.json").mkdir()  # the last bin cannot be written
    before = (repo / "targets.json").read_bytes()
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")
    assert code == 3, err
    assert "bins-f.json" in err and "internal error" not in err
    assert (repo / "targets.json").read_bytes() == before
    code, _, err = tk("status", str(repo))
    assert code == 0, err


@pytest.mark.parametrize(
    "argv",
    [
        ("repo", "init", "", "--root-key", "alice", "--targets-key", "tgt",
         "--snapshot-key", "snap", "--timestamp-key", "ts"),
        ("snapshot", ""),
        ("delegation", "add", "", "rel", "--key", "dele", "--paths", "r/*"),
    ],
    ids=["init", "snapshot", "delegation"],
)  # fmt: skip
def test_empty_directory_argument_is_refused(  # type: ignore[no-untyped-def]
    tk, tmp_path, monkeypatch, argv
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # "" used to mean the current directory: init wrote here
    code, out, err = tk(*argv)
    assert code == 2, err
    assert "DIRECTORY" in err and "is empty" in err and out == ""
    assert list(work.iterdir()) == []
