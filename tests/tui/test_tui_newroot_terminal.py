"""The new root in a real terminal (tmux): resumed after the process is killed mid-way,
and a holder whose key is on a PKCS#11 token (SoftHSM2), its PIN asked by the modal."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from hsm_support import PIN, TOKEN, softhsm_env, token_with_key
from tmux_support import TRUSTKEEP, Tmux
from tui_support import python_tuf_accepts

pytestmark = pytest.mark.interop

ALICE = "Alice-crash-passphrase-1"
BOB = "Bob-crash-passphrase-22"
ONLINE = "Online-crash-passphrase-3"


def _step(tmux: Tmux, *keys: str, literal: bool = False) -> None:
    """Keys sent in one burst may reach a field before the focus moved: one step at a time."""
    time.sleep(0.5)
    tmux.keys(*keys, literal=literal)


def _holder(tmux: Tmux, title: str, secret: str, shown: list[str]) -> None:
    tmux.wait_for(title)
    _step(tmux, secret, literal=True)
    tmux.wait_for("•" * len(secret))  # all of it in the first field, masked
    tmux.keys_to_next_row("Enter")  # to the confirmation field
    tmux.keys(secret, literal=True)
    shown.append(tmux.wait_for("confirmed"))
    tmux.keys("Enter")


def _sign(tmux: Tmux, who: str, secret: str, shown: list[str]) -> None:
    _answer(tmux, f"({who})", secret, shown)


def _answer(tmux: Tmux, prompt: str, secret: str, shown: list[str]) -> None:
    """Type ``secret`` into the modal asking ``prompt``: only bullets show."""
    tmux.wait_for(prompt)
    tmux.keys(secret, literal=True)
    shown.append(tmux.wait_for("•" * len(secret)))
    tmux.keys("Enter")


def _plan(tmux: Tmux, repo: Path, holders: str, threshold: str) -> None:
    tmux.wait_for("What do you want to do?")
    tmux.keys("n")
    tmux.wait_for("1. plan")
    _step(tmux, str(repo), literal=True)
    _step(tmux, "Tab")
    _step(tmux, "Tab")  # past the format (TUF is chosen) to the holders
    _step(tmux, holders, literal=True)
    _step(tmux, "Tab")
    _step(tmux, threshold)
    tmux.wait_for("any ")
    tmux.keys("Enter")


def _transcript_ok(transcript: Path) -> None:
    check = subprocess.run(
        [str(TRUSTKEEP), "transcript", "verify", str(transcript)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_new_root_resumes_after_the_process_is_killed(tmux: Tmux, tmp_path: Path) -> None:
    home, repo, transcript = tmp_path / "home", tmp_path / "acme", tmp_path / "t.jsonl"
    pid_file = tmp_path / "ceremony.pid"
    env = {"TERM": "xterm-256color", "TRUSTKEEP_HOME": str(home)}
    ceremony = f"{shlex.quote(str(TRUSTKEEP))} ceremony --transcript {shlex.quote(str(transcript))}"
    first = f"echo $$ > {shlex.quote(str(pid_file))}; exec {ceremony}"
    crashed = tmp_path / "crashed"
    # a killed app leaves the terminal raw: stty sane, as a user would type, then start again
    script = (
        f"sh -c {shlex.quote(first)}; echo $? > {shlex.quote(str(crashed))}; stty sane; "
        f"{ceremony}; echo exit=$?; read done"
    )
    tmux.start(script, env)
    shown: list[str] = []
    _plan(tmux, repo, "alice, bob", "2")
    _holder(tmux, "holder 1 of 2: alice", ALICE, shown)
    tmux.wait_for("holder 2 of 2: bob")  # alice's key is made and the draft saved
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the terminal's process dies here
    shown.append(tmux.wait_for("(1/2 keys)"))  # the unfinished ceremony, on the new home
    assert crashed.read_text().strip() == "137"  # killed by SIGKILL
    assert not repo.exists()
    _step(tmux, "u")  # to the unfinished ceremonies
    _step(tmux, "Enter")
    _holder(tmux, "holder 2 of 2: bob", BOB, shown)
    _holder(tmux, "targets and online keys", ONLINE, shown)
    shown.append(tmux.wait_for("every holder must sign: one lost key"))
    tmux.tick_and_press("I have read the review")
    _sign(tmux, "alice", ALICE, shown)
    _sign(tmux, "bob", BOB, shown)
    _sign(tmux, "acme-targets", ONLINE, shown)
    _sign(tmux, "acme-online", ONLINE, shown)
    shown.append(tmux.wait_for("New root written (complete)"))
    tmux.wait_for("TUF bootstrap root (clients")
    _step(tmux, "Enter")  # Done
    shown.append(tmux.wait_for("new root written in"))
    tmux.keys("q")
    tmux.wait_for("exit=0")
    python_tuf_accepts(repo)
    root = json.loads((repo / "root.json").read_text())["signed"]["roles"]["root"]
    assert root["threshold"] == 2 and len(root["keyids"]) == 2
    assert list(home.glob("ceremonies/*.json")) == []
    _transcript_ok(transcript)
    recorded = transcript.read_text() + transcript.with_suffix(".md").read_text()
    for secret in (ALICE, BOB, ONLINE):
        assert all(secret not in screen for screen in shown)
        assert secret not in recorded


def test_new_root_with_the_holder_key_on_a_pkcs11_token(tmux: Tmux, tmp_path: Path) -> None:
    hsm = softhsm_env(tmp_path / "softhsm")
    token_with_key(hsm)
    home, repo, transcript = tmp_path / "home", tmp_path / "acme", tmp_path / "t.jsonl"
    env = {**hsm, "TERM": "xterm-256color", "TRUSTKEEP_HOME": str(home)}
    ceremony = f"{shlex.quote(str(TRUSTKEEP))} ceremony --transcript {shlex.quote(str(transcript))}"
    tmux.start(f"{ceremony}; echo exit=$?; read done", env)
    shown: list[str] = []
    _plan(tmux, repo, "alice", "1")
    tmux.wait_for("holder 1 of 1: alice")
    _step(tmux, "BTab")  # from the passphrase to the key type
    _step(tmux, "BTab")  # to where the key lives
    _step(tmux, "Down")
    _step(tmux, "Down")
    _step(tmux, "Space")  # PKCS#11 token
    shown.append(tmux.wait_for("the token's PIN is asked next"))
    _step(tmux, "Tab")  # to the token label
    _step(tmux, TOKEN, literal=True)
    tmux.wait_for(TOKEN)
    tmux.keys_to_next_row("Enter")  # to the key id
    tmux.keys("1")
    _step(tmux, "Enter")  # Create / import key: registers the token's public key
    _holder(tmux, "targets and online keys", ONLINE, shown)
    shown.append(tmux.wait_for_words("PKCS#11 token (key already on the token)"))  # review
    tmux.tick_and_press("I have read the review")
    _answer(tmux, f"PIN for token {TOKEN}", PIN, shown)  # signing logs in: the PIN, masked
    _sign(tmux, "acme-targets", ONLINE, shown)
    _sign(tmux, "acme-online", ONLINE, shown)
    shown.append(tmux.wait_for("New root written (complete)"))
    tmux.wait_for("TUF bootstrap root (clients")
    _step(tmux, "Enter")  # Done
    tmux.wait_for("new root written in")
    tmux.keys("q")
    tmux.wait_for("exit=0")
    python_tuf_accepts(repo)
    root = json.loads((repo / "root.json").read_text())["signed"]
    (keyid,) = root["roles"]["root"]["keyids"]
    assert root["keys"][keyid]["keytype"] == "ecdsa"
    _transcript_ok(transcript)
    recorded = transcript.read_text() + transcript.with_suffix(".md").read_text()
    assert '"location":"pkcs11"' in recorded.replace(" ", "")
    for secret in (PIN, ONLINE):
        assert all(secret not in screen for screen in shown)
        assert secret not in recorded
