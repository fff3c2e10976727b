"""Root rotation, step by step: nothing chosen for you, Escape at each step writes nothing,
failures are shown where they happened, the pins the rotation breaks are named."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from pilot_support import screen_name, screenshot_text, settle, text, wait_for_modal
from rotation_support import confirm, rotation_world, tick, tree_digest, type_into
from tui_support import ADMIN_PASSPHRASE, Ceremony

from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService
from trustkeep.service.ceremony_rotation import KeyFile, RotationPlan


def _digest(ceremony: Ceremony) -> str:
    """The repository and the admin's key store (key files are imported only on confirm)."""
    return tree_digest(ceremony.repo, ceremony.admin_home)


async def _escape(pilot: Any) -> None:
    await pilot.press("escape")
    await settle(pilot)


async def _steps(app: Any, ceremony: Ceremony, dave_pem: Path, seen: dict[str, Any]) -> None:
    ids = ceremony.keyids
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen["opened"] = _digest(ceremony)  # opening remembers the repository in the home
        await pilot.press("k")
        await settle(pilot)
        await pilot.click("#rotate-review")  # nothing ticked: nothing to review
        await settle(pilot)
        seen["nothing"] = (screen_name(pilot), text(pilot, "#rotate-result"))
        await tick(pilot, "#remove", ids["bob"])
        await _escape(pilot)  # step 1: the choices
        seen["after_choices"] = (screen_name(pilot), _digest(ceremony))
        await pilot.press("k")
        await settle(pilot)
        await tick(pilot, "#remove", ids["bob"])
        await type_into(pilot, "#file-path", str(dave_pem))
        await pilot.press("enter")
        await pilot.click("#rotate-review")
        await settle(pilot)
        seen["review_screen"] = screen_name(pilot)
        seen["review"] = list(pilot.app.screen.lines)
        await _escape(pilot)  # step 2: the review
        seen["after_review"] = (
            screen_name(pilot),
            _digest(ceremony),
            text(pilot, "#rotate-result"),
        )
        await pilot.click("#rotate-review")
        await settle(pilot)
        await confirm(pilot)
        await settle(pilot)
        seen["staged"] = _digest(ceremony)
        await _panel_steps(pilot, ceremony, seen)


async def _panel_steps(pilot: Any, ceremony: Ceremony, seen: dict[str, Any]) -> None:
    alice = ceremony.keyids["alice"]
    await pilot.click(f"#sign-{alice}")
    await settle(pilot)
    await _escape(pilot)  # step 3: the signing review
    seen["after_sign_review"] = (screen_name(pilot), _digest(ceremony))
    await pilot.click(f"#sign-{alice}")
    await settle(pilot)
    await confirm(pilot)
    await wait_for_modal(pilot)
    await pilot.press(*ADMIN_PASSPHRASE[:5])
    seen["half_typed"] = screenshot_text(pilot.app.export_screenshot())
    await _escape(pilot)  # step 4: the passphrase
    seen["after_passphrase"] = (screen_name(pilot), _digest(ceremony), text(pilot, "#panel-result"))
    await type_into(pilot, "#merge-path", "/nonexistent/root.json")
    await pilot.press("enter")
    await settle(pilot)
    seen["bad_merge"] = (_digest(ceremony), text(pilot, "#panel-result"))
    await pilot.press("p")  # not complete: publish does nothing
    await settle(pilot)
    seen["publish_early"] = screen_name(pilot)
    seen["panel"] = screenshot_text(pilot.app.export_screenshot())
    await _escape(pilot)
    seen["end"] = (screen_name(pilot), _digest(ceremony))


def test_escape_at_each_step_writes_nothing(
    ceremony: Ceremony, make_app: Any, tmp_path: Path
) -> None:
    h = rotation_world(ceremony)
    service = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    daemon, _ = _pin_files(ceremony, service, ceremony.keyids["bob"])
    # the app's transcript (make_app): a daemon.json pin saved by an earlier ceremony
    earlier = CeremonyService(service, ceremony.repo, transcript=tmp_path / "transcript.jsonl")
    earlier.record("pin saved", kind="docker", file=str(daemon))
    seen: dict[str, Any] = {}
    asyncio.run(_steps(make_app(ceremony.admin_home, ceremony.repo), ceremony, h.dave_pem, seen))
    before = seen["opened"]
    assert seen["nothing"][0] == "RotateScreen"
    assert seen["nothing"][1].startswith("review failed: nothing to change")
    assert seen["after_choices"] == ("StatusScreen", before)
    assert seen["review_screen"] == "ConfirmScreen"
    assert seen["review"][1].startswith(f"! the pins saved in {daemon} name the retired key bob")
    assert seen["after_review"] == ("RotateScreen", before, "not staged: nothing was written")
    assert seen["staged"] != before
    assert (ceremony.repo / "staged" / "root.json").is_file()
    assert seen["after_sign_review"] == ("RotationPanelScreen", seen["staged"])
    screen, digest, said = seen["after_passphrase"]
    assert (screen, digest) == ("RotationPanelScreen", seen["staged"])
    assert said.startswith("sign failed: ") and said.endswith("nothing was written")
    assert ADMIN_PASSPHRASE[:5] not in seen["half_typed"]
    digest, said = seen["bad_merge"]
    assert digest == seen["staged"]
    assert said.startswith("merge failed: /nonexistent/root.json")
    assert seen["publish_early"] == "RotationPanelScreen"
    assert "signed by old root: 0 of 2, new root: 0 of 2 — waiting for alice, bob" in seen["panel"]
    assert seen["end"] == ("StatusScreen", seen["staged"])


