"""The "re-sign expiring metadata" checklist: new versions written only on confirm."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from pilot_support import answer_modals, screen_name, settle, text
from textual.widgets import SelectionList
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from tui_support import ADMIN_PASSPHRASE, Ceremony, publish_with_bob


async def _flow(app, seen: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(130, 50)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert screen_name(pilot) == "ChecklistScreen"
        choices = app.screen.query_one("#expiring", SelectionList)
        seen["ticked"] = list(choices.selected)
        seen["offered"] = [
            choices.get_option_at_index(i).value for i in range(choices.option_count)
        ]
        await pilot.click("#write")
        # targets, snapshot, timestamp keys: one passphrase each
        seen["prompts"] = await answer_modals(pilot, ADMIN_PASSPHRASE, 3)
        seen["result"] = text(pilot, "#checklist-result")


def test_targets_expiring_in_20_days_is_renewed(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    seen: dict[str, object] = {}
    asyncio.run(_flow(make_app(ceremony.admin_home, ceremony.repo), seen))
    assert seen["offered"] == ["root", "targets", "snapshot", "timestamp"]
    # due: targets (20 days), snapshot (7 days), timestamp (1 day); root is never ticked
    assert seen["ticked"] == ["targets", "snapshot", "timestamp"]
    prompts = seen["prompts"]
    assert isinstance(prompts, list)
    assert [p.split("(")[1].rstrip(")") for p in prompts] == ["tgt", "snap", "ts"]
    result = str(seen["result"])
    assert "targets v2 expires" in result
    assert "snapshot v2 expires" in result and "timestamp v2 expires" in result
    repo = ceremony.repo
    root = Metadata[Root].from_file(str(repo / "root.json")).signed
    targets = Metadata[Targets].from_file(str(repo / "targets.json"))
    root.verify_delegate("targets", targets.signed_bytes, targets.signatures)
    assert targets.signed.version == 2
    assert targets.signed.expires > datetime.now(UTC) + timedelta(days=25)
    snapshot = Metadata[Snapshot].from_file(str(repo / "snapshot.json"))
    root.verify_delegate("snapshot", snapshot.signed_bytes, snapshot.signatures)
    assert snapshot.signed.meta["targets.json"].version == 2
    timestamp = Metadata[Timestamp].from_file(str(repo / "timestamp.json"))
    root.verify_delegate("timestamp", timestamp.signed_bytes, timestamp.signatures)
    assert timestamp.signed.snapshot_meta.version == snapshot.signed.version
