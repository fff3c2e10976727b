"""A SoftHSM2 token for the TUI tests, made in a directory of the test's own.

Everything that loads the PKCS#11 library runs in its own process (SoftHSM reads its
configuration once per process): token set-up here, and trustkeep in tmux.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def softhsm_env(base: Path) -> dict[str, str]:
    """SOFTHSM2_CONF for a token directory under ``base`` (skips without SoftHSM2)."""
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        if os.environ.get("CI"):
            raise RuntimeError("softhsm2 not installed: tests/run.sh installs it")
        pytest.skip("softhsm2 not installed")
    (base / "tokens").mkdir(parents=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    return {"SOFTHSM2_CONF": str(conf), "PYKCS11LIB": SOFTHSM_MODULE}


def run(argv: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def token_with_key(hsm: dict[str, str]) -> None:
    """Token TOKEN (PIN) holding an ECDSA P-256 key pair with id 1."""
    init = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN]
    run([*init, "--pin", PIN, "--so-pin", "so" + PIN], hsm)
    run([sys.executable, "-c", _KEYGEN, SOFTHSM_MODULE, TOKEN, PIN], hsm)