def test_a_private_key_file_is_refused(ceremony: Ceremony, make_app: Any, tmp_path: Path) -> None:
    rotation_world(ceremony)
    private = tmp_path / "dave.key.pem"
    private.write_text(
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
    )
    seen: dict[str, str] = {}

    async def run() -> None:
        async with make_app(ceremony.admin_home, ceremony.repo).run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            seen["opened"] = _digest(ceremony)
            await pilot.press("k")
            await settle(pilot)
            await type_into(pilot, "#file-path", str(private))
            await pilot.press("enter")
            await pilot.click("#rotate-review")
            await settle(pilot)
            seen["screen"] = screen_name(pilot)
            seen["result"] = text(pilot, "#rotate-result")
            seen["after"] = _digest(ceremony)

    asyncio.run(run())
    assert seen["screen"] == "RotateScreen"
    assert seen["result"] == (
        f"review failed: {private}: holds a private key; give the public key file; "
        "nothing was written"
    )
    assert seen["after"] == seen["opened"]


def _pin_files(ceremony: Ceremony, service: Service, bob: str) -> tuple[Path, Path]:
    """A daemon.json and a Notary client config pinning the root keys, saved as the
    new-root flow saves pins (a "pin saved" transcript entry for this repository)."""
    daemon = ceremony.repo.parent / "daemon.json"
    daemon.write_text(
        json.dumps({"content-trust": {"trust-pinning": {"root-keys": {"example.com/*": [bob]}}}})
    )
    notary = ceremony.repo.parent / "notary-pins.json"
    notary.write_text(json.dumps({"trust_pinning": {"certs": {"example.com/app": [bob]}}}))
    return daemon, notary


def test_review_names_the_pins_the_rotation_breaks(ceremony: Ceremony, tmp_path: Path) -> None:
    h = rotation_world(ceremony)
    service = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    ceremony_service = CeremonyService(service, ceremony.repo, transcript=tmp_path / "t.jsonl")
    bob = ceremony.keyids["bob"]
    daemon, notary = _pin_files(ceremony, service, bob)
    for path, kind in ((daemon, "docker"), (notary, "notary")):
        ceremony_service.record("pin saved", kind=kind, file=str(path))
    unrelated = tmp_path / "other.json"
    unrelated.write_text("{}")
    ceremony_service.record("pin saved", kind="tuf", file=str(unrelated))
    rotation = ceremony_service.rotation
    keep = rotation.review(RotationPlan(add=(h.carol,)))
    assert not [line for line in keep.lines if line.startswith("! the pins")]
    review = rotation.review(
        RotationPlan(remove=(bob,), files=(KeyFile(str(h.dave_pem), "dave"),), threshold=2)
    )
    warnings = [line for line in review.lines if line.startswith("! the pins")]
    assert warnings == [
        f"! the pins saved in {path} name the retired key bob ({bob[:8]}): clients pinned "
        "with them need the pins of the new root (save them after it)"
        for path in sorted((daemon, notary), key=str)
    ]
    assert not (ceremony.repo / "staged").exists()
    assert service.keys.get(h.dave) is None  # reviewed, not imported


def test_a_panel_that_cannot_be_read_says_so_once(
    ceremony: Ceremony, make_app: Any, tmp_path: Path
) -> None:
    """The staged root is damaged under the panel: Refresh shows the failure (the one
    ActionFailed handler) and does not retry in a loop."""
    h = rotation_world(ceremony)
    service = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    rotation = CeremonyService(service, ceremony.repo, transcript=tmp_path / "t.jsonl").rotation
    rotation.write(rotation.review(RotationPlan(add=(h.carol,))))
    seen: dict[str, Any] = {}

    async def run() -> None:
        async with make_app(ceremony.admin_home, ceremony.repo).run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("k")
            await settle(pilot)
            await pilot.click("#rotate-panel")
            await settle(pilot)
            seen["line"] = text(pilot, "#panel-line")
            seen["signed"] = text(pilot, "#panel-checks").splitlines()[-1]
            (ceremony.repo / "staged" / "root.json").write_text("{not json")
            await pilot.press("r")
            await settle(pilot)
            seen["result"] = text(pilot, "#panel-result")
            seen["running"] = [w.name for w in pilot.app.workers if not w.is_finished]

    asyncio.run(run())
    assert seen["line"] == (
        "signed by old root: 0 of 2, new root: 0 of 2 — waiting for alice, bob, carol"
    )
    assert seen["signed"] == "signed so far: nobody"
    assert seen["result"].startswith("rotation failed: ")
    assert seen["running"] == []
