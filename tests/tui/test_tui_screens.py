"""What the status screen shows, read from Textual's own screenshot (SVG) export."""

from __future__ import annotations

import asyncio

from pilot_support import screenshot_text, settle, text
from tui_support import ADMIN_PASSPHRASE, Ceremony

from trustkeep.service import Service


async def _status(app, seen: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        seen["screen"] = screenshot_text(app.export_screenshot())
        seen["summary"] = text(pilot, "#summary")
        seen["last"] = text(pilot, "#last-action")
        await pilot.press("down", "s")  # targets is signed: nothing to sign
        await settle(pilot)
        seen["after_s"] = type(app.screen).__name__
        await pilot.press("r")
        await settle(pilot)
        seen["reloaded"] = text(pilot, "#summary")


def test_status_screen_text_and_markup_safe_role_names(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    admin.repo.delegation_add(ceremony.repo, "[b]evil[/b]", keys=["tgt"], paths=["evil/*"])
    seen: dict[str, str] = {}
    asyncio.run(_status(make_app(ceremony.home, ceremony.repo), seen))
    screen = seen["screen"]
    for word in ("ROLE", "VERSION", "EXPIRES", "DAYS LEFT", "SIGNATURES"):
        assert word in screen
    assert "[b]evil[/b]" in screen  # shown as typed, not as markup
    assert "1 of 2 signatures — waiting for bob" in screen
    assert "1 of 1 signatures — threshold met" in screen
    assert seen["summary"] == "status: NOT OK — awaiting signatures on: root"
    assert seen["last"] == f"transcript: {ceremony.repo.parent / 'transcript.jsonl'}"
    assert seen["after_s"] == "StatusScreen"
    assert seen["reloaded"] == seen["summary"]
