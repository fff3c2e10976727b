"""fixtures/tuf comes from fixtures/generate.py, and verifies as documented there."""

from __future__ import annotations

import json
import runpy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tuf.api.exceptions import RepositoryError
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "tuf"

EXPECTED = {
    "valid": [],
    "tampered-target-hash": [("hash-mismatch", "releases"), ("threshold-not-met", "releases")],
    "rotation-unsigned-by-old": [("root-rotation-invalid", "root")],
    "expired-timestamp": [("expired", "timestamp")],
}


def _tree(base: Path) -> dict[Path, bytes]:
    return {p.relative_to(base): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def test_committed_fixtures_match_the_generator(tmp_path: Path) -> None:
    generator = runpy.run_path(str(ROOT / "fixtures" / "generate.py"))
    generator["main"](tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(FIXTURES): p.read_bytes() for p in FIXTURES.rglob("*") if p.is_file()
    }
    assert fresh.keys() == committed.keys()
    changed = [str(k) for k in fresh if fresh[k] != committed[k]]
    assert not changed, f"fixtures differ from fixtures/generate.py: {changed}"


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_fixture_verdicts(run_cli, variant: str) -> None:  # type: ignore[no-untyped-def]
    repo = FIXTURES / variant
    code, out, err = run_cli("verify", str(repo), "--root", str(repo / "1.root.json"), "--json")
    doc = json.loads(out)
    assert [(f["code"], f["role"]) for f in doc["findings"]] == EXPECTED[variant]
    assert code == (0 if variant == "valid" else 1), err


def _python_tuf_accepts(repo: Path) -> bool:
    """python-tuf's own client-side verifier over the same files (the oracle)."""
    try:
        trusted = TrustedMetadataSet((repo / "1.root.json").read_bytes(), EnvelopeType.METADATA)
        trusted.update_root((repo / "2.root.json").read_bytes())
        trusted.update_timestamp((repo / "timestamp.json").read_bytes())
        trusted.update_snapshot((repo / "snapshot.json").read_bytes())
        trusted.update_targets((repo / "targets.json").read_bytes())
        trusted.update_delegated_targets(
            (repo / "releases.json").read_bytes(), "releases", "targets"
        )
    except RepositoryError:
        return False
    return True


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_python_tuf_agrees(variant: str) -> None:
    assert datetime.now(UTC).year < 2100
    assert _python_tuf_accepts(FIXTURES / variant) is (variant == "valid")
