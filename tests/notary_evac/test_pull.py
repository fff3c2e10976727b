"""``trustkeep notary pull`` against a real notary-server fed by the real notary client."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from evac_support import flip_byte, proxy
from evac_world import GUN_A, GUN_B, EvacWorld, HttpsWorld

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary_evac")]


def _json(run_cli: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(*args, "--json")
    return code, json.loads(out), err


def _pins(run_cli: Any, evac: EvacWorld, tmp_path: Path, gun: str) -> Path:
    code, out, err = run_cli(
        "pin", "export", "--from", str(evac.client.trust_dir), "--format", "notary", "--gun", gun
    )
    assert code == 0, err
    path = tmp_path / f"pins-{gun.rsplit('/', 1)[-1]}.json"
    path.write_text(out)
    return path


def test_pull_with_exported_pins_gets_every_root_version(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    pins = _pins(run_cli, evac, tmp_path, GUN_A)
    out = tmp_path / "evidence"
    code, doc, err = _json(
        run_cli, "notary", "pull", "--server", evac.server.url, GUN_A, str(out), "--pins", str(pins)
    )
    assert (code, err) == (0, "")
    [repo] = doc["repositories"]
    assert (repo["gun"], repo["valid"], repo["written"]) == (GUN_A, True, True)
    assert repo["root_versions"] == [1, 2]
    assert repo["verification"]["anchor"]["type"] == "pins"
    assert repo["verification"]["findings"] == []
    metadata = out / "tuf" / GUN_A / "metadata"
    names = sorted(str(p.relative_to(metadata)) for p in metadata.rglob("*.json"))
    assert names == [
        "1.root.json",
        "2.root.json",
        "root.json",
        "snapshot.json",
        "targets.json",
        "targets/releases.json",
        "timestamp.json",
    ]
    cache = evac.client.trust_dir / "tuf" / GUN_A / "metadata"
    for name in ("root.json", "targets.json", "targets/releases.json", "snapshot.json"):
        assert (metadata / name).read_bytes() == (cache / name).read_bytes()
    before = evac.before_rotation / "tuf" / GUN_A / "metadata" / "root.json"
    assert (metadata / "1.root.json").read_bytes() == before.read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["server"] == evac.server.url
    assert manifest["kind"] == "trustkeep-notary-evidence"
    [entry] = manifest["repositories"]
    assert entry["verdict"]["valid"] is True
    for rel, digest in entry["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    assert len(entry["files"]) == 7
    assert (out / "anchor-pins.json").read_bytes() == pins.read_bytes()

    at = manifest["retrieved_at"]
    code, report, _ = _json(run_cli, "verify", str(out), "--gun", GUN_A, "--at", at)
    assert code == 0 and report["valid"]
    assert [r["version"] for r in report["roles"] if r["role"] == "root"] == [1, 2]
    code, report, _ = _json(
        run_cli, "verify", str(out), "--gun", GUN_A, "--pins", str(pins), "--at", at
    )
    assert code == 0 and report["anchor"]["type"] == "pins"
    code, report, _ = _json(run_cli, "verify", str(out), "--gun", GUN_A, "--at", "2030-01-01")
    assert code == 1 and "expired" in {f["code"] for f in report["findings"]}


def test_two_guns_archive_and_progress_lines(evac: EvacWorld, run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "both.tar.gz"
    code, stdout, err = run_cli(
        "notary", "pull", "--server", evac.server.url, GUN_A, GUN_B, str(out), "--archive"
    )
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0].startswith(f"{GUN_A}: verified (root v1,2, 7 files, 1 warning(s))")
    assert lines[1].startswith(f"{GUN_B}: verified (root v1, 6 files")
    assert f"trustkeep verify {out} --gun {GUN_B} --at " in stdout
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert f"tuf/{GUN_B}/metadata/1.root.json" in names
    assert f"tuf/{GUN_A}/metadata/targets/releases.json" in names
    at = manifest["retrieved_at"]
    for gun in (GUN_A, GUN_B):
        code, report, _ = _json(run_cli, "verify", str(out), "--gun", gun, "--at", at)
        assert code == 0, report["findings"]
        assert [f["code"] for f in report["findings"]] == ["no-anchor"]


def test_all_guns_of_a_trust_dir_anchor_on_its_cached_roots(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "all"
    code, doc, _ = _json(
        run_cli,
        "notary",
        "pull",
        "--server",
        evac.server.url,
        "--all",
        "--trust-dir",
        str(evac.client.trust_dir),
        str(out),
    )
    assert code == 0
    by_gun = {r["gun"]: r for r in doc["repositories"]}
    assert {GUN_A, GUN_B} <= set(by_gun)
    for gun in (GUN_A, GUN_B):
        assert by_gun[gun]["verification"]["anchor"]["type"] == "root"
        assert by_gun[gun]["verification"]["findings"] == []


def test_old_trusted_root_walks_the_rotation(evac: EvacWorld, run_cli: Any, tmp_path: Path) -> None:
    code, doc, _ = _json(
        run_cli,
        "notary",
        "pull",
        "--server",
        evac.server.url,
        GUN_A,
        str(tmp_path / "o"),
        "--trust-dir",
        str(evac.before_rotation),
    )
    assert code == 0
    roots = [r for r in doc["repositories"][0]["verification"]["roles"] if r["role"] == "root"]
    assert [r["version"] for r in roots] == [1, 2]


def _tamper_role(role: str, gun: str = GUN_A) -> Any:
    def tamper(path: str, body: bytes) -> bytes | None:
        prefix, _, name = path.partition("/_trust/tuf/")
        hit = prefix == f"/v2/{gun}" and name.startswith(f"{role}.")
        return flip_byte(body) if hit else body

    return tamper


def _drop_root_v1(path: str, body: bytes) -> bytes | None:
    return None if path.endswith("/_trust/tuf/1.root.json") else body


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_tamper_role("targets/releases"), "hash-mismatch"),
        (_tamper_role("snapshot"), "hash-mismatch"),
        (_tamper_role("root"), "threshold-not-met"),
        (_drop_root_v1, "root v1 of example.com/evac/app is missing"),
    ],
    ids=["releases-byte", "snapshot-byte", "root-byte", "root-v1-dropped"],
)
def test_tampered_server_answers_are_refused_and_nothing_is_written(
    evac: EvacWorld, run_cli: Any, tmp_path: Path, tamper: Any, expected: str
) -> None:
    pins = _pins(run_cli, evac, tmp_path, GUN_A)
    out = tmp_path / "evidence"
    with proxy(evac.server.url, tamper) as url:
        code, stdout, err = run_cli(
            "notary", "pull", "--server", url, GUN_A, str(out), "--pins", str(pins)
        )
    assert code == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [pins]  # no staging directory left behind
    assert f"{GUN_A}: refused, nothing written" in err
    assert expected in err
    assert "nothing written: no GUN verified" in stdout


def test_one_bad_gun_does_not_stop_the_good_one(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "partial"
    with proxy(evac.server.url, _tamper_role("targets")) as url:
        code, doc, _ = _json(run_cli, "notary", "pull", "--server", url, GUN_A, GUN_B, str(out))
    assert code == 1
    assert [(r["gun"], r["written"]) for r in doc["repositories"]] == [
        (GUN_A, False),
        (GUN_B, True),
    ]
    assert not (out / "tuf" / GUN_A).exists()
    assert (out / "tuf" / GUN_B / "metadata" / "root.json").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["gun"] for r in manifest["repositories"]] == [GUN_B]


def test_unknown_gun_and_existing_out_are_input_errors(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "notary", "pull", "--server", evac.server.url, "example.com/evac/none", str(tmp_path / "x")
    )
    assert code == 2
    assert "no root.json for example.com/evac/none" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = run_cli(
        "notary", "pull", "--server", evac.server.url, GUN_B, str(tmp_path / "full")
    )
    assert code == 2
    assert "already exists; an evidence archive is written once" in err
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["keep.txt"]


def test_https_with_ca_bundle(evac_https: HttpsWorld, run_cli: Any, tmp_path: Path) -> None:
    world = evac_https
    code, _, err = run_cli(
        "notary", "pull", "--server", world.server.url, world.gun, str(tmp_path / "no-ca")
    )
    assert code == 3
    assert "TLS verification failed" in err
    assert not (tmp_path / "no-ca").exists()
    code, doc, _ = _json(
        run_cli,
        "notary",
        "pull",
        "--server",
        world.server.url,
        world.gun,
        str(tmp_path / "ok"),
        "--tlscacert",
        str(world.ca.ca_pem),
    )
    assert code == 0
    assert doc["server"].startswith("https://127.0.0.1:")
    assert doc["repositories"][0]["valid"] is True


def test_an_answer_longer_than_recorded_is_a_trust_failure(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    def longer(path: str, body: bytes) -> bytes | None:
        return body + b" " * 10 if "/_trust/tuf/targets." in path else body

    with proxy(evac.server.url, longer) as url:
        code, _, err = run_cli("notary", "pull", "--server", url, GUN_B, str(tmp_path / "o"))
    assert code == 1
    assert "the server sent more for targets than the" in err
    assert not (tmp_path / "o").exists()
