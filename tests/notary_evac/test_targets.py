"""``trustkeep notary targets``: every tag a GUN signed, from verified metadata."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import GUN_A, EvacWorld

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary_evac")]


@pytest.fixture(scope="module")
def archive(evac: EvacWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trustkeep.cli import main

    out = tmp_path_factory.mktemp("targets") / "app.tar.gz"
    assert main(["notary", "pull", "--server", evac.server.url, GUN_A, str(out)]) == 0
    return out


def _sha(evac: EvacWorld, name: str) -> str:
    return hashlib.sha256((evac.files / name).read_bytes()).hexdigest()


def test_every_signed_tag_with_digest_length_role_and_keys(
    archive: Path, evac: EvacWorld, run_cli: Any
) -> None:
    code, out, err = run_cli("notary", "targets", str(archive), "--gun", GUN_A, "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    rows = {(r["name"], r["role"]): r for r in doc["targets"]}
    assert set(rows) == {("v1", "targets"), ("v2", "targets/releases")}
    v2 = rows[("v2", "targets/releases")]
    assert (v2["sha256"], v2["length"], v2["threshold"]) == (_sha(evac, "v2"), 7, 1)
    assert [k["keyid"] for k in v2["keys"]] == [evac.releases_keyid]
    assert v2["keys"][0]["keytype"] == "ecdsa-x509"
    assert v2["keys"][0]["certificate_cn"] == "releases"
    assert rows[("v1", "targets")]["keys"][0]["keytype"] == "ecdsa"
    assert doc["refs"] == [
        f"{GUN_A}:v1@sha256:{_sha(evac, 'v1')}",
        f"{GUN_A}:v2@sha256:{_sha(evac, 'v2')}",
    ]


def test_refs_format_and_trust_dir_input(archive: Path, evac: EvacWorld, run_cli: Any) -> None:
    code, out, _ = run_cli("notary", "targets", str(archive), "--gun", GUN_A, "--format", "refs")
    assert code == 0
    assert out.splitlines() == [
        f"{GUN_A}:v1@sha256:{_sha(evac, 'v1')}",
        f"{GUN_A}:v2@sha256:{_sha(evac, 'v2')}",
    ]
    code, human, _ = run_cli("notary", "targets", str(evac.client.trust_dir), "--gun", GUN_A)
    assert code == 0
    assert f"{GUN_A}: 2 signed target(s), verified as of" in human
    assert f"  v2  sha256:{_sha(evac, 'v2')}  7 bytes  targets/releases  [" in human


def test_metadata_that_does_not_verify_lists_nothing(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    copy = tmp_path / "trust"
    shutil.copytree(evac.client.trust_dir / "tuf", copy / "tuf")
    releases = copy / "tuf" / GUN_A / "metadata" / "targets" / "releases.json"
    releases.write_bytes(releases.read_bytes().replace(b'"v2"', b'"v3"'))
    code, out, err = run_cli("notary", "targets", str(copy), "--gun", GUN_A, "--format", "refs")
    assert code == 1
    assert out == ""
    assert f"the Notary metadata of {GUN_A} does not verify" in err
