"""A root key on a real PKCS#11 token (SoftHSM2): its PIN is asked by the TUI's modal.

Everything that loads the PKCS#11 library runs in its own process (SoftHSM reads its
configuration once per process): token set-up, ``key import --pkcs11`` and the TUI in tmux.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from hsm_support import PIN, TOKEN, run, softhsm_env, token_with_key
from tmux_support import TRUSTKEEP, Tmux
from tui_support import ADMIN_PASSPHRASE, Ceremony, root_verification

from trustkeep.service import Service

pytestmark = pytest.mark.interop


def _token_key(home: Path, hsm: dict[str, str], pem: Path) -> str:
    """A token with an ECDSA P-256 key, registered in ``home`` as 'hsmbob'; its keyid."""
    token_with_key(hsm)
    env = {**hsm, "TRUSTKEEP_HOME": str(home), "TRUSTKEEP_PIN": PIN}
    tk = str(TRUSTKEEP)
    run(
        [tk, "key", "import", "--pkcs11", "--token", TOKEN, "--key-id", "1", "--name", "hsmbob"],
        env,
    )
    run([tk, "key", "export-public", "hsmbob", "-o", str(pem)], env)
    out = run([tk, "key", "show", "hsmbob", "--json"], env)
    return str(json.loads(out)["key"]["keyid"])


def test_token_pin_is_asked_by_the_modal(tmux: Tmux, ceremony: Ceremony, tmp_path: Path) -> None:
    hsm = softhsm_env(tmp_path / "softhsm")
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
