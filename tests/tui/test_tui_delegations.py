"""The delegations flow driven through the TUI from start to finish: add a role with two
keys and paths, add a key, remove a key, change the threshold, remove the role, make 16
hashed bins; python-tuf's ``Updater`` fetches a target through the new delegation and
``trustkeep verify`` accepts every result. Escape before the confirmation writes nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from pilot_support import answer_each, screen_name, settle, text, wait_until
from textual.pilot import Pilot
from textual.widgets import Input, Static, Tree
from tui_support import ADMIN_PASSPHRASE, Ceremony, publish_with_bob, transcript_steps

sys.path.insert(0, str(Path(__file__).parents[1] / "repo"))

from repo_oracle import fetch_target


def _result(pilot: Pilot[Any]) -> str:
    """The delegations screen's result line; "" while another screen is on top."""
    if screen_name(pilot) != "DelegationsScreen":
        return ""
    return text(pilot, "#result")


def _clear(pilot: Pilot[Any]) -> None:
    """Blank the result line, so that waiting for "written" waits for this action's."""
    pilot.app.screen.query_one("#result", Static).update("")


def _tree_hash(repo: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(repo.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(repo)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


async def _form(pilot: Pilot[Any], key: str, values: dict[str, str]) -> None:
    """Press ``key`` on the delegations screen, fill the form, ask for the review."""
    _clear(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: screen_name(pilot) == "FormScreen", "the form")
    for ident, value in values.items():
        pilot.app.screen.query_one(f"#form-{ident}", Input).value = value
    await pilot.click("#form-ok")
    await wait_until(pilot, lambda: screen_name(pilot) != "FormScreen", "the form to close")
    await wait_until(
        pilot,
        lambda: screen_name(pilot) == "ConfirmScreen" or "failed" in _result(pilot),
        "the review",
    )


async def _confirm(pilot: Pilot[Any]) -> tuple[list[str], str]:
    """Tick, confirm, answer every passphrase; (review lines, the result line)."""
    review = list(pilot.app.screen.lines)  # type: ignore[attr-defined]
    await pilot.click("#confirm-read")
    await pilot.click("#confirm-do")
    for _ in range(8):
        await wait_until(
            pilot,
            lambda: (
                screen_name(pilot) == "PassphraseModal"
                or _result(pilot).startswith(("written", "failed"))
            ),
            "a passphrase or the write",
        )
        if screen_name(pilot) != "PassphraseModal":
            break
        await answer_each(pilot, [ADMIN_PASSPHRASE])
    await settle(pilot)
    return review, text(pilot, "#result")


def _select(pilot: Pilot[Any], role: str) -> None:
    tree: Tree[str] = pilot.app.screen.query_one("#deleg-tree", Tree)
    node = next(n for n in tree.root.children if n.data == role)
    tree.move_cursor(node)


async def _first_session(app, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await _form(
            pilot,
            "a",
            {"role": "apps", "keys": "alice, bob", "paths": "apps/*, tools/*", "threshold": "1"},
        )
        seen["add"] = await _confirm(pilot)
        _select(pilot, "apps")
        await pilot.pause()
        seen["details"] = text(pilot, "#deleg-details")
        await _form(pilot, "k", {"keys": "tgt"})
        seen["add-key"] = await _confirm(pilot)
        _select(pilot, "apps")
        await _form(pilot, "x", {"keys": "bob"})
        seen["remove-key"] = await _confirm(pilot)
        _select(pilot, "apps")
        await _form(pilot, "t", {"threshold": "2"})
        seen["threshold"] = await _confirm(pilot)
        _select(pilot, "apps")
        await pilot.pause()
        seen["details-after"] = text(pilot, "#deleg-details")


async def _second_session(app, repo: Path, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        _select(pilot, "apps")
        _clear(pilot)
        await pilot.press("delete")
        await wait_until(pilot, lambda: screen_name(pilot) == "ConfirmScreen", "the review")
        seen["remove"] = await _confirm(pilot)
        await _form(pilot, "b", {"count": "16", "keys": "tgt", "threshold": "1"})
        seen["bins"] = await _confirm(pilot)
        seen["bins-targets"] = json.loads((repo / "targets.json").read_text())["signed"]
        tree: Tree[str] = pilot.app.screen.query_one("#deleg-tree", Tree)
        (group,) = tree.root.children
        seen["group"] = (str(group.label), group.is_expanded, len(group.children))
        tree.move_cursor(group)
        await pilot.press("space")  # open the collapsed bins: filled now
        await pilot.pause()
        seen["opened"] = [str(n.data) for n in group.children]
        tree.move_cursor(group.children[3])
        _clear(pilot)
        await pilot.press("delete")  # on a bin: all the bins, as the review says
        await wait_until(pilot, lambda: screen_name(pilot) == "ConfirmScreen", "the review")
        seen["remove-bins"] = await _confirm(pilot)


def _verify(run_cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("verify", str(repo), "--root", str(repo / "1.root.json"))
    assert code == 0, out + err


def test_every_delegation_change_through_the_tui(
    ceremony: Ceremony, make_app, run_cli, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from trustkeep.service import Service

    publish_with_bob(ceremony)
    ids = ceremony.keyids
    seen: dict[str, Any] = {}
    asyncio.run(_first_session(make_app(ceremony.admin_home, ceremony.repo), seen))

    review, result = seen["add"]
    assert "+ delegation targets -> apps, threshold 1 of 2" in review
    assert f"+ key bob ({ids['bob'][:8]}) added to apps" in review
    assert "+ paths: apps/*, tools/*" in review
    assert "then published at once, with a new snapshot and timestamp" in review
    assert result.startswith("written (published)")
    assert "threshold: 1 of 2 key(s)" in seen["details"]
    assert "scope: paths apps/*, tools/*" in seen["details"]
    assert "version 1, expires" in seen["details"]
    assert "state: signed" in seen["details"]

    review, result = seen["add-key"]
    assert f"+ key tgt ({ids['tgt'][:8]}) signs apps" in review and result.startswith("written")
    review, result = seen["remove-key"]
    assert f"- key bob ({ids['bob'][:8]}) no longer signs apps" in review
    review, result = seen["threshold"]
    assert "~ threshold of apps: 1 -> 2" in review
    assert "~ 1 role(s) re-signed: their signatures no longer meet the keys" in review
    assert result.startswith("written (published)")
    assert "threshold: 2 of 2 key(s)" in seen["details-after"]

    targets = json.loads((ceremony.repo / "targets.json").read_text())["signed"]
    (role,) = targets["delegations"]["roles"]
    assert (role["name"], role["paths"], role["threshold"]) == ("apps", ["apps/*", "tools/*"], 2)
    assert role["keyids"] == [ids["alice"], ids["tgt"]]
    apps = json.loads((ceremony.repo / "apps.json").read_text())
    assert {s["keyid"] for s in apps["signatures"]} == {ids["alice"], ids["tgt"]}
    _verify(run_cli, ceremony.repo)

    # python-tuf's client finds a target through the new delegation
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    files = tmp_path / "files"
    (files / "apps").mkdir(parents=True)
    (files / "apps" / "tool.bin").write_bytes(b"delegated bytes")
    admin.repo.targets_add(ceremony.repo, [files / "apps" / "tool.bin"], base=files)
    assert fetch_target(ceremony.repo, tmp_path / "client", "apps/tool.bin", files) == (
        b"delegated bytes"
    )
    assert (
        "apps/tool.bin"
        in json.loads((ceremony.repo / "apps.json").read_text())["signed"]["targets"]
    )

    seen = {}
    asyncio.run(_second_session(make_app(ceremony.admin_home, ceremony.repo), ceremony.repo, seen))
    review, result = seen["remove"]
    assert "- delegation targets -> apps" in review and result.startswith("written")
    review, result = seen["bins"]
    assert review[0] == (
        "+ targets delegates every path to 16 succinct hash bins bins-0 … bins-f, threshold 1 of 1"
    )
    assert result.startswith("written (published)")
    label, expanded, children = seen["group"]
    assert label == "bins-* 16 bins 1/1 [signed]"
    assert (expanded, children) == (False, 0)  # collapsed, filled when opened
    assert seen["opened"] == [f"bins-{i:x}" for i in range(16)]
    assert seen["bins-targets"]["delegations"]["succinct_roles"]["bit_length"] == 4
    assert all((ceremony.repo / f"bins-{i:x}.json").is_file() for i in range(16))
    review, result = seen["remove-bins"]
    assert review[0] == "- delegation targets -> bins-* (16 succinct hash bins)"
    assert result.startswith("written (published)")
    targets = json.loads((ceremony.repo / "targets.json").read_text())["signed"]
    assert "delegations" not in targets or targets["delegations"] is None
    _verify(run_cli, ceremony.repo)
    steps = [s for s, _ in transcript_steps(tmp_path / "transcript.jsonl")]
    for step in ("delegation added", "delegation keys changed", "delegation removed"):
        assert step in steps
    assert "delegation bins added" in steps


async def _cancel(app, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await _form(pilot, "a", {"role": "apps", "keys": "alice", "paths": "apps/*"})
        seen["review"] = screen_name(pilot)
        await pilot.press("escape")  # at the review
        await settle(pilot)
        seen["after-review"] = text(pilot, "#result")
        await pilot.press("b")
        await wait_until(pilot, lambda: screen_name(pilot) == "FormScreen", "the form")
        await pilot.press("escape")  # at the form
        await settle(pilot)
        await _form(pilot, "a", {"role": "apps", "keys": "nosuchkey", "paths": "apps/*"})
        seen["bad"] = text(pilot, "#result")
        seen["screen"] = screen_name(pilot)


def test_escape_before_the_confirmation_writes_nothing(ceremony: Ceremony, make_app) -> None:  # type: ignore[no-untyped-def]
    publish_with_bob(ceremony)
    before = _tree_hash(ceremony.repo)
    seen: dict[str, Any] = {}
    asyncio.run(_cancel(make_app(ceremony.admin_home, ceremony.repo), seen))
    assert seen["review"] == "ConfirmScreen"
    assert seen["after-review"] == "add role: cancelled, nothing written"
    assert seen["screen"] == "DelegationsScreen"  # a bad key fails at the review
    assert seen["bad"].startswith("add role failed:") and "nosuchkey" in seen["bad"]
    assert _tree_hash(ceremony.repo) == before
