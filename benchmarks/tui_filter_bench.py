"""The ceremony TUI's filters over a repository of 1,024 hashed bins (not a test: figures
move between runs).

Per screen: the median time of one filter step (what a pause in typing costs) for the
status table (1,028 rows) and the delegations tree (1,024 bins), and the time to load
the screen once (which the filter never repeats).
Run: .venv/bin/python benchmarks/tui_filter_bench.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PASSPHRASE = "bench-passphrase"
NEEDLES = ("b", "bi", "bins-0", "bins-00", "bins-3ff", "")


def build(base: Path) -> Path:
    from trustkeep.service import Service

    service = Service(base / "home", lambda _name: PASSPHRASE)
    for name in ("root", "tgt", "snap", "ts"):
        service.keys.generate("ed25519", name=name)
    repo = base / "repo"
    service.repo.init(
        repo, keys={"root": ["root"], "targets": ["tgt"], "snapshot": ["snap"], "timestamp": ["ts"]}
    )
    service.repo.delegation_bins(repo, count=1024, keys=["tgt"])
    return repo


async def measure(repo: Path, home: Path, rounds: int) -> dict[str, float]:
    from textual.widgets import DataTable, Input
    from trustkeep_tui import CeremonyApp, TuiSecrets

    from trustkeep.service import Service

    secrets = TuiSecrets()
    app = CeremonyApp(Service(home, secrets), secrets, directory=repo)
    out: dict[str, float] = {}

    def steps(screen: Any, selector: str, fill: Any) -> float:
        field = screen.query_one(selector, Input)
        times = []
        for _ in range(rounds):
            for needle in NEEDLES:
                field.value = needle
                start = time.perf_counter()
                fill()
                times.append(time.perf_counter() - start)
        return statistics.median(times)

    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        out["status: load 1,028 rows"] = time.perf_counter() - start
        screen = pilot.app.screen
        assert screen.query_one("#roles", DataTable).row_count == 1028
        out["status: one filter step"] = steps(screen, "#status-filter", screen._fill)
        start = time.perf_counter()
        await pilot.press("d")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        out["delegations: load"] = time.perf_counter() - start
        screen = pilot.app.screen
        out["delegations: one filter step"] = steps(screen, "#deleg-filter", screen._build)
    return out


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = build(base)
        figures = asyncio.run(measure(repo, base / "home", rounds))
    print(f"load average {os.getloadavg()[0]:.1f}")
    for name, seconds in figures.items():
        print(f"{name:32} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
