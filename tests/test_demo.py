"""The README's first command: ``trustkeep demo`` runs the main job end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path


def test_demo_builds_verifies_and_pins(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "demo"
    code, out, err = run_cli("demo", "--workdir", str(work))
    assert code == 0, err
    assert "VALID" in out
    assert "status: OK" in out
    # The pins printed are the Notary canonical IDs of the two root keys in the demo home.
    block = json.loads(out[out.index('{\n  "content-trust"') : out.rindex("}") + 1])
    pinned = block["content-trust"]["trust-pinning"]["root-keys"]["registry.example.com/acme/*"]
    code, keys_out, _ = run_cli("--home", str(work / "home"), "key", "list", "--json")
    assert code == 0
    roots = {
        k["notary_canonical_id"]
        for k in json.loads(keys_out)["keys"]
        if k["name"].startswith("root")
    }
    assert set(pinned) == roots and len(roots) == 2
    # The repository holds real metadata and the bundled targets.
    targets = json.loads((work / "repo" / "targets.json").read_text())["signed"]["targets"]
    assert set(targets) == {"hello.txt", "acme-installer-1.0.sh", "acme-1.0.0.json"}
    assert not re.search(r"trustkeep-demo-only", out + err), "the demo passphrase leaked"


def test_demo_leaves_no_temporary_home(run_cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    code, _, err = run_cli("demo")
    assert code == 0, err
    assert not list(tmp_path.glob("trustkeep-demo-*"))
