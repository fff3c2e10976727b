"""Abort a new root at every step through the TUI: no metadata written, the abort recorded;
and the threshold's consequences as the plan is typed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from newroot_support import fast_app, fill, on_screen, tree_digest, type_in
from pilot_support import screen_name, settle, text, wait_until
from textual.pilot import Pilot
from textual.widgets import OptionList
from tui_support import TEST_KDF_ITERATIONS, transcript_steps

from trustkeep.service import Service
from trustkeep.service.ceremony_home import CeremonyHome
from trustkeep.service.ceremony_newroot import NewRootService

SECRET = "Abort-test-secret-771"

#: step -> (keys made before it, the screen it is aborted on)
STEPS = {
    "plan": (-1, "NewRootScreen"),
    "holder 1": (0, "HolderKeyScreen"),
    "holder 2": (1, "HolderKeyScreen"),
    "role keys": (2, "RoleKeysScreen"),
    "review": (3, "NewRootReviewScreen"),
    "home": (1, "HomeScreen"),
}


def _saved_draft(home: Path, transcript: Path, repo: Path, done: int) -> None:
    """A draft of alice + bob (2 of 2) saved with ``done`` steps of keys made: as a crashed
    or paused ceremony leaves it."""
    service = Service(home, lambda _n: SECRET)
    service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    flow = NewRootService(service, CeremonyHome(service, transcript=transcript))
    draft = flow.start(str(repo), fmt="tuf", holders=["alice", "bob"], threshold=2, root_days=30)
    for i in range(min(done, 2)):
        draft = flow.holder_key(draft, i, location="file", keytype="ed25519", passphrase=SECRET)
    if done > 2:
        flow.role_keys(draft, passphrase=SECRET)


async def _resume_saved(pilot: Pilot[Any]) -> None:
    """On the home screen: focus the unfinished ceremonies, highlight the first."""
    saved = pilot.app.screen.query_one("#saved", OptionList)
    await wait_until(pilot, lambda: saved.option_count == 1, "the saved ceremony")
    saved.focus()
    saved.highlighted = 0
    await pilot.pause()


async def _abort_at(app, repo: Path, step: str, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    screen = STEPS[step][1]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if step == "plan":
            await plan_only(pilot, repo)
            await pilot.click("#back")
        else:
            await _resume_saved(pilot)
            if step == "home":
                await pilot.press("x")
            else:
                await pilot.press("enter")
                await on_screen(pilot, screen)
                seen["title"] = text(pilot, ".title")
                pilot.app.screen.query_one("#abort").press()
        await wait_until(
            pilot,
            lambda: screen_name(pilot) == "HomeScreen" and text(pilot, "#home-result"),
            "home again",
        )
        seen["home"] = text(pilot, "#home-result")


async def plan_only(pilot: Pilot[Any], repo: Path) -> None:
    await pilot.press("n")
    await on_screen(pilot, "NewRootScreen")
    await fill(pilot, "#directory", str(repo))
    await type_in(pilot, "#holders", "alice, bob")


@pytest.mark.parametrize("step", STEPS, ids=list(STEPS))
def test_abort_at_each_step_writes_no_metadata(step: str, tmp_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    home, transcript = tmp_path / "home", tmp_path / "transcript.jsonl"
    repo = tmp_path / "acme"
    repo.mkdir()
    (repo / "NOTES.txt").write_text("the repository goes here\n")
    done = STEPS[step][0]
    if done >= 0:
        _saved_draft(home, transcript, repo, done)
    before = tree_digest(repo)
    seen: dict[str, Any] = {}
    asyncio.run(_abort_at(fast_app(make_app, home), repo, step, seen))
    assert tree_digest(repo) == before  # not one byte under the target directory
    assert list(home.glob("ceremonies/*.json")) == []  # the saved draft is forgotten
    steps = transcript_steps(transcript)
    aborted = [f for s, f in steps if s == "new root aborted"]
    assert len(aborted) == 1
    assert aborted[0]["at_step"] == step
    assert not any(s == "new root written" for s, _ in steps)
    assert "nothing written" in seen["home"] or "before anything was saved" in seen["home"]
    if step.startswith("holder"):
        assert f"holder {step[-1]} of 2" in seen["title"]


async def _consequences(app, seen: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await on_screen(pilot, "NewRootScreen")
        await type_in(pilot, "#holders", "alice, bob, carol")
        for m in ("3", "2", "1"):
            field = pilot.app.screen.query_one("#threshold")
            field.value = ""  # type: ignore[attr-defined]
            await type_in(pilot, "#threshold", m)
            seen[m] = text(pilot, "#consequences")


def test_threshold_consequences_are_spelled_out_as_typed(tmp_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    asyncio.run(_consequences(fast_app(make_app, tmp_path / "home"), seen))
    assert seen["3"].splitlines() == [
        "any 3 of the 3 holders together can sign a new version",
        "every holder must sign: one lost key or one absent holder and this root "
        "can never be rotated or renewed",
        "an attacker needs 3 keys to sign a new root",
    ]
    assert (
        "up to 1 key(s) may be lost and the root can still be rotated; losing 2 locks it"
        in (seen["2"])
    )
    assert "one stolen key is enough for an attacker to sign a new root" in seen["1"]
