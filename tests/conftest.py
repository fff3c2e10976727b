"""Shared fixtures. Area-specific fixtures live beside their tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from notary_env import NotaryServer, have_notary, notary_server


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's real home, keyring or passphrase variables."""
    for var in os.environ:
        if var in ("TRUSTKEEP_HOME", "TRUSTKEEP_NEW_PASSPHRASE", "TRUSTKEEP_PASSPHRASE_FILE") or (
            var.startswith(("TRUSTKEEP_PASSPHRASE", "TRUSTKEEP_PIN"))
        ):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(scope="session")
def notary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotaryServer]:
    """A real notary-server on 127.0.0.1 for the whole session (CI installs it)."""
    if not have_notary():
        if os.environ.get("CI"):
            raise RuntimeError("notary / notary-server not installed: tests/run.sh installs them")
        pytest.skip("notary binaries not installed (run tests/run.sh)")
    with notary_server(tmp_path_factory.mktemp("notary-server")) as server:
        yield server


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Invoke ``trustkeep.cli.main(argv)``; returns (exit_code, stdout, stderr)."""
    from trustkeep.cli import main

    def _run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real keyring backend: keyrings.alt's PlaintextKeyring, its file in tmp_path,
    chosen explicitly (as a user would with PYTHON_KEYRING_BACKEND)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    path = tmp_path / "keyring" / "keyring_pass.cfg"
    path.parent.mkdir()
    backend.file_path = str(path)
    keyring.set_keyring(backend)
    try:
        yield path
    finally:
        keyring.set_keyring(previous)
