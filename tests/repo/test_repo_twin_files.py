"""Twin files (``1.root.json`` beside ``root.json``) that cannot be canonical JSON.

A float, NaN or a lone surrogate in a twin: every command that reads the
repository exits 2 with one line naming the file, and nothing changes on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TWIN_EDITS = {
    "float": lambda s: s.replace('"threshold": 2', '"threshold": 2.5', 1),
    "nan": lambda s: s.replace('"threshold": 2', '"threshold": NaN', 1),
    "lone surrogate": lambda s: s.replace('"_type": "root"', '"_type": "root", "x": "\\ud800"', 1),
}
COMMANDS = [["status"], ["root", "show"], ["targets", "list"], ["snapshot"], ["refresh"]]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.mark.parametrize("edit", TWIN_EDITS, ids=list(TWIN_EDITS))
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_uncanonical_twin_is_an_input_error(
    tk: Any, basic_repo: tuple[Path, dict[str, str]], edit: str, command: list[str]
) -> None:
    repo, _keys = basic_repo
    twin = repo / "1.root.json"
    text = (repo / "root.json").read_text()
    assert json.loads(text)["signed"]["version"] == 1
    changed = TWIN_EDITS[edit](text)
    assert changed != text
    twin.write_text(changed)
    before = _snapshot(repo)
    code, out, err = tk(*command, str(repo))
    assert code == 2, (out, err)
    assert err.strip().splitlines() == [
        f"trustkeep: error: {twin}: not valid TUF metadata: not canonical JSON (a float, NaN "
        "or a lone surrogate)"
    ]
    assert _snapshot(repo) == before
