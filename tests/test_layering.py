"""The core imports without front-end or OS-integration libraries (STYLE.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import trustkeep.core

# pkcs11 is not listed: securesystemslib.signer itself imports it when installed.
FORBIDDEN = ("textual", "rich", "click", "keyring")


def test_core_imports_without_front_end_libraries() -> None:
    modules = [f"trustkeep.core.{m.name}" for m in pkgutil.iter_modules(trustkeep.core.__path__)]
    assert modules, "no core modules found"
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = [n for n in {FORBIDDEN!r} if n in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "", f"core pulled in: {proc.stdout.strip()}"


def test_version_and_help(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--version")
    assert code == 0
    assert "trustkeep, version" in out
    code, out, _ = run_cli("--help")
    assert code == 0
    assert "Exit codes" in out


def test_unknown_command_is_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("no-such-command")
    assert code == 2
    assert "Traceback" not in err
