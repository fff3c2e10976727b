"""Every package of the source tree is installed, and the TUI as ``trustkeep_tui``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "trustkeep").rglob("__init__.py")
    }
    assert found <= listed, f"not installed: {sorted(found - listed)}"
    assert config["package-dir"]["trustkeep_tui"] == "tui"
    assert "trustkeep_tui" in listed


def test_tui_imports_from_outside_the_checkout(tmp_path: Path) -> None:
    code = "import trustkeep_tui, trustkeep.cli; print(trustkeep_tui.__name__)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "trustkeep_tui"
