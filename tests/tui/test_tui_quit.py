"""Quitting while the passphrase modal is open cancels the signing and writes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pilot_support import settle, sign_with, wait_for_modal
from tui_support import BOB_PASSPHRASE, Ceremony, transcript_steps


async def _quit_in_modal(app) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.click("#confirm")
        await wait_for_modal(pilot)
        await pilot.press("b", "o")
        await pilot.press("ctrl+q")


def test_quit_with_the_modal_open(ceremony: Ceremony, make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = (ceremony.repo / "staged" / "root.json").read_bytes()
    app = make_app(ceremony.home, ceremony.repo)
    asyncio.run(asyncio.wait_for(_quit_in_modal(app), timeout=60))
    assert (ceremony.repo / "staged" / "root.json").read_bytes() == before
    steps = transcript_steps(tmp_path / "transcript.jsonl")
    assert ("session closed", {"actions": 0}) in steps  # the cancelled sign may follow it
    assert "signed" not in [step for step, _ in steps]


async def _sign(app, passphrase: str) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await sign_with(pilot, passphrase)


def test_unwritable_transcript_does_not_block_signing(
    ceremony: Ceremony, make_app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the transcript's directory should be\n")
    app = make_app(ceremony.home, ceremony.repo, transcript=blocker / "transcript.jsonl")
    asyncio.run(_sign(app, BOB_PASSPHRASE))
    # session opened, opened, reviewed, signed, reviewed again, session closed: each kept
    # for the CLI to print as a warning on exit
    assert len(app.transcript_errors) == 6
    assert all(str(blocker) in message for message in app.transcript_errors)
    assert any(a.startswith("signed root v1 with key bob") for a in app.actions)
