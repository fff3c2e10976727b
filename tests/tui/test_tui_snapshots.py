"""SVG snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Only screens whose content does not depend on random keyids or temporary paths are
snapshotted; the flows themselves are asserted by the Pilot and tmux tests.
Update after an intended change: ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pilot_support import settle
from textual.pilot import Pilot

from trustkeep.service.ceremony_newroot import HolderPlan, NewRootDraft

SIZES = [(80, 24), (120, 40)]
FIXED = Path("/nonexistent/trustkeep-snapshot")


def _app(home: Path):  # type: ignore[no-untyped-def]
    from trustkeep_tui import CeremonyApp, TuiSecrets

    from trustkeep.service import Service

    secrets = TuiSecrets()
    return CeremonyApp(Service(home, secrets), secrets, transcript=home / "t.jsonl")


def _draft() -> NewRootDraft:
    return NewRootDraft(
        ceremony_id="20261201T000000-abcdef",
        directory=str(FIXED / "acme"),
        format="tuf",
        holders=(HolderPlan("alice"), HolderPlan("bob")),
        threshold=2,
        root_days=365,
    )


async def _holder(pilot: Pilot[Any]) -> None:
    from trustkeep_tui.holder_screen import HolderKeyScreen

    await pilot.app.push_screen(HolderKeyScreen(_draft(), 0))
    await pilot.pause()


SCREENS: dict[str, tuple[list[str], Any]] = {
    "home": ([], None),
    "help": (["f1"], None),
    "new-root-plan": (["n", "tab", "tab", *"alice, bob", "tab", "2"], None),
    "holder-key": ([*"not-shown-1"], _holder),
    "expiry": (["e"], None),
    "home-light": (["ctrl+t"], None),
}


def _before(push: Any, keys: list[str]) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if push is not None:
            await push(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", SCREENS, ids=list(SCREENS))
def test_screen_snapshot(name: str, size: tuple[int, int], snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys, push = SCREENS[name]
    app = _app(tmp_path / "home")
    assert snap_compare(app, terminal_size=size, run_before=_before(push, keys))
