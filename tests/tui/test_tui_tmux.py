"""One run in a real terminal: ``trustkeep ceremony DIR`` inside tmux, driven by send-keys."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from tmux_support import TRUSTKEEP, Tmux
from tui_support import BOB_PASSPHRASE, Ceremony, root_verification

pytestmark = pytest.mark.interop


def test_ceremony_in_a_real_terminal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    transcript = tmp_path / "transcript.log"
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
    result = root_verification(ceremony.repo / "staged" / "root.json")
    assert result.verified and ceremony.keyids["bob"] in result.signed
    assert BOB_PASSPHRASE not in transcript.read_text()
