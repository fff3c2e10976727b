"""Root and targets keys on a real PKCS#11 token (SoftHSM2), through the real CLI.

Runs trustkeep in subprocesses: SoftHSM reads its configuration once per process,
so this token must not share a process with other tests' tokens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from repo_oracle import fetch_target

pytestmark = pytest.mark.interop

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "246810"
TOKEN = "repo-hsm"

_MAKE_KEY = """
import pkcs11, sys
from pkcs11.util.ec import encode_named_curve_parameters
token = pkcs11.lib(sys.argv[1]).get_token(token_label=sys.argv[2])
with token.open(rw=True, user_pin=sys.argv[3]) as session:
    params = session.create_domain_parameters(
        pkcs11.KeyType.EC,
        {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
        local=True,
    )
    params.generate_keypair(store=True, label="root", id=bytes([7]))
"""


def _run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_hsm_root_and_targets_keys(tmp_path: Path, home: Path) -> None:
    if not (Path(MODULE).exists() and shutil.which("softhsm2-util")):
        if os.environ.get("CI"):
            raise RuntimeError("softhsm2 not installed: tests/run.sh installs it")
        pytest.skip("softhsm2 not installed")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\n")
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(conf),
        "PYKCS11LIB": MODULE,
        "TRUSTKEEP_PIN": PIN,
        "TRUSTKEEP_HOME": str(home),
    }
    init = _run(env, "softhsm2-util", "--init-token", "--free", "--label", TOKEN,
                "--pin", PIN, "--so-pin", "so" + PIN)  # fmt: skip
    assert init.returncode == 0, init.stderr
    made = _run(env, sys.executable, "-c", _MAKE_KEY, MODULE, TOKEN, PIN)
    assert made.returncode == 0, made.stderr
    tk = [sys.executable, "-c", "from trustkeep.cli import entry; entry()"]
    imported = _run(env, *tk, "key", "import", "--pkcs11", "--token", TOKEN, "--key-id", "7",
                    "--name", "hsm-root", "--json")  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    hsm_keyid = json.loads(imported.stdout)["keys"][0]["keyid"]

    repo = tmp_path / "repo"
    made_repo = _run(env, *tk, "repo", "init", str(repo), "--root-key", "hsm-root",
                     "--targets-key", "hsm-root", "--snapshot-key", "snap",
                     "--timestamp-key", "ts", "--json")  # fmt: skip
    assert made_repo.returncode == 0, made_repo.stderr
    doc = json.loads(made_repo.stdout)
    assert [(r["role"], r["verified"]) for r in doc["roles"]] == [
        ("root", True), ("targets", True), ("snapshot", True), ("timestamp", True),
    ]  # fmt: skip
    root = json.loads((repo / "root.json").read_bytes())
    assert root["signed"]["keys"][hsm_keyid]["scheme"] == "ecdsa-sha2-nistp256"
    assert [s["keyid"] for s in root["signatures"]] == [hsm_keyid]

    base = tmp_path / "files"
    base.mkdir()
    (base / "fw.img").write_bytes(b"firmware")
    added = _run(env, *tk, "targets", "add", str(repo), str(base / "fw.img"),
                 "--base", str(base))  # fmt: skip
    assert added.returncode == 0, added.stderr
    refreshed = _run(env, *tk, "refresh", str(repo))
    assert refreshed.returncode == 0, refreshed.stderr
    status = _run(env, *tk, "status", str(repo))
    assert status.returncode == 0, status.stdout + status.stderr
    assert fetch_target(repo, tmp_path / "client", "fw.img", base) == b"firmware"

    # a wrong PIN is a key-access failure (exit 3) and writes nothing
    before = {p.name: p.read_bytes() for p in repo.iterdir()}
    bad = _run({**env, "TRUSTKEEP_PIN": "000000"}, *tk, "root", "expire", str(repo))
    assert bad.returncode == 3, bad.stderr
    assert "Traceback" not in bad.stderr
    assert {p.name: p.read_bytes() for p in repo.iterdir()} == before
