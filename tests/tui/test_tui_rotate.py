"""Root rotation in the ceremony TUI, end to end: choose, review, stage, sign here, merge a
copy signed with the CLI elsewhere, publish; python-tuf's Updater follows the new root."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from pilot_support import screen_name, screenshot_text, settle, text, wait_for_modal
from rotation_support import (
    DAVE_PASSPHRASE,
    Holders,
    bob_copy,
    cli,
    confirm,
    rotation_world,
    signed_copy,
    tick,
    tree_digest,
    type_into,
    updater,
)
from tuf.api.metadata import Metadata, Root
from tui_support import ADMIN_PASSPHRASE, Ceremony, transcript_steps


async def _choose(pilot: Any, ids: dict[str, str], h: Holders) -> None:
    """bob out; carol (this store) and dave (a public key file) in; threshold 2; 400d."""
    await pilot.press("k")
    await settle(pilot)
    assert screen_name(pilot) == "RotateScreen"
    await tick(pilot, "#remove", ids["bob"])
    await tick(pilot, "#add", h.carol)
    await type_into(pilot, "#file-path", str(h.dave_pem))
    await type_into(pilot, "#file-name", "dave")
    await pilot.press("enter")
    await type_into(pilot, "#expires", "400d")
    await pilot.click("#rotate-review")
    await settle(pilot)


async def _sign_here(pilot: Any, seen: dict[str, Any]) -> None:
    """Alice signs in the panel: the review is ticked, then the passphrase is typed."""
    alice = seen["ids"]["alice"]
    await pilot.click(f"#sign-{alice}")
    await settle(pilot)
    seen["sign_review"] = await confirm(pilot)
    await wait_for_modal(pilot)
    await pilot.press(*ADMIN_PASSPHRASE)
    seen["typing"] = screenshot_text(pilot.app.export_screenshot())
    await pilot.press("enter")
    await settle(pilot)


async def _flow(app: Any, ceremony: Ceremony, h: Holders, seen: dict[str, Any]) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _choose(pilot, seen["ids"], h)
        seen["before_write"] = (ceremony.repo / "staged").exists()
        seen["review"] = await confirm(pilot)
        await settle(pilot)
        assert screen_name(pilot) == "RotationPanelScreen"
        seen["line0"] = text(pilot, "#panel-line")
        await _sign_here(pilot, seen)
        seen["line1"] = text(pilot, "#panel-line")
        copies = [
            bob_copy(ceremony),
            signed_copy(ceremony, h.dave_home, DAVE_PASSPHRASE, "dave", "dave"),
        ]
        await type_into(pilot, "#merge-path", " ".join(map(str, copies)))
        await pilot.press("enter")
        await settle(pilot)
        seen["merged"] = text(pilot, "#panel-result")
        seen["line2"] = text(pilot, "#panel-line")
        merged = tree_digest(ceremony.repo)
        await pilot.press("p")  # the publish review, left with Escape: nothing published
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        seen["not_published"] = (text(pilot, "#panel-result"), tree_digest(ceremony.repo) == merged)
        await pilot.click("#publish")
        await settle(pilot)
        seen["publish_review"] = await confirm(pilot)
        await settle(pilot)  # root alone: snapshot and timestamp stay as they are
        seen["published"] = text(pilot, "#panel-result")
        seen["final"] = screenshot_text(pilot.app.export_screenshot())


def test_rotation_end_to_end(ceremony: Ceremony, make_app: Any, tmp_path: Path) -> None:
    h = rotation_world(ceremony)
    ids = ceremony.keyids
    v1 = (ceremony.repo / "root.json").read_bytes()
    seen: dict[str, Any] = {"ids": ids}
    asyncio.run(_flow(make_app(ceremony.admin_home, ceremony.repo), ceremony, h, seen))

    assert seen["before_write"] is False  # choosing and reviewing staged nothing
    review = seen["review"]
    assert review[0].startswith("root version 2, expires ")
    assert f"- key bob ({ids['bob'][:8]}) removed from root" in review
    assert f"+ key carol ({h.carol[:8]}) added to root" in review
    assert f"+ key dave ({h.dave[:8]}) added to root" in review
    assert any(
        line.startswith(f"+ key dave ({h.dave[:8]}) from the public key file") for line in review
    )
    assert "root keys after: 3, threshold 2" in review
    assert any("needs 2 signature(s) of the root v1 keys" in line for line in review)
    assert seen["line0"] == (
        "signed by old root: 0 of 2, new root: 0 of 2 — waiting for alice, bob, carol, dave"
    )
    assert seen["line1"] == (
        "signed by old root: 1 of 2, new root: 1 of 2 — waiting for bob, carol, dave"
    )
    assert (
        seen["line2"]
        == "signed by old root: 2 of 2, new root: 2 of 2 — every threshold met: publish it"
    )
    assert "signatures added: dave" in seen["merged"]
    assert seen["not_published"] == ("not published: nothing was written", True)
    assert ADMIN_PASSPHRASE not in seen["typing"] and ADMIN_PASSPHRASE not in seen["final"]
    assert seen["published"].startswith("published:\nroot v2 expires ")

    repo = ceremony.repo
    assert (repo / "1.root.json").read_bytes() == v1
    new = Metadata[Root].from_file(str(repo / "2.root.json"))
    assert new.signed.version == 2
    assert set(new.signed.roles["root"].keyids) == {ids["alice"], h.carol, h.dave}
    assert new.signed.roles["root"].threshold == 2
    assert (repo / "root.json").read_bytes() == (repo / "2.root.json").read_bytes()
    assert not (repo / "staged" / "root.json").exists()
    # dave is in the admin's store as a public-only key, named
    listed = cli(ceremony.admin_home, ADMIN_PASSPHRASE, "key", "show", "dave", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["key"]["keyid"] == h.dave
    verified = cli(
        ceremony.admin_home,
        ADMIN_PASSPHRASE,
        "verify",
        str(repo),
        "--root",
        str(repo / "1.root.json"),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    up, fetched = updater(repo, tmp_path / "client", bootstrap=v1)
    up.refresh()
    trusted = json.loads((tmp_path / "client" / "root.json").read_bytes())
    assert trusted["signed"]["version"] == 2
    assert any(url.endswith("/2.root.json") for url in fetched.fetched)
    # the service wrote the transcript: each step, never a secret
    log = tmp_path / "transcript.jsonl"
    steps = [step for step, _ in transcript_steps(log)]
    for step in ("rotation reviewed", "key imported", "new root staged", "signed", "merged"):
        assert step in steps, steps
    assert steps.index("new root staged") < steps.index("signed") < steps.index("published")
    staged = dict(transcript_steps(log))["new root staged"]
    assert list(staged["removed"]) == [ids["bob"]] and list(staged["added"]) == [h.carol]
    assert ADMIN_PASSPHRASE not in log.read_text() + log.with_suffix(".md").read_text()
