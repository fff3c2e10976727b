"""The core imports without front-end or OS-integration libraries (STYLE.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import trustkeep.core

# pkcs11 is not listed: securesystemslib.signer itself imports it when installed.
FORBIDDEN = ("textual", "rich", "click", "keyring")


def test_core_imports_without_front_end_libraries() -> None:
    """Every core module, subpackages included (core/verify/notary.py, core/tuf_repo/...)."""
    modules = [
        m.name for m in pkgutil.walk_packages(trustkeep.core.__path__, prefix="trustkeep.core.")
    ]
    assert "trustkeep.core.verify.notary" in modules
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


def test_import_linter_contracts_are_kept() -> None:
    """The layers and the no-cycle contracts of pyproject.toml ([tool.importlinter])."""
    from pathlib import Path

    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert proc.stdout.count("KEPT") == 2


def test_core_keeps_no_module_level_caches() -> None:
    """Caches belong to a verification run: no functools caches, no private hash modules."""
    import ast
    from pathlib import Path

    root = Path(trustkeep.core.__path__[0])
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "functools":
                names = {a.name for a in node.names}
                assert not names & {"lru_cache", "cache"}, f"{path}: functools cache"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in (
                    ("functools", "lru_cache"), ("functools", "cache"),
                ), f"{path}: functools cache"  # fmt: skip
            if isinstance(node, ast.Constant) and node.value in ("_sha256", "_sha2", "_md5"):
                raise AssertionError(f"{path}: private CPython hash module")
