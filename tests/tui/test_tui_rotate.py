"""The "rotate a root key" checklist: review from the choices, write root v2 on confirm."""

from __future__ import annotations

import asyncio
import json

from pilot_support import answer_modals, screen_name, settle, text
from textual.widgets import OptionList
from tuf.api.metadata import Metadata, Root
from tui_support import ADMIN_PASSPHRASE, Ceremony, fast_keys, publish_with_bob


async def _pick(pilot, selector: str, keyid: str) -> None:  # type: ignore[no-untyped-def]
    """Focus the option list and move its highlight down to ``keyid`` with the arrow key."""
    options = pilot.app.screen.query_one(selector, OptionList)
    options.focus()
    await pilot.pause()
    for _ in range(options.option_count):
        if options.get_option_at_index(options.highlighted).id == keyid:
            return
        await pilot.press("down")
    raise AssertionError(f"{keyid[:8]} is not offered in {selector}")


async def _flow(app, ids: dict[str, str], seen: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert screen_name(pilot) == "RotateScreen"
        await _pick(pilot, "#old", ids["bob"])
        await _pick(pilot, "#new", ids["carol"])
        seen["review"] = text(pilot, "#rotate-review")
        seen["before_write"] = sorted(p.name for p in app.ceremony.directory.rglob("*"))
        await pilot.click("#rotate-write")
        # alice (old and new root) and carol (new root)
        seen["prompts"] = await answer_modals(pilot, ADMIN_PASSPHRASE, 2)
        seen["result"] = text(pilot, "#rotate-result")
        await pilot.press("escape")
        await settle(pilot)
        seen["details"] = text(pilot, "#details")


def test_rotate_bob_out_carol_in(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    repo = ceremony.repo
    publish_with_bob(ceremony)
    ids = dict(
        ceremony.keyids,
        carol=fast_keys(ceremony.admin_home, ADMIN_PASSPHRASE)
        .generate("ed25519", name="carol")
        .keyid,
    )
    v1 = (repo / "1.root.json").read_bytes()
    files_before = sorted(p.name for p in repo.rglob("*"))
    seen: dict[str, object] = {}
    asyncio.run(_flow(make_app(ceremony.admin_home, repo), ids, seen))
    assert seen["before_write"] == files_before  # choosing and reviewing wrote nothing
    review = str(seen["review"]).splitlines()
    assert review[:3] == [
        "root version 2",
        f"- key bob ({ids['bob'][:8]}) removed from root",
        f"+ key carol ({ids['carol'][:8]}) added to root",
    ]
    assert [p.split("(")[1].rstrip(")") for p in seen["prompts"]] == ["alice", "carol"]  # type: ignore[attr-defined]
    assert "root v2 expires" in str(seen["result"])
    assert "root v1 keys: 1 of 2 signatures — waiting for bob" in str(seen["details"])
    assert (repo / "1.root.json").read_bytes() == v1
    assert json.loads((repo / "root.json").read_bytes())["signed"]["version"] == 1  # published
    root = Metadata[Root].from_file(str(repo / "staged" / "root.json"))
    assert root.signed.version == 2
    assert set(root.signed.roles["root"].keyids) == {ids["alice"], ids["carol"]}
    assert root.signed.roles["root"].threshold == 2
