"""Start-up of write commands: a command signing with stored keys loads no token backend,
no key import/export code, no TUI (each case a fresh interpreter, ``sys.modules`` at exit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from trustkeep.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""

#: never needed to sign with a key of the store (a file encrypted with the passphrase)
NOT_FOR_STORED_KEYS = (
    "pkcs11",
    "asn1crypto.x509",
    "securesystemslib.signer._hsm_signer.pkcs11",
    "trustkeep.adapters.pkcs11",
    "trustkeep.service._key_transfer",
    "trustkeep.core.pem_keys",
    "textual",
    "trustkeep_tui",
    "trustkeep.service.evacuate",
)


def _modules_after(tmp_path: Path, *argv: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    return doc["code"], set(doc["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_timestamp_loads_no_token_backend(
    tmp_path: Path, home: Path, basic_repo: tuple[Path, dict[str, str]]
) -> None:
    repo, _ids = basic_repo
    before = json.loads((repo / "timestamp.json").read_text())["signed"]["version"]
    code, modules = _modules_after(tmp_path, "--home", str(home), "timestamp", str(repo))
    assert code == 0
    assert json.loads((repo / "timestamp.json").read_text())["signed"]["version"] == before + 1
    assert "tuf.api.metadata" in modules  # python-tuf's Metadata API did the work
    assert _loaded(modules, NOT_FOR_STORED_KEYS) == []


def test_targets_add_loads_no_token_backend(
    tmp_path: Path, home: Path, basic_repo: tuple[Path, dict[str, str]]
) -> None:
    repo, _ids = basic_repo
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_bytes(b"a\n")
    argv = ("--home", str(home), "targets", "add", str(repo), str(files), "--base", str(files))
    code, modules = _modules_after(tmp_path, *argv)
    assert code == 0
    assert "a.txt" in json.loads((repo / "targets.json").read_text())["signed"]["targets"]
    assert _loaded(modules, NOT_FOR_STORED_KEYS) == []
