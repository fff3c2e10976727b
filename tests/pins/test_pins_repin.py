"""``pin apply --notary-config`` against the real Notary client: disable_tofu as ``pin export
--format notary`` writes it, a warning when a repository is re-pinned, ``--add`` for the
window of a root rotation."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from notary_env import NotaryClient, NotaryServer

INTEROP = (pytest.mark.interop, pytest.mark.xdist_group("pins-notary"))

RunCli = Callable[..., tuple[int, str, str]]


@dataclass(frozen=True)
class Rotated:
    """One GUN whose root was rotated, and one other GUN, made by the real ``notary``."""

    server: NotaryServer
    base: Path
    gun: str
    other: str
    trust_dir: Path  # the cache holds the rotated root
    pre_rotation_root: Path
    other_trust_dir: Path

    def fresh_list(self, gun: str, config: Path) -> tuple[int, str]:
        """``notary list GUN`` from a new, empty trust dir with ``-c config``."""
        fresh = self.base / f"fresh-{uuid.uuid4().hex[:8]}"
        proc = NotaryClient(self.server, fresh).run("list", gun, config=config, check=False)
        shutil.rmtree(fresh, ignore_errors=True)
        return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def rotated(notary: NotaryServer, tmp_path_factory: pytest.TempPathFactory) -> Rotated:
    base = tmp_path_factory.mktemp("pins-apply")
    prefix = f"apply.example/{uuid.uuid4().hex[:8]}/"
    world = Rotated(
        server=notary,
        base=base,
        gun=prefix + "rot",
        other=prefix + "other",
        trust_dir=base / "rot",
        pre_rotation_root=base / "pre-rotation-root.json",
        other_trust_dir=base / "other",
    )
    client = NotaryClient(notary, world.trust_dir)
    client.run("init", world.gun, "-p")
    metadata = world.trust_dir / "tuf" / world.gun / "metadata" / "root.json"
    shutil.copy(metadata, world.pre_rotation_root)
    client.run("key", "rotate", world.gun, "root", stdin="yes\n")
    client.run("list", world.gun)  # refresh the cached root
    NotaryClient(notary, world.other_trust_dir).run("init", world.other, "-p")
    return world


def _apply(run_cli: RunCli, config: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = run_cli("pin", "apply", "--notary-config", str(config), *args, "--json")
    return code, (json.loads(out) if out.strip() else {}), err


@INTEROP[0]
@INTEROP[1]
def test_apply_sets_disable_tofu_as_export_does(
    rotated: Rotated, run_cli: RunCli, tmp_path: Path
) -> None:
    """Before: no pins, TOFU on, the client trusts any repository. After apply: the pinned
    one only, as with `pin export --format notary`."""
    config = tmp_path / "config.json"
    config.write_text('{"trust_pinning": {"disable_tofu": false}}\n')
    assert rotated.fresh_list(rotated.other, config)[0] == 0  # trust on first use
    code, doc, err = _apply(run_cli, config, "--from", str(rotated.trust_dir))
    assert code == 0, err
    assert json.loads(config.read_text())["trust_pinning"]["disable_tofu"] is True
    assert doc["warnings"][0] == (
        "disable_tofu: was false, now true: repositories no pin covers are refused "
        "(keep trust on first use with --allow-tofu)"
    )
    assert "disable_tofu: was false" in err
    assert rotated.fresh_list(rotated.gun, config)[0] == 0
    code, output = rotated.fresh_list(rotated.other, config)
    assert code == 1 and "invalid trust pinning specified" in output
    # --allow-tofu keeps trust on first use for the repositories no pin covers
    code, _, err = _apply(run_cli, config, "--from", str(rotated.trust_dir), "--allow-tofu")
    assert code == 0, err
    assert json.loads(config.read_text())["trust_pinning"]["disable_tofu"] is False
    assert rotated.fresh_list(rotated.other, config)[0] == 0


@INTEROP[0]
@INTEROP[1]
def test_repinning_warns_and_add_keeps_both_for_a_rotation(
    rotated: Rotated, run_cli: RunCli, tmp_path: Path
) -> None:
    gun = rotated.gun
    config = tmp_path / "config.json"
    code, doc, err = _apply(run_cli, config, "--from", str(rotated.pre_rotation_root))
    assert code == 0, err
    old_ids = json.loads(config.read_text())["trust_pinning"]["certs"][gun]
    code, output = rotated.fresh_list(gun, config)
    assert code == 1 and "unable to match any certificates" in output  # the root rotated
    # --add: the old pin stays beside the new one; the client accepts the rotated root
    with_add = tmp_path / "with-add.json"
    shutil.copy(config, with_add)
    code, doc, err = _apply(run_cli, with_add, "--from", str(rotated.trust_dir), "--add")
    assert code == 0, err
    both = json.loads(with_add.read_text())["trust_pinning"]["certs"][gun]
    assert both[: len(old_ids)] == old_ids and len(both) == len(old_ids) + 1
    assert not [w for w in doc["warnings"] if "replacing" in w]
    assert rotated.fresh_list(gun, with_add)[0] == 0
    check = ("pin", "check", "--notary-config", str(with_add), "--gun", gun)
    assert run_cli(*check, "--from", str(rotated.trust_dir))[0] == 0
    # again with --add: nothing changes (idempotent)
    code, doc, err = _apply(run_cli, with_add, "--from", str(rotated.trust_dir), "--add")
    assert (code, doc["changed"]) == (0, False), err
    # without --add: the new pin replaces the old, with a warning naming both
    code, doc, err = _apply(run_cli, config, "--from", str(rotated.trust_dir))
    assert code == 0, err
    new_ids = json.loads(config.read_text())["trust_pinning"]["certs"][gun]
    assert len(new_ids) == 1 and new_ids[0] not in old_ids and new_ids[0] in both
    assert doc["warnings"][0] == (
        f"{gun}: replacing its pinned IDs {', '.join(old_ids)} with {new_ids[0]} "
        "(keep both during a root rotation with --add)"
    )
    assert f"trustkeep: warning: {gun}: replacing its pinned IDs" in err
    assert rotated.fresh_list(gun, config)[0] == 0


def test_daemon_json_repinning_warns_and_add_keeps_both(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Docker's root-keys: the same rule as Notary's certs (keys from the store)."""
    from trustkeep.service.keys import KeyService

    home = tmp_path / "home"
    keys = KeyService(home, lambda _r: "repin-passphrase", kdf_iterations=20_000)
    old, new = (keys.generate("ecdsa-p256", name=n) for n in ("old-root", "new-root"))
    daemon = tmp_path / "daemon.json"
    daemon.write_text('{"debug": true}\n')
    gun = "registry.example.com/acme/app"
    apply = ("--home", str(home), "pin", "apply", "--daemon-json", str(daemon), "--gun", gun)
    assert run_cli(*apply, "--from", "old-root")[0] == 0

    def pinned() -> list[str]:
        doc = json.loads(daemon.read_text())
        return doc["content-trust"]["trust-pinning"]["root-keys"][gun]  # type: ignore[no-any-return]

    assert pinned() == [old.notary_canonical_id]
    code, _, err = run_cli(*apply, "--from", "new-root", "--add")
    assert (code, err) == (0, "")
    assert pinned() == [old.notary_canonical_id, new.notary_canonical_id]
    code, out, err = run_cli(*apply, "--from", "new-root", "--json")
    assert code == 0
    assert pinned() == [new.notary_canonical_id]
    warning = (
        f"{gun}: replacing its pinned IDs {old.notary_canonical_id}, {new.notary_canonical_id} "
        f"with {new.notary_canonical_id} (keep both during a root rotation with --add)"
    )
    assert json.loads(out)["warnings"] == [warning]
    assert err == f"trustkeep: warning: {warning}\n"
    assert json.loads(daemon.read_text())["debug"] is True
