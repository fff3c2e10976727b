"""One run in a real terminal: ``trustkeep ceremony DIR`` inside tmux, driven by send-keys."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BOB_PASSPHRASE, TUI_SHIM, Ceremony
from tuf.api.metadata import Metadata, Root

pytestmark = pytest.mark.interop

TRUSTKEEP = Path(sys.executable).with_name("trustkeep")


class Tmux:
    """A tmux server on its own socket, so nothing else is touched; killed at the end."""

    def __init__(self) -> None:
        self.socket = f"trustkeep-test-{uuid.uuid4().hex[:12]}"

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        if proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-t", "ceremony")

    def wait_for(self, needle: str, *, tries: int = 300) -> str:
        """Poll the pane (at most ``tries`` times, 0.05 s apart) until ``needle`` shows."""
        for _ in range(tries):
            shown = self.screen()
            if needle in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never appeared; the screen was:\n{self.screen()}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "ceremony", *(["-l"] if literal else []), *keys)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            raise RuntimeError("tmux is not installed: tests/run.sh installs it")
        pytest.skip("tmux not installed")
    server = Tmux()
    try:
        yield server
    finally:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True)


def test_ceremony_in_a_real_terminal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    transcript = tmp_path / "transcript.log"
    env = {"TERM": "xterm-256color", "TRUSTKEEP_HOME": str(ceremony.home)}
    if TUI_SHIM is not None:
        env["PYTHONPATH"] = str(TUI_SHIM)
    tk = shlex.quote(str(TRUSTKEEP))
    missing = shlex.quote(str(tmp_path / "nothing-here"))
    script = (
        f"{tk} ceremony {missing}; echo bad-exit=$?; read go; "
        f"{tk} ceremony {shlex.quote(str(ceremony.repo))}"
        f" --transcript {shlex.quote(str(transcript))}; echo exit=$?; read done"
    )
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    tmux(
        "new-session",
        "-d",
        "-s",
        "ceremony",
        "-x",
        "120",
        "-y",
        "40",
        f"env {exports} sh -c {shlex.quote(script)}",
    )
    shown = tmux.wait_for("bad-exit=")
    assert "trustkeep: error: " in shown and "no such repository directory" in shown
    assert "bad-exit=2" in shown and "Traceback" not in shown
    tmux.keys("Enter")
    shown = tmux.wait_for("waiting for bob")
    assert "root v1 keys: 1 of 2 signatures — waiting for bob" in shown
    tmux.keys("Enter")  # sign the selected (root) row
    tmux.wait_for("(bob)  ed25519")  # bob is offered, highlighted
    tmux.keys("Tab")  # to "Sign and write"
    tmux.keys("Enter")
    tmux.wait_for("Passphrase for key")
    tmux.keys(BOB_PASSPHRASE, literal=True)
    shown = tmux.wait_for("•" * len(BOB_PASSPHRASE))
    assert BOB_PASSPHRASE not in shown
    tmux.keys("Enter")
    tmux.wait_for("threshold met)")
    tmux.keys("Escape")
    tmux.wait_for("status: OK")
    tmux.keys("q")
    shown = tmux.wait_for("exit=0")
    assert f"transcript: {transcript}" in shown
    md = Metadata[Root].from_file(str(ceremony.repo / "root.json"))
    result = md.signed.get_verification_result("root", md.signed_bytes, md.signatures)
    assert result.verified and ceremony.keyids["bob"] in result.signed
    assert BOB_PASSPHRASE not in transcript.read_text()
