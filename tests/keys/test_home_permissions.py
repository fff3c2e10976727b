"""The home and every parent trustkeep creates for it are 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_home_and_created_parents_are_private_under_umask_000(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_umask: None
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "home permissions")
    home = tmp_path / "a" / "b" / "home"
    code, _, err = run_cli("--home", str(home), "key", "generate", "--type", "ed25519")
    assert code == 0, err
    created = [tmp_path / "a", tmp_path / "a" / "b", home]
    created += [p for p in home.rglob("*") if p.is_dir()]
    for path in created:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
