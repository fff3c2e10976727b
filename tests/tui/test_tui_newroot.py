"""The new-root ceremony driven through the TUI, start to finish, checked on disk."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from pilot_support import answer_each, screen_name, screenshot_text, settle, text, wait_until
from textual.pilot import Pilot
from tui_support import TEST_KDF_ITERATIONS, python_tuf_accepts

from trustkeep.service.ceremony_transcript import verify_transcript

ALICE = "Alice-passphrase-77"
BOB = "Bob-passphrase-9911"
ONLINE = "Online-keys-secret-42"


def _app(make_app, home: Path):  # type: ignore[no-untyped-def]
    app = make_app(home)
    app.service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    return app


async def _type(pilot: Pilot[Any], selector: str, value: str) -> None:
    await pilot.click(selector)
    await pilot.press(*value)


async def plan(pilot: Pilot[Any], repo: Path, holders: str, threshold: str) -> None:
    """Home -> n -> the plan screen filled in -> Next."""
    await pilot.press("n")
    await wait_until(pilot, lambda: screen_name(pilot) == "NewRootScreen", "the plan screen")
    await settle(pilot)
    await _type(pilot, "#directory", str(repo))
    await _type(pilot, "#holders", holders)
    await pilot.click("#threshold")
    await pilot.press(*threshold)
    assert "any" in text(pilot, "#consequences")
    await pilot.click("#next")


async def holder(pilot: Pilot[Any], name: str, secret: str, seen: dict[str, str]) -> None:
    """One holder's screen: generate an encrypted-file key with ``secret`` typed twice."""
    await wait_until(
        pilot,
        lambda: screen_name(pilot) == "HolderKeyScreen" and name in text(pilot, ".title"),
        f"{name}'s key screen",
    )
    await settle(pilot)
    await _type(pilot, "#passphrase .first", secret)
    await _type(pilot, "#passphrase .second", secret)
    seen[f"strength-{name}"] = str(pilot.app.screen.query_one("#passphrase .strength").content)
    seen[f"screen-{name}"] = screenshot_text(pilot.app.export_screenshot())
    await pilot.click("#make")


async def _two_holders(app, repo: Path, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert screen_name(pilot) == "HomeScreen"
        await plan(pilot, repo, "alice, bob", "2")
        await holder(pilot, "alice", ALICE, seen)
        await holder(pilot, "bob", BOB, seen)
        await wait_until(pilot, lambda: screen_name(pilot) == "RoleKeysScreen", "role keys")
        await settle(pilot)
        await _type(pilot, "#passphrase .first", ONLINE)
        await _type(pilot, "#passphrase .second", ONLINE)
        await pilot.click("#make")
        await wait_until(pilot, lambda: screen_name(pilot) == "NewRootReviewScreen", "review")
        await settle(pilot)
        seen["review"] = text(pilot, "#review")
        seen["write_disabled"] = pilot.app.screen.query_one("#write").disabled
        assert not repo.exists()  # nothing written before the confirmation
        await pilot.click("#confirmed")
        await pilot.click("#write")
        seen["prompts"] = await answer_each(pilot, [ALICE, BOB, ONLINE, ONLINE])
        await wait_until(pilot, lambda: screen_name(pilot) == "PinsScreen", "the pins")
        await settle(pilot)
        seen["written"] = text(pilot, "#written")
        await pilot.click("#save-0")
        await settle(pilot)
        seen["saved"] = text(pilot, "#result")
        seen["last"] = screenshot_text(pilot.app.export_screenshot())
        await pilot.click("#back")
        await wait_until(pilot, lambda: screen_name(pilot) == "HomeScreen", "home again")
        await settle(pilot)
        seen["home"] = text(pilot, "#home-result")


def test_new_tuf_root_with_two_holders_is_written_and_accepted(tmp_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "acme"
    seen: dict[str, Any] = {}
    app = _app(make_app, tmp_path / "home")
    asyncio.run(_two_holders(app, repo, seen))
    assert seen["write_disabled"] is True  # nothing ticked by default
    review = seen["review"]
    assert "root: 2 of 2 keys" in review
    assert "every holder must sign: one lost key" in review
    assert "signed now by: alice, bob" in review
    assert seen["strength-alice"].startswith("strength: ")
    assert "confirmed" in seen["strength-alice"]
    assert [p.rsplit("(", 1)[1] for p in seen["prompts"]] == [
        "alice)",
        "bob)",
        "acme-targets)",
        "acme-online)",
    ]
    assert sorted(p.name for p in repo.iterdir()) == [
        "1.root.json",
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    python_tuf_accepts(repo)
    root = json.loads((repo / "root.json").read_text())["signed"]
    assert root["roles"]["root"]["threshold"] == 2
    assert len(root["roles"]["root"]["keyids"]) == 2
    pin = tmp_path / "acme.trusted-root.json"
    assert pin.read_bytes() == (repo / "root.json").read_bytes()
    assert f"saved TUF bootstrap root (clients start from it) to {pin}" == seen["saved"]
    assert "new root written in" in seen["home"]
    # the passphrases were never on screen, nor in the transcript
    shown = seen["screen-alice"] + seen["screen-bob"] + seen["last"]
    transcript = tmp_path / "transcript.jsonl"
    recorded = transcript.read_text() + transcript.with_suffix(".md").read_text()
    for secret in (ALICE, BOB, ONLINE):
        assert secret not in shown
        assert secret not in recorded
    check = verify_transcript(transcript)
    assert check.ok, check.problems
    steps = [e.step for e in check.entries]
    assert steps[:4] == ["session opened", "new root started", "holder key", "holder key"], steps
    assert "new root written" in steps and "pin saved" in steps
