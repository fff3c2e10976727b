"""Secrets on a real terminal (a pty): no echo, a new passphrase asked twice."""

from __future__ import annotations

import os
import pty
import select
import time
from pathlib import Path

from keystore_support import cli_env, trustkeep_cmd


class Terminal:
    """A trustkeep subprocess on a pseudo-terminal; everything it shows is kept."""

    def __init__(self, home: Path, *argv: str) -> None:
        cmd = trustkeep_cmd(*argv)
        env = cli_env(home)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.execve(cmd[0], cmd, env)
        self.screen = b""
        self.mark = 0

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False at EOF (the child is gone)."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the slave side closed
            return False
        self.screen += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 30) -> None:
        """Wait for ``text`` to appear after everything matched so far."""
        deadline = time.monotonic() + timeout
        while (at := self.screen.find(text.encode(), self.mark)) < 0:
            assert time.monotonic() < deadline, f"never saw {text!r}: {self.screen!r}"
            assert self._read(deadline - time.monotonic()), f"EOF before {text!r}: {self.screen!r}"
        self.mark = at + len(text)

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._read(min(0.5, deadline - time.monotonic())):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._read(0.2)
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, 9)
                raise AssertionError(f"still running: {self.screen!r}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_new_passphrase_is_asked_twice_without_echo(home: Path) -> None:
    term = Terminal(home, "key", "generate", "--type", "ed25519", "--name", "t")
    term.expect("New passphrase for key")
    term.type("first-try")
    term.expect("Repeat for confirmation")
    term.type("does-not-match")
    term.expect("do not match")
    term.expect("New passphrase for key")
    term.type("s3cret-typed")
    term.expect("Repeat for confirmation")
    term.type("s3cret-typed")
    assert term.finish() == 0
    assert b"generated ed25519 key" in term.screen
    for secret in (b"first-try", b"does-not-match", b"s3cret-typed"):
        assert secret not in term.screen  # never echoed
    term = Terminal(home, "key", "export-public", "t")
    assert term.finish() == 0  # public data needs no passphrase
    term = Terminal(home, "key", "passwd", "t")
    term.expect("Passphrase for key")
    term.type("wrong")
    assert term.finish() == 3
    assert b"wrong passphrase for key" in term.screen and b"wrong\r\n" not in term.screen


def test_remove_asks_for_confirmation_on_a_terminal(home: Path) -> None:
    from keystore_support import secrets_from

    from trustkeep.service.keys import KeyService

    entry = KeyService(home, secrets_from({"": "long-enough"})).generate("ed25519", name="gone")
    term = Terminal(home, "key", "remove", "gone", "--json")
    term.expect(f"Remove key {entry.label()} and its private key from the store? [y/N]")
    term.type("n")
    assert term.finish() == 2
    assert b"trustkeep: aborted" in term.screen
    assert b'"code": "aborted"' in term.screen  # --json: the error document too
    assert (home / "keys" / f"{entry.keyid}.json").exists()
    term = Terminal(home, "key", "remove", "gone")
    term.expect("[y/N]")
    term.type("y")
    assert term.finish() == 0
    assert f"removed key {entry.label()}".encode() in term.screen
    assert not (home / "keys" / f"{entry.keyid}.json").exists()
    assert not (home / "keys" / "private" / f"{entry.keyid}.pem").exists()


def test_new_passphrase_prompt_says_why_it_asks_again_and_shows_strength(home: Path) -> None:
    """An empty or too short passphrase is asked again with the reason; the one accepted
    is rated (zxcvbn) before it is confirmed."""
    term = Terminal(home, "key", "generate", "--type", "ed25519", "--name", "s")
    term.expect("New passphrase for key")
    term.type("")
    term.expect(
        "Not accepted: an empty passphrase is not accepted: the private key is encrypted "
        "under it. Asked again."
    )
    term.expect("New passphrase for key")
    term.type("qz9xw")
    term.expect("Not accepted: a passphrase of 5 characters is too short: use at least 8.")
    term.expect("New passphrase for key")
    term.type("password")
    term.expect("Strength: very weak (0/4): guessed in about less than a second offline; ")
    term.expect("This is a top-10 common password")
    term.expect("Repeat for confirmation")
    term.type("something else")
    term.expect("do not match")
    term.expect("New passphrase for key")
    term.type("correct horse battery")
    term.expect("Strength: strong (4/4): guessed in about centuries offline")
    term.expect("Repeat for confirmation")
    term.type("correct horse battery")
    assert term.finish() == 0
    assert b"generated ed25519 key" in term.screen
    assert b"correct horse" not in term.screen and b"qz9xw" not in term.screen
    term = Terminal(home, "key", "export-public", "s")
    assert term.finish() == 0
    term = Terminal(home, "key", "passwd", "s", "--allow-weak")
    term.expect("Passphrase for key")
    term.type("")
    term.expect("The passphrase is empty: asked again (Ctrl-C to stop).")
    term.expect("Passphrase for key")
    term.type("correct horse battery")
    term.expect("New passphrase for key")
    term.type("tiny")
    term.expect("Strength: weak (1/4)")
    term.expect("Repeat for confirmation")
    term.type("tiny")
    assert term.finish() == 0
