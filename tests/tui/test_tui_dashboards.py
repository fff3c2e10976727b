"""The expiry dashboard and the verify flow, driven through the TUI."""

from __future__ import annotations

import asyncio
from typing import Any

from pilot_support import screen_name, settle, text, wait_until
from rich.text import Text
from textual.widgets import DataTable, OptionList, Tree
from tui_support import Ceremony, publish_with_bob, transcript_steps


async def _expiry(app, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("escape")  # from the repository's status back to the home
        await settle(pilot)
        assert screen_name(pilot) == "HomeScreen"
        await pilot.press("e")
        await settle(pilot)
        table = pilot.app.screen.query_one("#expiry", DataTable)
        seen["rows"] = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        seen["styles"] = {
            str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0].style)
            for i in range(table.row_count)
            if isinstance(table.get_row_at(i)[0], Text)
        }
        await pilot.click("#filter")
        await pilot.press(*"times")
        await wait_until(pilot, lambda: table.row_count == 1, "the filter")
        seen["filtered"] = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        table.focus()
        await pilot.press("enter")  # re-sign from the dashboard
        await settle(pilot)
        seen["screen"] = screen_name(pilot)


def test_expiry_dashboard_lists_every_role_soonest_first(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    seen: dict[str, Any] = {}
    asyncio.run(_expiry(make_app(ceremony.home, ceremony.repo), seen))
    roles = [row[1] for row in seen["rows"]]
    assert roles == ["timestamp", "snapshot", "targets", "root"]  # soonest first
    assert seen["rows"][0][0].endswith("hours left")
    assert all(row[4] == str(ceremony.repo) for row in seen["rows"])
    assert seen["styles"]["timestamp"] == "yellow"  # due within a day
    assert seen["styles"]["snapshot"] == "yellow"  # due within a week (7 days at most)
    assert seen["styles"]["targets"] == "yellow"  # 20 days: within 30
    assert seen["styles"]["root"] == "green"
    assert seen["filtered"] == ["timestamp"]
    assert seen["screen"] == "ChecklistScreen"


async def _verify(app, repo: str, root: str, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#directory").value = repo
        screen.query_one("#root").value = root
        await pilot.click("#run")
        await wait_until(pilot, lambda: "verifying" not in text(pilot, "#verdict"), "verdict")
        await settle(pilot)
        seen["verdict"] = text(pilot, "#verdict")
        tree = screen.query_one("#chain", Tree)
        seen["tree"] = [str(n.label) for n in tree.root.children]
        findings = screen.query_one("#findings", OptionList)
        seen["findings"] = [
            str(findings.get_option_at_index(i).prompt) for i in range(findings.option_count)
        ]
        if findings.option_count:
            findings.focus()
            findings.highlighted = 0
            await pilot.press("enter")
            await settle(pilot)
            node = tree.cursor_node
            seen["jumped"] = node.data if node is not None else None


def test_verify_flow_shows_the_chain_and_jumps_to_the_role(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    trusted = ceremony.repo.parent / "trusted-root.json"
    trusted.write_bytes((ceremony.repo / "root.json").read_bytes())
    seen: dict[str, Any] = {}
    asyncio.run(_verify(make_app(ceremony.home), str(ceremony.repo), str(trusted), seen))
    assert seen["verdict"].startswith("VALID — tuf, anchor: root")
    assert any(label.startswith("✓ targets v1") for label in seen["tree"])
    assert any(label.startswith("✓ timestamp v1") for label in seen["tree"])
    # tamper: targets signed by nobody now
    targets = ceremony.repo / "targets.json"
    targets.write_text(targets.read_text().replace('"sig": "', '"sig": "00'))
    seen = {}
    asyncio.run(_verify(make_app(ceremony.home), str(ceremony.repo), str(trusted), seen))
    assert seen["verdict"].startswith("NOT VALID")
    assert any("threshold-not-met [targets]" in f for f in seen["findings"])
    assert seen["jumped"] == "targets"


def test_verify_is_recorded(ceremony: Ceremony, make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    seen: dict[str, Any] = {}
    asyncio.run(_verify(make_app(ceremony.home), str(ceremony.repo), "", seen))
    assert "no-anchor" in " ".join(seen["findings"])
    steps = transcript_steps(tmp_path / "transcript.jsonl")
    verified = [f for step, f in steps if step == "verified"]
    assert verified and verified[0]["anchor"] == "none"


async def _merge(app, copy: str, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        seen["before"] = text(pilot, "#queue-note")
        pilot.app.screen.query_one("#merge-files").value = copy
        await pilot.click("#merge")
        await settle(pilot)
        seen["merged"] = text(pilot, "#result")
        seen["after"] = text(pilot, "#queue-note")


def test_queue_merges_a_travelled_copy_without_a_key(
    ceremony: Ceremony, make_app, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from tui_support import BOB_PASSPHRASE

    from trustkeep.service import Service

    copy = tmp_path / "travelled-root.json"
    shutil.copy(ceremony.repo / "staged" / "root.json", copy)
    Service(ceremony.home, lambda _name: BOB_PASSPHRASE).repo.sign(copy, "bob")
    seen: dict[str, Any] = {}
    asyncio.run(_merge(make_app(ceremony.admin_home, ceremony.repo), str(copy), seen))
    assert seen["before"].startswith("1 role(s) await signatures")
    assert f"{copy}: root — signatures added: bob" in seen["merged"]
    assert "staged root v1: complete" in seen["merged"]
    assert "Every staged change is signed" in seen["after"]
    steps = [s for s, _ in transcript_steps(tmp_path / "transcript.jsonl")]
    assert "merged" in steps
