"""Helpers shared by the key store tests (constants, secrets handlers, snapshots)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSPHRASE = "correct horse battery"
NEW_PASSPHRASE = "new staple 42"
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "trustkeep-test"
TOKEN_PIN = "123456"


def secrets_from(values: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """A secrets handler answering by the first word(s) of the request; records the asks."""
    asked: list[str] = []

    def handler(name: str) -> str:
        asked.append(name)
        for prefix, value in values.items():
            if name.startswith(prefix):
                return value
        from trustkeep.errors import KeyAccessError

        raise KeyAccessError(f"no {name}")

    handler.asked = asked  # type: ignore[attr-defined]
    return handler


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a ``trustkeep`` subprocess: isolated home, XDG dirs and keyring file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTKEEP_")}
    env.update(
        TRUSTKEEP_HOME=str(home),
        XDG_DATA_HOME=str(home.parent / "xdg-data"),
        XDG_CONFIG_HOME=str(home.parent / "xdg-config"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    env.update(extra)
    return env


def trustkeep_cmd(*args: str) -> list[str]:
    code = "import sys; from trustkeep.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *args]


@dataclass(frozen=True)
class SoftHSM:
    module: str
    label: str
    pin: str
    conf: Path


def require_softhsm() -> None:
    if shutil.which("softhsm2-util") is None or not Path(SOFTHSM_MODULE).exists():
        if os.environ.get("CI"):
            raise RuntimeError("softhsm2 not installed: tests/run.sh installs it")
        pytest.skip("softhsm2 not installed (run tests/run.sh)")


def snapshot(home: Path) -> dict[str, str]:
    """Every file under home with its sha256 (to assert 'nothing changed')."""
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
    }


def generate(cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """``key generate --json ARGS`` through the ``cli`` fixture; the new key's JSON."""
    code, out, err = cli("key", "generate", "--json", *args)
    assert code == 0, err
    return json.loads(out)["key"]  # type: ignore[no-any-return]
