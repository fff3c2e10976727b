"""A root key on a real PKCS#11 token (SoftHSM2): its PIN is asked by the TUI's modal.

Everything that loads the PKCS#11 library runs in its own process (SoftHSM reads its
configuration once per process): token set-up, ``key import --pkcs11`` and the TUI in tmux.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tmux_support import TRUSTKEEP, Tmux
from tui_support import ADMIN_PASSPHRASE, Ceremony, root_verification

from trustkeep.service import Service

pytestmark = pytest.mark.interop

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "tk-ceremony"
PIN = "246810"

_KEYGEN = """
import sys
import pkcs11
from pkcs11.util.ec import encode_named_curve_parameters

token = pkcs11.lib(sys.argv[1]).get_token(token_label=sys.argv[2])
with token.open(rw=True, user_pin=sys.argv[3]) as session:
    curve = encode_named_curve_parameters("secp256r1")
    params = session.create_domain_parameters(
        pkcs11.KeyType.EC, {pkcs11.Attribute.EC_PARAMS: curve}, local=True
    )
    params.generate_keypair(store=True, label="ceremony", id=bytes([1]))
"""


def _softhsm_env(base: Path) -> dict[str, str]:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        if os.environ.get("CI"):
            raise RuntimeError("softhsm2 not installed: tests/run.sh installs it")
        pytest.skip("softhsm2 not installed")
    (base / "tokens").mkdir(parents=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    return {"SOFTHSM2_CONF": str(conf), "PYKCS11LIB": SOFTHSM_MODULE}


def _run(argv: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _token_key(home: Path, hsm: dict[str, str], pem: Path) -> str:
    """A token with an ECDSA P-256 key, registered in ``home`` as 'hsmbob'; its keyid."""
    init = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN]
    _run([*init, "--pin", PIN, "--so-pin", "so" + PIN], hsm)
    _run([sys.executable, "-c", _KEYGEN, SOFTHSM_MODULE, TOKEN, PIN], hsm)
    env = {**hsm, "TRUSTKEEP_HOME": str(home), "TRUSTKEEP_PIN": PIN}
    tk = str(TRUSTKEEP)
    _run(
        [tk, "key", "import", "--pkcs11", "--token", TOKEN, "--key-id", "1", "--name", "hsmbob"],
        env,
    )
    _run([tk, "key", "export-public", "hsmbob", "-o", str(pem)], env)
    out = _run([tk, "key", "show", "hsmbob", "--json"], env)
    return str(json.loads(out)["key"]["keyid"])


def test_token_pin_is_asked_by_the_modal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    hsm = _softhsm_env(tmp_path / "softhsm")
    home = tmp_path / "hsm-home"
    keyid = _token_key(home, hsm, tmp_path / "hsmbob.pem")
    admin = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    repo = tmp_path / "hsm-repo"
    admin.repo.init(
        repo,
        keys={
            "root": ["alice", str(tmp_path / "hsmbob.pem")],
            "targets": ["tgt"],
            "snapshot": ["snap"],
            "timestamp": ["ts"],
        },
        thresholds={"root": 2},
    )
    env = {**hsm, "TERM": "xterm-256color", "TRUSTKEEP_HOME": str(home)}
    transcript = tmp_path / "transcript.jsonl"
    tk = shlex.quote(str(TRUSTKEEP))
    tmux.start(
        f"{tk} ceremony {shlex.quote(str(repo))} --transcript {shlex.quote(str(transcript))};"
        " echo exit=$?; read done",
        env,
    )
    tmux.wait_for("1 of 2 signatures — waiting for hsmbob")
    tmux.sign_selected_role("(hsmbob)  ecdsa", f"PIN for token {TOKEN}", PIN)
    tmux.wait_for("exit=0")
    result = root_verification(repo / "root.json")
    assert result.verified and keyid in result.signed
    assert PIN not in transcript.read_text()
