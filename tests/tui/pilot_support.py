"""Helpers for driving the ceremony app with Textual's Pilot (bounded polling only)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled


async def _workers_done(pilot: Pilot[Any]) -> None:
    """Every worker finished; one cancelled by a newer exclusive one counts as finished."""
    for _ in range(20):
        try:
            await pilot.app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            await pilot.pause()


async def settle(pilot: Pilot[Any]) -> None:
    """Let every worker finish and the messages they posted be handled."""
    await _workers_done(pilot)
    await pilot.pause()
    await _workers_done(pilot)
    await pilot.pause()


async def wait_until(pilot: Pilot[Any], predicate: Callable[[], bool], what: str) -> None:
    """Poll ``predicate`` between pauses, at most 500 times."""
    for _ in range(500):
        if predicate():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"gave up waiting for {what}")


async def wait_for_modal(pilot: Pilot[Any]) -> None:
    await wait_until(pilot, lambda: screen_name(pilot) == "PassphraseModal", "the modal")


async def answer_modals(pilot: Pilot[Any], secret: str, count: int = 1) -> list[str]:
    """Answer ``count`` passphrase modals in turn with ``secret``; the prompts they showed."""
    prompts = []
    for _ in range(count):
        await wait_for_modal(pilot)
        prompts.append(str(pilot.app.screen.query_one("#passphrase-prompt", Static).content))
        await pilot.press(*secret, "enter")
        await pilot.pause()
    await settle(pilot)
    return prompts


async def answer_each(pilot: Pilot[Any], secrets: list[str]) -> list[str]:
    """Answer one passphrase modal per secret, in turn (one worker asks them all)."""
    prompts = []
    for secret in secrets:
        await wait_for_modal(pilot)
        modal = pilot.app.screen
        prompts.append(str(modal.query_one("#passphrase-prompt", Static).content))
        await pilot.press(*secret, "enter")
        await wait_until(pilot, lambda m=modal: pilot.app.screen is not m, "the modal to close")
    return prompts


async def sign_with(pilot: Pilot[Any], secret: str) -> None:
    """On the sign screen: press "Sign and write", answer the modal with ``secret``, settle."""
    await pilot.click("#confirm")
    await answer_modals(pilot, secret)


def text(pilot: Pilot[Any], selector: str) -> str:
    """The plain text a Static on the current screen shows."""
    widget = pilot.app.screen.query_one(selector, Static)
    return str(widget.content)


def screen_name(pilot: Pilot[Any]) -> str:
    return type(pilot.app.screen).__name__


def screenshot_text(svg: str) -> str:
    """The characters on screen in an ``export_screenshot()`` SVG, in drawing order."""
    spans = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(spans)).replace("\xa0", " ")
