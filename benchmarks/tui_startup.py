"""TUI start to first frame (not a test: figures move between runs; goal under 1 s).

Three figures: ``trustkeep ceremony`` in a real terminal (tmux), from the command to the
home screen on the pane (Python start-up, imports, first frame); the floor, a bare
Textual app showing one line the same way (interpreter + Textual + a first frame); and
in-process, from ``CeremonyApp(...)`` to the home screen mounted under ``App.run_test``.
The load average is printed with them (the machine may be shared).
Run: .venv/bin/python benchmarks/tui_startup.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TRUSTKEEP = Path(sys.executable).with_name("trustkeep")
HOME_TEXT = "What do you want to do?"


#: the floor: a Textual app with one line of text, nothing else
BARE_APP = f"""
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static({HOME_TEXT!r})
Bare().run()
"""


def terminal_start(home: Path, program: str | None = None) -> float:
    """Seconds from starting ``trustkeep ceremony`` in tmux to the home screen shown
    (with ``program``: that Python source instead, to its text shown)."""
    socket = f"tk-bench-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket]
    command = f"env TERM=xterm-256color TRUSTKEEP_HOME={home} {TRUSTKEEP} ceremony"
    if program is not None:
        script = home.parent / "bare_app.py"
        script.write_text(program)
        command = f"env TERM=xterm-256color {sys.executable} {script}"
    start = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "40", command], check=True)
    try:
        while True:
            pane = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True
            ).stdout
            if HOME_TEXT in pane:
                return time.perf_counter() - start
            if time.perf_counter() - start > 30:
                raise RuntimeError("the home screen never appeared")
            time.sleep(0.005)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def in_process(home: Path) -> float:
    """Seconds from building the app to its home screen mounted (headless)."""
    from trustkeep_tui import CeremonyApp, TuiSecrets

    from trustkeep.service import Service

    async def run() -> float:
        start = time.perf_counter()
        secrets = TuiSecrets()
        app = CeremonyApp(Service(home, secrets), secrets, transcript=home / "t.jsonl")
        async with app.run_test(size=(120, 40)) as pilot:
            while type(app.screen).__name__ != "HomeScreen":
                await pilot.pause(0.001)
            await pilot.pause()
            return time.perf_counter() - start

    return asyncio.run(run())


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    import trustkeep_tui
    from repo_bench import compile_bytecode

    compile_bytecode()  # as an installed package is (the TUI package too)
    tui_dir = str(Path(trustkeep_tui.__file__).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", tui_dir], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        print(f"load average {os.getloadavg()}; {rounds} rounds")
        print(f"{'measure':<44}{'median s':>10}{'min s':>10}{'max s':>10}")
        if shutil.which("tmux"):
            rows = (
                ("trustkeep ceremony -> home screen (tmux)", None),
                ("floor: bare Textual app -> text (tmux)", BARE_APP),
            )
            for label, program in rows:
                runs = [terminal_start(home, program) for _ in range(rounds)]
                print(
                    f"{label:<44}{statistics.median(runs):>10.3f}{min(runs):>10.3f}"
                    f"{max(runs):>10.3f}"
                )
        runs = [in_process(home) for _ in range(rounds)]
        print(
            f"{'CeremonyApp -> home screen (in process)':<44}"
            f"{statistics.median(runs):>10.3f}{min(runs):>10.3f}{max(runs):>10.3f}"
        )
        print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
