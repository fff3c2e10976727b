"""Whole sign flows driven through the TUI, asserted on the files written to disk."""

from __future__ import annotations

import asyncio

from pilot_support import screen_name, settle, sign_with, text
from tuf.api.metadata import Metadata, Targets
from tui_support import (
    ADMIN_PASSPHRASE,
    BOB_PASSPHRASE,
    Ceremony,
    publish_with_bob,
    python_tuf_accepts,
    root_verification,
)

from trustkeep.service import Service


def test_bob_signs_the_missing_root_signature(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    before = (ceremony.repo / "staged" / "root.json").read_bytes()
    app = make_app(ceremony.home, ceremony.repo)
    asyncio.run(_sign_flow(app, ceremony, before))
    # published: the staged file is gone, the published root carries both signatures
    assert not (ceremony.repo / "staged" / "root.json").exists()
    signers = set(root_verification(ceremony.repo / "root.json").signed)
    assert signers == {ceremony.keyids["alice"], ceremony.keyids["bob"]}
    python_tuf_accepts(ceremony.repo)


async def _sign_flow(app, ceremony: Ceremony, before: bytes) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        assert screen_name(pilot) == "StatusScreen"
        assert "root v1 keys: 1 of 2 signatures — waiting for bob" in text(pilot, "#details")
        assert "awaiting signatures on: root" in text(pilot, "#summary")
        await pilot.press("enter")  # the root row is selected first
        await settle(pilot)
        assert screen_name(pilot) == "SignScreen"
        review = text(pilot, "#review")
        assert "root version 1" in review
        assert "root: 2 of 2 keys (alice" in review
        assert (
            ceremony.repo / "staged" / "root.json"
        ).read_bytes() == before  # nothing written yet
        await sign_with(pilot, BOB_PASSPHRASE)
        assert screen_name(pilot) == "SignScreen"
        assert "signed root v1 with key bob" in text(pilot, "#sign-result")
        await pilot.press("escape")
        await settle(pilot)
        assert "every staged change is signed" in text(pilot, "#details")
        await pilot.press("g")  # the signing queue publishes it, after a review
        await settle(pilot)
        assert screen_name(pilot) == "QueueScreen"
        await pilot.click("#publish")
        await settle(pilot)
        assert screen_name(pilot) == "ConfirmScreen"
        assert pilot.app.screen.query_one("#confirm-do").disabled  # nothing ticked for you
        assert not (ceremony.repo / "root.json").exists()
        await pilot.click("#confirm-read")
        await pilot.click("#confirm-do")
        await settle(pilot)
        assert text(pilot, "#result").startswith("published:")
        await pilot.press("escape")
        await settle(pilot)
        assert "status: OK" in text(pilot, "#summary")


async def _sign_row(app, row: int, passphrase: str, seen: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press(*["down"] * row, "enter")
        await settle(pilot)
        seen["title"] = text(pilot, "#sign-title")
        await sign_with(pilot, passphrase)
        seen["result"] = text(pilot, "#sign-result")


def test_bob_signs_a_delegated_role_with_a_slash_in_its_name(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    admin.repo.delegation_add(ceremony.repo, "team/a", keys=["bob"], paths=["a/*"])
    seen: dict[str, str] = {}
    asyncio.run(_sign_row(make_app(ceremony.home, ceremony.repo), 4, BOB_PASSPHRASE, seen))
    assert seen["title"] == "Sign team/a: review what you are about to sign"
    assert seen["result"].startswith("signed team/a v1 with key bob")
    staged = ceremony.repo / "staged"
    delegated = Metadata[Targets].from_file(str(staged / "team%2Fa.json"))
    parent = Metadata[Targets].from_file(str(staged / "targets.json")).signed
    parent.verify_delegate("team/a", delegated.signed_bytes, delegated.signatures)
