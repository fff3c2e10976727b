"""Helpers for the root-rotation tests: a published 2-of-2 root, holders elsewhere, the
CLI signing a travelled copy, the directory's hash and python-tuf's Updater."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pilot_support import settle
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, SelectionList
from tui_support import ADMIN_PASSPHRASE, BOB_PASSPHRASE, Ceremony, fast_keys, publish_with_bob

sys.path.insert(0, str(Path(__file__).parents[1] / "repo"))

from repo_oracle import updater

__all__ = ["updater"]

DAVE_PASSPHRASE = "davesecret77"


@dataclass(frozen=True)
class Holders:
    """Root v1 published (alice, bob); carol a new key of the admin's store; dave's key in
    a home of its own, known here only by its public key file."""

    carol: str
    dave: str
    dave_home: Path
    dave_pem: Path


def rotation_world(ceremony: Ceremony) -> Holders:
    publish_with_bob(ceremony)
    carol = fast_keys(ceremony.admin_home, ADMIN_PASSPHRASE).generate("ed25519", name="carol")
    dave_home = ceremony.repo.parent / "dave-home"
    dave_keys = fast_keys(dave_home, DAVE_PASSPHRASE)
    dave = dave_keys.generate("ed25519", name="dave")
    pem = ceremony.repo.parent / "dave.pub.pem"
    pem.write_text(dave_keys.export_public("dave"))
    return Holders(carol.keyid, dave.keyid, dave_home, pem)


def cli(home: Path, passphrase: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``trustkeep`` command in another key store (a holder elsewhere)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTKEEP_")}
    env.update(TRUSTKEEP_HOME=str(home), TRUSTKEEP_PASSPHRASE=passphrase)
    return subprocess.run(
        [sys.executable, "-m", "trustkeep", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def signed_copy(ceremony: Ceremony, home: Path, passphrase: str, key: str, name: str) -> Path:
    """A copy of the staged root, travelled to ``key``'s holder with the published
    ``1.root.json`` beside it (root v1's threshold is checked too), signed with the CLI."""
    travel = ceremony.repo.parent / f"travel-{name}"
    travel.mkdir()
    (travel / "1.root.json").write_bytes((ceremony.repo / "1.root.json").read_bytes())
    copy = travel / "root.json"
    copy.write_bytes((ceremony.repo / "staged" / "root.json").read_bytes())
    done = cli(home, passphrase, "sign", str(copy), "--key", key)
    assert done.returncode == 0, done.stderr
    return copy


def bob_copy(ceremony: Ceremony) -> Path:
    return signed_copy(ceremony, ceremony.home, BOB_PASSPHRASE, "bob", "bob")


def tree_digest(*dirs: Path) -> str:
    """sha256 over every file's path and bytes under ``dirs`` (absent files count too)."""
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(d)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


async def tick(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Move the highlight of a SelectionList to ``value`` with the arrows, tick it (Space)."""
    options = pilot.app.screen.query_one(selector, SelectionList)
    options.focus()
    await pilot.pause()
    if options.highlighted is None:
        await pilot.press("down")
    for _ in range(options.option_count):
        if options.get_option_at_index(options.highlighted or 0).value == value:
            await pilot.press("space")
            await pilot.pause()
            assert value in options.selected
            return
        await pilot.press("down")
    raise AssertionError(f"{value[:8]} is not offered in {selector}")


async def confirm(pilot: Pilot[Any]) -> list[str]:
    """On a ConfirmScreen: its review lines; tick the box (Space), press the action."""
    screen = pilot.app.screen
    assert type(screen).__name__ == "ConfirmScreen", type(screen).__name__
    lines = list(screen.lines)  # type: ignore[attr-defined]
    screen.query_one("#confirm-read", Checkbox).focus()
    await pilot.press("space")
    await pilot.click("#confirm-do")
    await pilot.pause()
    return lines


async def type_into(pilot: Pilot[Any], selector: str, value: str) -> None:
    """Focus ``selector`` and enter ``value``: typed key by key when short, pasted (as a
    terminal's bracketed paste delivers a path) when long."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    if len(value) > 16:
        widget.post_message(events.Paste(value))
    else:
        await pilot.press(*value)
    await settle(pilot)
