"""Root rotation in a real 80x24 terminal: tmux runs ``trustkeep ceremony DIR``, send-keys
drives it keyboard-only (tick, review, stage, sign, merge a travelled copy, publish)."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest
from rotation_support import bob_copy, rotation_world, updater
from tmux_support import TRUSTKEEP, Tmux
from tui_support import ADMIN_PASSPHRASE, Ceremony

pytestmark = pytest.mark.interop


def _tick(tmux: Tmux, echoed: str, tries: int = 6) -> None:
    """In the focused list, tick the entry whose name the "chosen —" line then echoes."""
    tmux.keys("Down")
    for _ in range(tries):
        time.sleep(0.3)
        tmux.keys("Space")
        time.sleep(0.5)
        if echoed in tmux.screen().replace("\n", " "):
            return
        tmux.keys("Space")  # not this one: untick it, next
        time.sleep(0.3)
        tmux.keys("Down")
    raise AssertionError(f"{echoed!r} never chosen:\n{tmux.screen()}")


def _confirm(tmux: Tmux, title: str) -> None:
    tmux.wait_for(title)
    tmux.tick_and_press("I have read this review")


def _sign(tmux: Tmux, who: str, shown: list[str]) -> None:
    """The focused "Sign as" button: its review ticked, then the passphrase, masked."""
    tmux.wait_for(f"Sign as {who}")
    time.sleep(0.3)
    tmux.keys("Enter")
    _confirm(tmux, f"Sign root v2 as {who}")
    tmux.wait_for("Passphrase for key")
    tmux.keys(ADMIN_PASSPHRASE, literal=True)
    shown.append(tmux.wait_for("•" * len(ADMIN_PASSPHRASE)))
    tmux.keys("Enter")


def test_rotation_in_a_real_terminal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    h = rotation_world(ceremony)
    v1 = (ceremony.repo / "root.json").read_bytes()
    env = {"TERM": "xterm-256color", "TRUSTKEEP_HOME": str(ceremony.admin_home)}
    transcript = shlex.quote(str(tmp_path / "t.jsonl"))
    repo = shlex.quote(str(ceremony.repo))
    tmux.start(
        f"{shlex.quote(str(TRUSTKEEP))} ceremony {repo} --transcript {transcript}; "
        "echo exit=$?; read done",
        env,
    )
    tmux("resize-window", "-t", "ceremony", "-x", "80", "-y", "24")
    shown = [tmux.wait_for("status: OK")]
    size = tmux("display-message", "-p", "-t", "ceremony", "#{pane_width}x#{pane_height}")
    assert size.strip() == "80x24"
    tmux.keys("k")
    shown.append(tmux.wait_for("Root rotation: root v1"))
    _tick(tmux, "remove: bob (")
    tmux.keys("Tab")
    _tick(tmux, "add: carol (")
    tmux.keys("C-r")
    _confirm(tmux, "Stage root v2")
    shown.append(tmux.wait_for("signed by old root: 0 of 2, new root: 0 of 2"))
    _sign(tmux, "alice", shown)
    tmux.wait_for("signed by old root: 1 of 2, new root: 1 of 2")
    copy = bob_copy(ceremony)  # bob signed a travelled copy in his own store
    tmux.keys("m")
    time.sleep(0.3)
    tmux.keys(str(copy), literal=True)
    tmux.keys("Enter")
    shown.append(tmux.wait_for("new root: 1 of 2 — waiting for carol"))
    _sign(tmux, "carol", shown)
    shown.append(tmux.wait_for("every threshold met"))
    tmux.keys("p")
    _confirm(tmux, "Publish")
    shown.append(tmux.wait_for("published:"))
    tmux.keys("Escape")
    tmux.wait_for("status: OK")
    tmux.keys("q")
    tmux.wait_for("exit=0")
    for screen in shown:
        assert ADMIN_PASSPHRASE not in screen
        assert all(len(line) <= 80 for line in screen.splitlines())
    assert (ceremony.repo / "2.root.json").read_bytes() == (
        ceremony.repo / "root.json"
    ).read_bytes()
    up, _ = updater(ceremony.repo, tmp_path / "client", bootstrap=v1)
    up.refresh()
    assert (tmp_path / "client" / "root.json").read_bytes() == (
        ceremony.repo / "2.root.json"
    ).read_bytes()
    assert h.carol in (ceremony.repo / "2.root.json").read_text()
