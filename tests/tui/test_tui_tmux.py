"""One run in a real terminal: ``trustkeep ceremony DIR`` inside tmux, driven by send-keys."""

from __future__ import annotations

import shlex
import subprocess
import time
from pathlib import Path

import pytest
from tmux_support import TRUSTKEEP, Tmux
from tui_support import BOB_PASSPHRASE, Ceremony, python_tuf_accepts, root_verification

pytestmark = pytest.mark.interop


def test_ceremony_in_a_real_terminal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    transcript = tmp_path / "transcript.jsonl"
    env = {"TERM": "xterm-256color", "TRUSTKEEP_HOME": str(ceremony.home)}
    tk = shlex.quote(str(TRUSTKEEP))
    missing = shlex.quote(str(tmp_path / "nothing-here"))
    script = (
        f"{tk} ceremony {missing}; echo bad-exit=$?; read go; "
        f"{tk} ceremony {shlex.quote(str(ceremony.repo))}"
        f" --transcript {shlex.quote(str(transcript))}; echo exit=$?; read done"
    )
    tmux.start(script, env)
    shown = tmux.wait_for("bad-exit=")
    assert "trustkeep: error: " in shown and "no such repository directory" in shown
    assert "bad-exit=2" in shown and "Traceback" not in shown
    tmux.keys("Enter")
    shown = tmux.wait_for("waiting for bob")
    assert "root v1 keys: 1 of 2 signatures — waiting for bob" in shown
    tmux.sign_selected_role("(bob)  ed25519", "Passphrase for key", BOB_PASSPHRASE)  # root row
    shown = tmux.wait_for("exit=0")
    assert f"transcript: {transcript}" in shown
    assert not (ceremony.repo / "staged" / "root.json").exists()  # published from the queue
    result = root_verification(ceremony.repo / "root.json")
    assert result.verified and ceremony.keyids["bob"] in result.signed
    assert BOB_PASSPHRASE not in transcript.read_text()


ALICE = "Alice-tmux-passphrase-1"
BOB = "Bob-tmux-passphrase-22"
ONLINE = "Online-tmux-passphrase-3"


def _holder(tmux: Tmux, title: str, secret: str, shown: list[str]) -> None:
    tmux.wait_for(title)
    time.sleep(0.5)  # the passphrase field is focused on the screen's first frame
    tmux.keys(secret, literal=True)
    tmux.wait_for("•" * len(secret))  # all of it in the first field, masked
    tmux.keys_to_next_row("Enter")  # to the confirmation field
    tmux.keys(secret, literal=True)
    shown.append(tmux.wait_for("confirmed"))
    tmux.keys("Enter")


def _sign(tmux: Tmux, who: str, secret: str, shown: list[str]) -> None:
    tmux.wait_for(f"({who})")
    tmux.keys(secret, literal=True)
    shown.append(tmux.wait_for("•" * len(secret)))
    tmux.keys("Enter")


def test_new_root_with_two_holders_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    home, repo, transcript = tmp_path / "home", tmp_path / "acme", tmp_path / "t.jsonl"
    env = {"TERM": "xterm-256color", "TRUSTKEEP_HOME": str(home)}
    tk = shlex.quote(str(TRUSTKEEP))
    script = f"{tk} ceremony --transcript {shlex.quote(str(transcript))}; echo exit=$?; read done"
    tmux.start(script, env)
    shown = [tmux.wait_for("What do you want to do?")]
    tmux.keys("n")
    tmux.wait_for("1. plan")
    # keys sent in one burst may reach a field before the focus moved: one step at a time
    for keys, literal in (
        ([str(repo)], True),
        (["Tab"], False),
        (["Tab"], False),  # past the format (TUF is chosen) to the holders
        (["alice, bob"], True),
        (["Tab"], False),
        (["2"], False),
    ):
        time.sleep(0.5)
        tmux.keys(*keys, literal=literal)
    shown.append(tmux.wait_for("every holder must sign"))
    tmux.keys("Enter")
    _holder(tmux, "holder 1 of 2: alice", ALICE, shown)
    _holder(tmux, "holder 2 of 2: bob", BOB, shown)
    _holder(tmux, "targets and online keys", ONLINE, shown)
    shown.append(tmux.wait_for("every holder must sign: one lost key"))  # the review, 80x24
    assert not repo.exists()
    tmux.tick_and_press("I have read the review")
    _sign(tmux, "alice", ALICE, shown)
    _sign(tmux, "bob", BOB, shown)
    _sign(tmux, "acme-targets", ONLINE, shown)
    _sign(tmux, "acme-online", ONLINE, shown)
    shown.append(tmux.wait_for("New root written (complete)"))
    tmux.wait_for("TUF bootstrap root (clients")  # pins load in a worker; then Done is focused
    time.sleep(0.5)
    tmux.keys("BTab", "Enter")  # the Save button of the TUF bootstrap root
    shown.append(tmux.wait_for("saved TUF bootstrap root"))
    tmux.keys("Tab", "Enter")  # Done
    shown.append(tmux.wait_for("new root written in"))
    tmux.keys("q")
    tmux.wait_for("exit=0")
    python_tuf_accepts(repo)
    assert (tmp_path / "acme.trusted-root.json").read_bytes() == (repo / "root.json").read_bytes()
    check = subprocess.run(
        [str(TRUSTKEEP), "transcript", "verify", str(transcript)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    recorded = transcript.read_text() + transcript.with_suffix(".md").read_text()
    for secret in (ALICE, BOB, ONLINE):
        assert all(secret not in screen for screen in shown)
        assert secret not in recorded
