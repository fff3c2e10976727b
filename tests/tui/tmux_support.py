"""Driving ``trustkeep`` in a real terminal: a tmux server on its own socket."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

TRUSTKEEP = Path(sys.executable).with_name("trustkeep")


class Tmux:
    """A tmux server on its own socket, so nothing else is touched; killed by the fixture."""

    def __init__(self) -> None:
        self.socket = f"trustkeep-test-{uuid.uuid4().hex[:12]}"

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        if proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, script: str, env: Mapping[str, str]) -> None:
        """Run the shell ``script`` with ``env`` in a detached 120x40 session."""
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = f"env {exports} sh -c {shlex.quote(script)}"
        self("new-session", "-d", "-s", "ceremony", "-x", "120", "-y", "40", command)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-t", "ceremony")

    def wait_for(self, needle: str, *, tries: int = 600) -> str:
        """Poll the pane (at most ``tries`` times, 0.05 s apart) until ``needle`` shows."""
        for _ in range(tries):
            shown = self.screen()
            if needle in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never appeared; the screen was:\n{self.screen()}")

    def wait_for_words(self, needle: str, *, tries: int = 600) -> str:
        """:meth:`wait_for`, but ``needle`` may wrap: the pane's box borders and line
        breaks count as spaces (a long line in a bordered panel wraps where the panel's
        width, a scroll bar included, says)."""
        want = " ".join(needle.split())
        for _ in range(tries):
            shown = self.screen()
            if want in " ".join(shown.replace("│", " ").split()):
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never appeared; the screen was:\n{self.screen()}")

    def cursor_row(self) -> int:
        """The terminal cursor's row: Textual puts it in the focused input."""
        return int(self("display", "-p", "-t", "ceremony", "#{cursor_y}").strip())

    def keys_to_next_row(self, *keys: str, tries: int = 600) -> None:
        """Send ``keys`` that move the focus to an input on another row; return once the
        cursor is there (keys sent before the focus moved would land in the old field)."""
        before = self.cursor_row()
        self.keys(*keys)
        for _ in range(tries):
            if self.cursor_row() != before:
                return
            time.sleep(0.05)
        raise AssertionError(f"the focus never left row {before}:\n{self.screen()}")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self("send-keys", "-t", "ceremony", *(["-l"] if literal else []), *keys)

    def sign_selected_role(self, offered: str, prompt: str, secret: str) -> None:
        """From the status screen: sign the selected role with the key offered as ``offered``,
        type ``secret`` into the modal showing ``prompt`` (masked), back to "status: OK", quit."""
        self.keys("Enter")
        self.wait_for(offered)  # the key is offered, highlighted
        self.keys("Tab")  # to "Sign and write"
        self.keys("Enter")
        self.wait_for(prompt)
        self.keys(secret, literal=True)
        shown = self.wait_for("•" * len(secret))
        assert secret not in shown
        self.keys("Enter")
        self.wait_for("threshold met)")
        self.keys("Escape")
        self.wait_for("every staged change is signed")
        self.publish_from_queue()
        self.keys("q")

    def publish_from_queue(self) -> None:
        """From the status screen: g, p, tick the review, Publish, back to "status: OK"."""
        self.keys("g")
        self.wait_for("Publish writes it")
        self.keys("p")
        self.tick_and_press("I have read this review")
        self.wait_for("published:")
        self.keys("Escape")
        self.wait_for("status: OK")

    def tick_and_press(self, label: str) -> None:
        """Space on the focused checkbox ``label``; once the screen says it is ticked, Tab to
        the button the tick enabled and press it."""
        self.wait_for(label)
        self.keys("Space")
        self.wait_for("ticked: Tab, then Enter")
        self.keys("Tab")
        time.sleep(0.5)  # focus moves on the next frame
        self.keys("Enter")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
