"""An evidence archive years later: ``trustkeep verify OUT`` checks it as of its retrieval
time unless ``--at`` says otherwise, and says which time it used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evac_world import GUN_A, EvacWorld

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary_evac")]


def test_verify_defaults_to_the_retrieval_time_and_says_so(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "evidence"
    assert run_cli("notary", "pull", "--server", evac.server.url, GUN_A, str(out))[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    pulled = manifest["retrieved_at"]
    code, _, err = run_cli("verify", str(out), "--gun", GUN_A)
    assert code == 0
    assert f"verified as of its retrieval time {pulled} (or --at)" in err
    # The manifest decides the default: a retrieval time after the timestamp's expiry
    # makes the same files fail, and an explicit --at still wins.
    manifest["retrieved_at"] = "2040-01-01T00:00:00Z"
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, report, err = _json(run_cli, "verify", str(out), "--gun", GUN_A)
    assert code == 1 and "expired" in {f["code"] for f in report["findings"]}
    assert "retrieval time 2040-01-01T00:00:00Z" in err
    code, _, err = run_cli("verify", str(out), "--gun", GUN_A, "--at", pulled)
    assert code == 0 and "retrieval time" not in err


def test_verify_refuses_evidence_whose_files_differ_from_the_manifest(
    evac: EvacWorld, run_cli: Any, tmp_path: Path
) -> None:
    """Dropping the old roots still leaves a chain that verifies from root v2 on its own:
    the manifest is what shows the archive was cut."""
    out = tmp_path / "evidence"
    assert run_cli("notary", "pull", "--server", evac.server.url, GUN_A, str(out))[0] == 0
    (out / "tuf" / GUN_A / "metadata" / "1.root.json").unlink()
    for at in ((), ("--at", "2026-01-01T00:00:00Z")):
        code, stdout, err = run_cli("verify", str(out), "--gun", GUN_A, *at)
        assert (code, stdout) == (1, "")
        assert err == (
            f"trustkeep: error: {out}: tuf/{GUN_A}/metadata/1.root.json is not the file its "
            "manifest.json lists (missing, added or changed since it was pulled)\n"
        )


def test_verify_of_other_inputs_is_unchanged(evac: EvacWorld, run_cli: Any) -> None:
    code, _, err = run_cli("verify", str(evac.client.trust_dir), "--gun", GUN_A)
    assert code == 0 and "retrieval time" not in err


def _json(run_cli: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli(*args, "--json")
    return code, json.loads(out), err
