"""Tables of hundreds of roles scroll and filter: a repository of 1,024 hashed bins (built
once for the module through the service) in the status screen, the expiry dashboard and
the delegations tree; typed text narrows the rows by role name or state."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

import pytest
from pilot_support import screen_name, settle, wait_until
from textual.widgets import DataTable, Input, Tree
from tui_support import ADMIN_PASSPHRASE, Ceremony, publish_with_bob

BINS = 1024


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, _template: Ceremony) -> Ceremony:
    """The ceremony repository, published, with targets delegating to 1,024 bins."""
    from trustkeep.service import Service

    base = tmp_path_factory.mktemp("bins-1024")
    out = Ceremony(
        repo=base / "repo",
        home=base / "bob-home",
        admin_home=base / "admin-home",
        keyids=dict(_template.keyids),
    )
    for src, dst in ((_template.repo, out.repo), (_template.home, out.home)):
        shutil.copytree(src, dst)
    shutil.copytree(_template.admin_home, out.admin_home)
    publish_with_bob(out)
    admin = Service(out.admin_home, lambda _name: ADMIN_PASSPHRASE)
    result = admin.repo.delegation_bins(out.repo, count=BINS, keys=["tgt"])
    assert result.published
    return out


async def _type(pilot, selector: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*needle)


async def _filters(app, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        table = screen.query_one("#roles", DataTable)
        seen["status-all"] = table.row_count
        loads = []
        screen.post_status = lambda: loads.append(1)  # a reload would be counted here
        await pilot.press("slash")
        await pilot.press(*"bins-0")
        await wait_until(pilot, lambda: table.row_count == 256, "the status filter")
        seen["status-shown"] = list(screen.shown)
        await _type(pilot, "#status-filter", "bins-3ff")
        await wait_until(pilot, lambda: table.row_count == 1, "one bin")
        await _type(pilot, "#status-filter", "waiting")
        await wait_until(pilot, lambda: table.row_count == 0, "no role waits")
        await _type(pilot, "#status-filter", "")
        await pilot.press("backspace")
        await wait_until(pilot, lambda: table.row_count == seen["status-all"], "every row")
        table.focus()
        await pilot.press("pagedown")  # keyboard scrolling
        await pilot.pause()
        seen["page"] = table.cursor_row
        await pilot.press("ctrl+end")  # to the last row
        await pilot.pause()
        seen["last"] = table.cursor_row
        seen["reloads"] = len(loads)

        await pilot.press("d")
        await settle(pilot)
        tree = pilot.app.screen.query_one("#deleg-tree", Tree)
        (group,) = tree.root.children
        seen["group"] = (str(group.label), group.is_expanded, len(group.children))
        await pilot.press("slash", *"bins-0")
        await wait_until(pilot, lambda: len(tree.root.children) == 256, "the tree filter")
        seen["tree-label"] = str(tree.root.label)
        seen["tree-builds"] = pilot.app.screen.builds

        await pilot.press("escape", "escape")  # delegations, status: back to the home
        await settle(pilot)
        assert screen_name(pilot) == "HomeScreen"
        await pilot.press("e")
        await settle(pilot)
        expiry = pilot.app.screen.query_one("#expiry", DataTable)
        seen["expiry-all"] = expiry.row_count
        await pilot.press("slash", *"bins-0")
        await wait_until(pilot, lambda: expiry.row_count == 256, "the expiry filter")
        await _type(pilot, "#filter", "timestamp")
        await wait_until(pilot, lambda: expiry.row_count == 1, "the timestamp row")


def test_filters_narrow_1024_bins(big: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, Any] = {}
    asyncio.run(_filters(make_app(big.admin_home, big.repo), seen))
    assert seen["status-all"] == BINS + 4
    assert seen["status-shown"] == [f"bins-{i:03x}" for i in range(256)]
    assert seen["page"] > 5
    assert seen["last"] == BINS + 3
    assert seen["reloads"] == 0  # typing never reloads the repository
    label, expanded, children = seen["group"]
    assert label == f"bins-* {BINS} bins 1/1 [signed]"
    assert (expanded, children) == (False, 0)
    assert seen["tree-label"] == "targets — 256 role(s) match 'bins-0'"
    assert seen["tree-builds"] < 1 + len("bins-0") + 1  # not once per keystroke, or fewer
    assert seen["expiry-all"] == BINS + 4
