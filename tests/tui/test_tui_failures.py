"""A wrong or cancelled passphrase writes nothing; the transcript never holds a secret."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pilot_support import screen_name, screenshot_text, settle, text, wait_for_modal
from tui_support import ADMIN_PASSPHRASE, BOB_PASSPHRASE, Ceremony, transcript_steps

from trustkeep.service import Service


async def _open_sign_and_answer(app, answers: list[str | None], seen: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Open the root's sign screen, press confirm once per answer (None: Escape)."""
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for i, answer in enumerate(answers):
            await pilot.click("#confirm")
            await wait_for_modal(pilot)
            seen[f"prompt{i}"] = str(app.screen.query_one("#passphrase-prompt").content)
            if answer is None:
                await pilot.press("escape")
            else:
                await pilot.press(*answer)
                seen[f"typed{i}"] = screenshot_text(
                    app.export_screenshot()
                )  # the modal, text typed
                await pilot.press("enter")
            await settle(pilot)
            seen[f"result{i}"] = text(pilot, "#sign-result")
        seen["screenshot"] = screenshot_text(app.export_screenshot())


def _run(ceremony: Ceremony, make_app, answers: list[str | None]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    seen: dict[str, str] = {}
    asyncio.run(_open_sign_and_answer(make_app(ceremony.home, ceremony.repo), answers, seen))
    return seen


def _repo_bytes(repo: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}


def test_wrong_then_cancelled_write_nothing(ceremony: Ceremony, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = _repo_bytes(ceremony.repo)
    seen = _run(ceremony, make_app, ["wrongpass1", None])
    bob = ceremony.keyids["bob"]
    assert seen["prompt0"] == f"Passphrase for key {bob[:8]} (bob)"
    assert seen["result0"] == (
        f"sign failed: wrong passphrase for key {bob} (bob); nothing was written"
    )
    assert seen["result1"] == (
        f"sign failed: no passphrase for key {bob[:8]} (bob): entry cancelled; nothing was written"
    )
    assert _repo_bytes(ceremony.repo) == before
    transcript = (tmp_path / "transcript.jsonl").read_text() + (
        tmp_path / "transcript.md"
    ).read_text()
    assert "wrongpass1" not in transcript
    assert "Passphrase for key" in seen["typed0"]
    assert "wrongpass1" not in seen["typed0"]
    assert "•" * len("wrongpass1") in seen["typed0"]
    failed = [f for step, f in transcript_steps(tmp_path / "transcript.jsonl") if step == "failed"]
    assert [(f["action"], f["role"], f["keyid"]) for f in failed] == [("sign", "root", bob)] * 2


def test_retry_after_a_wrong_passphrase_signs(ceremony: Ceremony, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seen = _run(ceremony, make_app, ["wrongpass2", BOB_PASSPHRASE])
    assert "wrong passphrase" in seen["result0"]
    assert seen["result1"].startswith("signed root v1 with key bob (")
    assert "root v1 keys: 2 of 2 signatures — threshold met" in seen["result1"]
    entries = transcript_steps(tmp_path / "transcript.jsonl")
    steps = [step for step, _ in entries]
    assert steps[:5] == ["session opened", "opened", "reviewed", "failed", "signed"]
    assert steps[-1] == "session closed"
    assert all(f["directory"] == str(ceremony.repo) for _, f in entries[1:-1])
    assert BOB_PASSPHRASE not in (tmp_path / "transcript.jsonl").read_text()
    assert BOB_PASSPHRASE not in seen["typed1"]


async def _review_then_file_changes(app, change, seen: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        seen["reviewed"] = text(pilot, "#review")
        change()  # someone else rewrites root.json while the holder reads
        await pilot.click("#confirm")
        await settle(pilot)
        seen["screen"] = screen_name(pilot)
        seen["result"] = text(pilot, "#sign-result")
        seen["review_again"] = text(pilot, "#review")


def test_a_file_changed_after_review_is_not_signed(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    changed: dict[str, bytes] = {}

    def change() -> None:
        admin.repo.root_expire(ceremony.repo, expires="root=30d")
        changed["root"] = (ceremony.repo / "staged" / "root.json").read_bytes()

    seen: dict[str, str] = {}
    asyncio.run(_review_then_file_changes(make_app(ceremony.home, ceremony.repo), change, seen))
    assert seen["screen"] == "SignScreen"  # no passphrase was asked
    assert seen["result"] == (
        f"sign failed: {ceremony.repo / 'staged' / 'root.json'}: root changed since you "
        "reviewed it; review it again before signing; nothing was written"
    )
    assert (ceremony.repo / "staged" / "root.json").read_bytes() == changed["root"]
    digest = [line for line in seen["review_again"].splitlines() if line.startswith("sha256")]
    assert digest and digest[0] not in seen["reviewed"]  # the new content is on screen
