"""The console entry point: Ctrl-C and a closed pipe end quietly, never with a traceback."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TRUSTKEEP = [sys.executable, "-m", "trustkeep"]


def _read_until(fd: int, needle: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 1024)
            except OSError:
                break
    return seen


def test_ctrl_c_at_a_passphrase_prompt_exits_130(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTKEEP_")}
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [*TRUSTKEEP, "--home", str(tmp_path / "h"), "key", "generate", "--type", "ed25519"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        start_new_session=True,
    )
    os.close(secondary)
    try:
        assert b"passphrase" in _read_until(primary, b"passphrase").lower()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        said = _read_until(primary, b"interrupted", timeout=5)
    finally:
        proc.kill()
        os.close(primary)
    assert b"interrupted" in said
    assert b"Traceback" not in said
    assert not list((tmp_path / "h").rglob("*.pem"))


def test_ctrl_c_while_starting_has_no_traceback() -> None:
    proc = subprocess.Popen(
        [*TRUSTKEEP, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(0.3)  # inside the imports of the command modules
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert proc.returncode in (0, 130, -signal.SIGINT), err


@pytest.mark.parametrize("argv", [["--help"], ["key", "--help"]])
def test_closed_stdout_pipe_is_quiet(argv: list[str]) -> None:
    proc = subprocess.Popen(
        [*TRUSTKEEP, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before trustkeep writes
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_the_entry_point_freezes_what_is_left_before_the_interpreter_ends(
    tmp_path: Path,
) -> None:
    """After the command's output is flushed, the objects still alive are frozen (the
    shutdown's collections skip them); the exit code and the output are the command's,
    and exit handlers still run."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count()}\\n'))\n"
        "sys.argv = ['trustkeep', *sys.argv[1:]]\n"
        "from trustkeep.__main__ import entry\n"
        "entry()\n"
    )
    ok = subprocess.run([sys.executable, "-c", probe, "--version"],
                        capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert ok.returncode == 0 and "trustkeep" in ok.stdout
    frozen = int(ok.stderr.strip().rsplit("frozen=", 1)[1])
    assert frozen > 1000  # the modules' objects, frozen just before the exit
    bad = subprocess.run([sys.executable, "-c", probe, "verify", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 2 and "nowhere" in bad.stderr and "Traceback" not in bad.stderr
    assert "frozen=" in bad.stderr
