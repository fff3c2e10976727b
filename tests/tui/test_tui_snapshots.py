"""SVG snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Only screens whose content does not depend on random keyids or temporary paths are
snapshotted; the flows themselves are asserted by the Pilot and tmux tests.
Update after an intended change: ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pilot_support import settle, wait_until
from textual.pilot import Pilot

from trustkeep.service.ceremony import CeremonyService
from trustkeep.service.ceremony_newroot import HolderPlan, NewRootDraft
from trustkeep.service.ceremony_rotation import RotationPlan

SIZES = [(80, 24), (120, 40)]
FIXED = Path("/nonexistent/trustkeep-snapshot")


def _app(home: Path):  # type: ignore[no-untyped-def]
    from trustkeep_tui import CeremonyApp, TuiSecrets

    from trustkeep.service import Service

    secrets = TuiSecrets()
    return CeremonyApp(Service(home, secrets), secrets, transcript=home / "t.jsonl")


def _draft() -> NewRootDraft:
    return NewRootDraft(
        ceremony_id="20261201T000000-abcdef",
        directory=str(FIXED / "acme"),
        format="tuf",
        holders=(HolderPlan("alice"), HolderPlan("bob")),
        threshold=2,
        root_days=365,
    )


def _rotation_repo(home: Path, *, staged: bool = False) -> Path:
    """A published 2-of-2 root (alice, bob) made at a fixed time with fixed keys, and carol
    in the store: the rotate screens show the same keyids and dates on every run.
    ``staged``: root v2 (bob out, carol in) waits for its signatures."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from trustkeep.service import Service

    service = Service(home, lambda _name: "snapshot-pass-1")
    service.keys.kdf_iterations = 20_000
    for seed, name in enumerate(("alice", "bob", "carol", "tgt", "online"), 1):
        key = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
        service.keys.add_private(key, name=name, passphrase="snapshot-pass-1")
    repo = home.parent / "acme"
    service.repo.init(
        repo,
        keys={"root": ["alice", "bob"], "targets": ["tgt"], "snapshot": ["online"]}
        | {"timestamp": ["online"]},
        thresholds={"root": 2},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    if staged:
        rotation = CeremonyService(service, repo, transcript=home / "t.jsonl").rotation
        bob = service.keys.resolve("bob").keyid
        plan = RotationPlan(remove=(bob,), add=(service.keys.resolve("carol").keyid,))
        rotation.write(rotation.review(plan, now=datetime(2026, 12, 2, tzinfo=UTC)))
    return repo


async def _rotate(pilot: Pilot[Any]) -> None:
    app = pilot.app
    app.open_repository(app.service.home.parent / "acme")  # type: ignore[attr-defined]
    await settle(pilot)
    app.sub_title = str(FIXED / "acme")
    await pilot.press("k")


async def _rotation_panel(pilot: Pilot[Any]) -> None:
    await _rotate(pilot)
    await settle(pilot)
    await pilot.click("#rotate-panel")


async def _holder(pilot: Pilot[Any]) -> None:
    from trustkeep_tui.holder_screen import HolderKeyScreen

    await pilot.app.push_screen(HolderKeyScreen(_draft(), 0))
    await pilot.pause()


async def _delegations(pilot: Pilot[Any]) -> None:
    """The fixed fixture repository (expiry 2100, fixed keys) opened on its delegations."""
    import shutil

    repo = Path(pilot.app.service.home).parent / "repo"  # type: ignore[attr-defined]
    shutil.copytree(Path(__file__).parents[2] / "fixtures" / "tuf" / "valid", repo)
    pilot.app.open_repository(repo)  # type: ignore[attr-defined]
    await settle(pilot)
    pilot.app.sub_title = str(FIXED / "repo")
    await pilot.press("d")
    await settle(pilot)


async def _delegations_filtered(pilot: Pilot[Any]) -> None:
    from textual.widgets import Tree

    await _delegations(pilot)
    await pilot.press("slash", *"rel")
    tree = pilot.app.screen.query_one("#deleg-tree", Tree)
    await wait_until(pilot, lambda: "match" in str(tree.root.label), "the filter")
    pilot.app.screen.query_one("#deleg-filter").cursor_blink = False  # type: ignore[attr-defined]
    await pilot.pause()


async def _delegations_form(pilot: Pilot[Any]) -> None:
    from textual.widgets import Input

    await _delegations(pilot)
    await pilot.press("a")
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.focused, Input) and pilot.app.focused.id == "form-role",
        "the form",
    )
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False  # a blinking cursor would make two runs differ
    await pilot.pause()


