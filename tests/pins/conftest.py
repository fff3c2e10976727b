"""Shared fixtures of the pin tests: a CLI runner with one store key, a Notary root file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pin_certs import notary_root

RunCli = Callable[..., tuple[int, str, str]]

GUN = "registry.example.com/acme/app"


@pytest.fixture
def cli(run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunCli:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "explore-passphrase")
    home = tmp_path / "home"

    def _run(*argv: str) -> tuple[int, str, str]:
        code, out, err = run_cli("--home", str(home), *argv)
        assert "Traceback" not in err
        return code, out, err

    code, _, err = _run("key", "generate", "--type", "ecdsa-p256", "--name", "alice")
    assert code == 0, err
    return _run


@pytest.fixture
def root_file(tmp_path: Path) -> tuple[Path, str, str]:
    raw, cert_id, canonical = notary_root(GUN)
    path = tmp_path / "root.json"
    path.write_bytes(raw)
    return path, cert_id, canonical
