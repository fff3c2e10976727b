"""``trustkeep notary targets``: every tag a GUN signed, from verified metadata."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from evac_world import GUN_A, EvacWorld

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


def test_an_archive_whose_files_differ_from_its_manifest_is_refused(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "evidence"
    assert run_cli("notary", "pull", "--server", evac.server.url, GUN_A, str(out))[0] == 0
    metadata = out / "tuf" / GUN_A / "metadata"
    (metadata / "1.root.json").unlink()  # the chain still verifies from root v2 alone
    code, _, err = run_cli("notary", "targets", str(out), "--gun", GUN_A)
    assert code == 1
    assert f"tuf/{GUN_A}/metadata/1.root.json is not the file its manifest.json lists" in err


def test_pull_limits_bound_root_versions_and_roles(evac: EvacWorld, tmp_path: Path) -> None:
    from trustkeep.service import Service
    from trustkeep.service.evacuate import PullLimits

    def refuse(name: str) -> str:
        raise AssertionError(f"no secret should be asked for ({name})")

    service = Service(tmp_path / "home", refuse).evacuate
    result = service.pull(
        evac.server.url, [GUN_A], tmp_path / "a", limits=PullLimits(root_versions=1)
    )
    assert result.repositories[0].error is not None
    assert "root v2: more than the versions allowed" in result.repositories[0].error.message
    result = service.pull(
        evac.server.url, [GUN_A], tmp_path / "b", limits=PullLimits(delegations=0)
    )
    assert "snapshot lists more than the roles allowed" in str(result.repositories[0].error)
    result = service.pull(
        evac.server.url, [GUN_A], tmp_path / "c", limits=PullLimits(role_bytes=100)
    )
    assert "bytes, more than the 100 bytes allowed" in str(result.repositories[0].error)
    assert not any((tmp_path / n).exists() for n in "abc")
