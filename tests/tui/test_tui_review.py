"""The review a holder reads before signing: a root rotation's diff, in the TUI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pilot_support import settle, sign_with, text
from tuf.api.metadata import Metadata, Root
from tui_support import ADMIN_PASSPHRASE, BOB_PASSPHRASE, Ceremony, fast_keys, publish_with_bob

from trustkeep.service import Service


def _rotate(ceremony: Ceremony) -> str:
    """Bob completes v1; admin's root v2 adds carol, threshold 3 (signed by alice, carol)."""
    publish_with_bob(ceremony)
    bob = Service(ceremony.home, lambda _name: BOB_PASSPHRASE)
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    carol = fast_keys(ceremony.admin_home, ADMIN_PASSPHRASE).generate("ed25519", name="carol")
    admin.repo.root_add_key(ceremony.repo, ["carol"])
    admin.repo.root_threshold(ceremony.repo, 3)
    carol_pem = ceremony.repo.parent / "carol.pub.pem"
    carol_pem.write_text(admin.keys.export_public("carol"))
    bob.keys.import_file(carol_pem, name="carol")
    return carol.keyid


def _signers(path: Path, previous: Path) -> tuple[set[str], set[str]]:
    md = Metadata[Root].from_file(str(path))
    prev = Metadata[Root].from_file(str(previous)).signed
    old = prev.get_verification_result("root", md.signed_bytes, md.signatures)
    own = md.signed.get_verification_result("root", md.signed_bytes, md.signatures)
    return set(old.signed), set(own.signed)


def test_rotation_review_then_bob_signs_v2(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    carol = _rotate(ceremony)
    app = make_app(ceremony.home, ceremony.repo)
    screens: dict[str, str] = {}
    asyncio.run(_flow(app, screens))
    details, review = screens["details"], screens["review"]
    assert "root v1 keys: 1 of 2 signatures — waiting for bob" in details
    assert "root v2 keys: 2 of 3 signatures — waiting for bob" in details
    assert f"+ key carol ({carol[:8]}) added to root" in review
    assert "~ root threshold 2 -> 3" in review
    assert "replaces version 1; expiry" in review
    assert "root: 3 of 3 keys (alice" in review
    old, own = _signers(ceremony.repo / "staged" / "root.json", ceremony.repo / "root.json")
    ids = ceremony.keyids
    assert old == {ids["alice"], ids["bob"]}
    assert own == {ids["alice"], ids["bob"], carol}
    assert not (ceremony.repo / "2.root.json").exists()  # staged until published


async def _flow(app, screens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 50)) as pilot:
        await settle(pilot)
        screens["details"] = text(pilot, "#details")
        await pilot.press("s")
        await settle(pilot)
        screens["review"] = text(pilot, "#review")
        await sign_with(pilot, BOB_PASSPHRASE)
        assert "threshold met" in text(pilot, "#sign-result")
