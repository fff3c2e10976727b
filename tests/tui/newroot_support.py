"""Driving the new-root flow with Pilot, step by step (shared by the new-root tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pilot_support import screen_name, screenshot_text, settle, text, wait_until
from textual.pilot import Pilot
from tui_support import TEST_KDF_ITERATIONS

ONLINE = "Online-keys-secret-42"


def fast_app(make_app, home: Path):  # type: ignore[no-untyped-def]
    """A CeremonyApp whose new keys use the cheap test KDF."""
    app = make_app(home)
    app.service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    return app


async def type_in(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Click the field and type ``value`` key by key (passphrases, short values)."""
    await pilot.click(selector)
    await pilot.press(*value)


async def fill(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Click the field and paste ``value`` (long paths: one key press each is slow)."""
    from textual.widgets import Input

    await pilot.click(selector)
    field = pilot.app.screen.query_one(selector, Input)
    field.insert_text_at_cursor(value)
    await pilot.pause()


async def on_screen(pilot: Pilot[Any], name: str, title: str = "") -> None:
    await wait_until(
        pilot,
        lambda: screen_name(pilot) == name and title in text(pilot, ".title"),
        f"{name} {title}",
    )
    await settle(pilot)


async def plan(
    pilot: Pilot[Any], repo: Path, holders: str, threshold: str, *, gun: str | None = None
) -> None:
    """Home -> n -> the plan screen filled in -> Next."""
    await pilot.press("n")
    await on_screen(pilot, "NewRootScreen")
    await fill(pilot, "#directory", str(repo))
    if gun is not None:
        await pilot.click("#fmt-notary")
        await settle(pilot)
        await fill(pilot, "#gun", gun)
    await type_in(pilot, "#holders", holders)
    await type_in(pilot, "#threshold", threshold)
    await pilot.click("#next")


async def new_passphrase(pilot: Pilot[Any], secret: str) -> str:
    """Paste ``secret`` in both NewPassphrase fields; the strength line shown.

    (test_tui_newroot.py types them key by key; pasting keeps these tests quick.)
    """
    await fill(pilot, "#passphrase .first", secret)
    await fill(pilot, "#passphrase .second", secret)
    return str(pilot.app.screen.query_one("#passphrase .strength").content)


async def answer_all(pilot: Pilot[Any], secrets: list[str]) -> list[str]:
    """Answer one passphrase modal per secret (pasted, then Enter); the prompts shown."""
    prompts = []
    for secret in secrets:
        await wait_until(pilot, lambda: screen_name(pilot) == "PassphraseModal", "the modal")
        modal = pilot.app.screen
        prompts.append(text(pilot, "#passphrase-prompt"))
        await fill(pilot, "#secret", secret)
        await pilot.press("enter")
        await wait_until(pilot, lambda m=modal: pilot.app.screen is not m, "the modal to close")
    return prompts


async def holder(
    pilot: Pilot[Any],
    name: str,
    *,
    location: str = "file",
    secret: str | None = None,
    path: Path | None = None,
    seen: dict[str, str] | None = None,
) -> None:
    """One holder's screen: choose ``location``, fill its fields, press Create / import."""
    await on_screen(pilot, "HolderKeyScreen", name)
    if location != "file":
        await pilot.click(f"#loc-{location}")
        await settle(pilot)
    if path is not None:
        await fill(pilot, "#path", str(path))
    if secret is not None:
        strength = await new_passphrase(pilot, secret)
        assert strength.startswith("strength: ") and "confirmed" in strength, strength
    if seen is not None:
        seen[f"screen-{name}"] = screenshot_text(pilot.app.export_screenshot())
    await pilot.click("#make")


async def role_keys(pilot: Pilot[Any], secret: str = ONLINE) -> None:
    await on_screen(pilot, "RoleKeysScreen")
    await new_passphrase(pilot, secret)
    await pilot.click("#make")


async def review_and_write(pilot: Pilot[Any], secrets: list[str], seen: dict[str, Any]) -> None:
    """Read the review, tick it, Sign and write, answer one modal per secret, reach the pins."""
    await on_screen(pilot, "NewRootReviewScreen")
    seen["review"] = text(pilot, "#review")
    await pilot.click("#confirmed")
    await pilot.click("#write")
    seen["prompts"] = await answer_all(pilot, secrets)
    await on_screen(pilot, "PinsScreen")
    seen["written"] = text(pilot, "#written")
    seen["title"] = text(pilot, ".title")
    seen["last"] = screenshot_text(pilot.app.export_screenshot())


def tree_digest(directory: Path) -> str:
    """sha256 over every path and file content under ``directory`` (missing: its own value)."""
    if not directory.exists():
        return "missing"
    h = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        h.update(str(path.relative_to(directory)).encode() + b"\0")
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()