SCREENS: dict[str, tuple[list[str], Any]] = {
    "home": ([], None),
    "help": (["f1"], None),
    "expiry": (["e"], None),
    "home-light": (["ctrl+t"], None),
    "rotate": (["down", "space"], _rotate),
    "rotate-panel": ([], _rotation_panel),
    "delegations": ([], _delegations),
    "delegations-filter": ([], _delegations_filtered),
    "delegations-add-role": ([], _delegations_form),
}


def _before(push: Any, keys: list[str]) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if push is not None:
            await push(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", SCREENS, ids=list(SCREENS))
def test_screen_snapshot(name: str, size: tuple[int, int], snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys, push = SCREENS[name]
    if push in (_rotate, _rotation_panel):
        _rotation_repo(tmp_path / "home", staged=push is _rotation_panel)
    app = _app(tmp_path / "home")
    assert snap_compare(app, terminal_size=size, run_before=_before(push, keys))


# -- the new-root flow, each step (keys from fixed seeds: the keyids shown never change) --

DATA = Path(__file__).parent / "data"
GUN = "registry.example.com/acme/app"
SNAP_SECRET = "Snapshot-passphrase-1"


def _fixed_keys(home: Path) -> dict[str, str]:
    """alice, bob and the two role keys, ed25519 from fixed seeds, in ``home``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from tui_support import TEST_KDF_ITERATIONS

    from trustkeep.service import Service

    service = Service(home, lambda _n: SNAP_SECRET)
    service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    ids = {}
    for i, name in enumerate(("alice", "bob", "acme-targets", "acme-online"), start=1):
        key = Ed25519PrivateKey.from_private_bytes(bytes([i]) * 32)
        ids[name] = service.keys.add_private(key, name=name, passphrase=SNAP_SECRET).keyid
    return ids


def _keyed_draft(home: Path, *, role_keys: bool) -> NewRootDraft:
    ids = _fixed_keys(home)
    holders = tuple(HolderPlan(n, keyid=ids[n]) for n in ("alice", "bob"))
    roles = (ids["acme-targets"], ids["acme-online"]) if role_keys else ()
    return replace(_draft(), holders=holders, role_keys=roles)


def _holder_at(location: str) -> Any:
    async def push(pilot: Pilot[Any]) -> None:
        from textual.widgets import RadioButton
        from trustkeep_tui.holder_screen import HolderKeyScreen

        await pilot.app.push_screen(HolderKeyScreen(_draft(), 1))
        await pilot.pause()
        pilot.app.screen.query_one(f"#loc-{location}", RadioButton).value = True

    return push


async def _role_keys(pilot: Pilot[Any]) -> None:
    from trustkeep_tui.rolekeys_screen import RoleKeysScreen

    home = pilot.app.service.home  # type: ignore[attr-defined]
    await pilot.app.push_screen(RoleKeysScreen(_keyed_draft(home, role_keys=False)))


async def _review(pilot: Pilot[Any]) -> None:
    from trustkeep_tui.newroot_review_screen import NewRootReviewScreen

    home = pilot.app.service.home  # type: ignore[attr-defined]
    await pilot.app.push_screen(NewRootReviewScreen(_keyed_draft(home, role_keys=True)))


async def _notary_pins(pilot: Pilot[Any]) -> None:
    """The pins of a committed root certificate (tests/tui/data/root.crt), paths under FIXED."""
    from trustkeep_tui.pins_screen import PinsScreen

    from trustkeep.service.ceremony_newroot import NewRootResult

    app: Any = pilot.app
    real = app.new_root.pins
    app.new_root.pins = lambda d: [
        replace(b, default_path=FIXED / b.default_path.name) for b in real(d)
    ]
    draft = replace(
        _draft(), format="notary", directory=str(DATA), gun=GUN, holders=(HolderPlan("alice"),)
    )
    draft = replace(draft, threshold=1)
    ids = ("certificate ID ee743836e5a7a0f2", "canonical ID 3571bf4785711e80")
    result = NewRootResult((FIXED / "root.crt",), ids, True)
    await pilot.app.push_screen(PinsScreen(draft, result))


NEW_ROOT_SCREENS: dict[str, tuple[list[str], Any]] = {
    "new-root-plan": (["n", "tab", "tab", *"alice, bob", "tab", "2"], None),
    "holder-key": ([*"not-shown-1"], _holder),
    "plan-notary": (["n", "tab", "down", "enter", "tab", *"r.example/acme", "tab", "a"], None),
    "holder-keyring": ([*"not-shown-2"], _holder_at("keyring")),
    "holder-import": ([], _holder_at("import")),
    "holder-pkcs11": ([], _holder_at("pkcs11")),
    "holder-public": ([], _holder_at("public")),
    "role-keys": ([*"not-shown-3"], _role_keys),
    "review": ([], _review),
    "pins-notary": ([], _notary_pins),
}


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("name", NEW_ROOT_SCREENS, ids=list(NEW_ROOT_SCREENS))
def test_new_root_snapshot(name: str, size: tuple[int, int], snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys, push = NEW_ROOT_SCREENS[name]
    app = _app(tmp_path / "home")
    assert snap_compare(app, terminal_size=size, run_before=_steady(push, keys))


def _steady(push: Any, keys: list[str]) -> Any:
    """As ``_before``, then the focused field's cursor stops blinking (shown, steady)."""
    from textual.widgets import Input

    async def run(pilot: Pilot[Any]) -> None:
        await _before(push, keys)(pilot)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    return run


def _rows(svg: str) -> list[str]:
    """The rendered terminal lines of an ``export_screenshot()`` SVG."""
    spans = re.finditer(
        r'<text[^>]*x="([\d.]+)"[^>]*clip-path="url\(#terminal-(?:\d+-)?line-(\d+)\)"[^>]*>(.*?)</text>',
        svg,
        flags=re.S,
    )
    rows: dict[int, list[tuple[float, str]]] = {}
    for m in spans:
        text = html.unescape(m[3]).replace("\xa0", " ")
        rows.setdefault(int(m[2]), []).append((float(m[1]), text))
    return ["".join(t for _, t in sorted(r)) for _, r in sorted(rows.items())]


FIT_SCREENS = NEW_ROOT_SCREENS


@pytest.mark.parametrize("name", FIT_SCREENS, ids=list(FIT_SCREENS))
def test_new_root_labels_are_whole_at_80x24(name: str, tmp_path: Path) -> None:
    """Every label, button and choice that shows at 80x24 shows whole (no "— thresho")."""
    from textual.widgets import Button, Checkbox, Label, RadioButton

    keys, push = FIT_SCREENS[name]
    app = _app(tmp_path / "home")
    cut: list[str] = []

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _before(push, keys)(pilot)
            rows = _rows(app.export_screenshot())
            assert len(rows) == 24
            for widget in app.screen.query("Label, Button, RadioButton, Checkbox"):
                if not widget.display:
                    continue
                if isinstance(widget, (Button, RadioButton, Checkbox)):
                    text = str(widget.label)
                else:
                    assert isinstance(widget, Label)
                    text = str(widget.content)
                shown = any(text[:12] in row for row in rows)
                if shown and not any(text in row for row in rows):
                    cut.append(text)

    asyncio.run(run())
    assert cut == []
