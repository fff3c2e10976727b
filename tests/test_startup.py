"""Start-up: ``--help`` and ``verify`` load only what they use (lazy commands, lazy signers).

Each case runs the real CLI in a fresh interpreter and inspects ``sys.modules`` at exit.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from trustkeep.cli import _COMMAND_MODULES, cli

ROOT = Path(__file__).resolve().parent.parent
VALID_TUF = ROOT / "fixtures" / "tuf" / "valid"

#: never needed to print help or to verify offline (verification uses securesystemslib's
#: keys, whose package loads without its PKCS#11 backend: trustkeep.core.sslib_signer)
HEAVY = (
    "tuf",
    "pkcs11",
    "asn1crypto",
    "keyring",
    "textual",
    "trustkeep_tui",
    "boto3",
    "trustkeep.service.repo",
    "trustkeep.service.keys",
    # a plain directory is not an evidence archive: no tar, no evidence code
    "tarfile",
    "trustkeep.service.evacuate",
    "trustkeep.service._evidence",
    # securesystemslib's key classes only, not its signer backends (GPG, KMS, HSM)
    "securesystemslib._gpg",
    "securesystemslib.signer._gpg_signer",
    "securesystemslib.signer._aws_signer",
    "securesystemslib.signer._gcp_signer",
    "securesystemslib.signer._azure_signer",
    "securesystemslib.signer._hsm_signer",
    "securesystemslib.signer._crypto_signer",
)
#: --help also needs none of the crypto or the services
HEAVY_FOR_HELP = (*HEAVY, "cryptography", "securesystemslib", "trustkeep.service")

_HSM_AFTER_VERIFY = """
import sys
from trustkeep.core.sslib_signer import signer_api
api = signer_api()
assert "pkcs11" not in sys.modules
held = api.HSMSigner.from_priv_key_uri.__func__.__globals__
assert held["PKCS11_IMPORT_ERROR"] is not None
import trustkeep.adapters.pkcs11
assert held["PKCS11_IMPORT_ERROR"] is None and held["pkcs11"] is sys.modules["pkcs11"]
print("ok")
"""

_PROBE = """
import json, sys
from trustkeep.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def _modules_after(tmp_path: Path, *argv: str) -> tuple[int, set[str], str]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    return doc["code"], set(doc["modules"]), proc.stdout


def _loaded(modules: set[str], heavy: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for h in heavy if m == h or m.startswith(h + "."))


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    code, modules, out = _modules_after(tmp_path, "--help")
    assert code == 0
    for name in _COMMAND_MODULES:
        assert f"\n  {name} " in out
    assert _loaded(modules, HEAVY_FOR_HELP) == []
    commands = {m for m in modules if m.startswith("trustkeep.cli.")}
    # main() holds the run's context (it renders --json errors), nothing else of the CLI
    assert commands <= {"trustkeep.cli._context", "trustkeep.cli._secrets"}, commands


def test_verify_imports_no_signer_or_writer(tmp_path: Path) -> None:
    code, modules, out = _modules_after(tmp_path, "verify", str(VALID_TUF))
    assert code == 0, out
    assert "VALID" in out
    assert _loaded(modules, HEAVY) == []
    # a TUF repository needs no certificates (Notary, pins)
    assert _loaded(modules, ("cryptography.x509", "trustkeep.core.pinning")) == []
    assert "multiprocessing" not in modules  # a small repository: no process pool
    assert _loaded(modules, ("nacl",)) == []  # nor libsodium's fast path: too few signatures
    # the one command module it needs, and not the others
    assert "trustkeep.cli.verify" in modules
    assert "trustkeep.cli.key" not in modules
    assert "securesystemslib.signer._key" in modules  # the keys still verify through it


def test_verify_key_classes_are_those_the_signer_package_registers() -> None:
    """The pairs verification maps to SSlibKey without the package are the package's own."""
    import securesystemslib.signer as package

    from trustkeep.core.sslib_signer import SSLIB_KEY_PAIRS

    registered = {
        pair for pair, cls in package.KEY_FOR_TYPE_AND_SCHEME.items() if cls is package.SSlibKey
    }
    assert SSLIB_KEY_PAIRS.issubset(registered)
    assert ("ed25519", "ed25519") in SSLIB_KEY_PAIRS


_UNUSUAL_KEY_AFTER_KEY_API = """
import sys
from trustkeep.core.sslib_signer import key_api, key_class
api = key_api()
assert "securesystemslib.signer" not in sys.modules
assert key_class("ed25519", "ed25519") is api.SSlibKey
assert "securesystemslib.signer" not in sys.modules
# a type only the package registers (GPG) loads it, and reuses the key module loaded first
gpg = key_class("rsa", "pgp+rsa-pkcsv1.5")
import securesystemslib.signer as package
assert gpg is package.GPGKey and package.SSlibKey is api.SSlibKey and package._key is api
assert key_class("no-such", "type") is None
print("ok")
"""


def test_key_classes_load_the_package_for_other_key_types() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _UNUSUAL_KEY_AFTER_KEY_API],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


_HSM_AFTER_DEFER = """
import sys
from trustkeep.core.sslib_signer import defer_hsm_backend
defer_hsm_backend()
from trustkeep.core.sslib_signer import key_api
key = key_api()  # a verification first (the TUI does both), then a write
import tuf.api.metadata  # imports the signer package, as write commands do
assert "pkcs11" not in sys.modules and "asn1crypto.x509" not in sys.modules
import securesystemslib.signer as package
assert package._key is key and package.SSlibKey is key.SSlibKey
from securesystemslib.signer import HSMSigner
held = HSMSigner.from_priv_key_uri.__func__.__globals__
assert held["PKCS11_IMPORT_ERROR"] is not None
import trustkeep.adapters.pkcs11
assert held["PKCS11_IMPORT_ERROR"] is None and held["pkcs11"] is sys.modules["pkcs11"]
print("ok")
"""


def test_write_commands_load_the_pkcs11_backend_only_for_a_token() -> None:
    """main() defers python-pkcs11; the PKCS#11 adapter loads it (and HSMSigner works)."""
    proc = subprocess.run(
        [sys.executable, "-c", _HSM_AFTER_DEFER], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


_TUI_PROBE = """
import json, sys
from trustkeep.core.sslib_signer import defer_hsm_backend
defer_hsm_backend()
import trustkeep.cli.ceremony, trustkeep_tui
json.dump(sorted(sys.modules), open(sys.argv[1], "w"))
"""


def test_the_tui_reaches_its_home_screen_without_the_repository_side(tmp_path: Path) -> None:
    """What the first frame needs (Textual, the home screen) loads before anything else:
    python-tuf, the signer package and the repository/key services load after it."""
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _TUI_PROBE, str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(out.read_text()))
    assert "trustkeep_tui.home_screen" in modules and "textual.app" in modules
    later = (
        "tuf",
        "securesystemslib.signer",
        "cryptography",
        "asn1crypto",
        "pkcs11",
        "trustkeep.service.ceremony",
        "trustkeep.service.ceremony_newroot",
        "trustkeep.service.repo",
        "trustkeep.service.keys",
        "trustkeep_tui.newroot_flow",
    )
    assert _loaded(modules, later) == []


def test_a_write_command_loads_only_its_module(tmp_path: Path) -> None:
    code, modules, _out = _modules_after(tmp_path, "--home", str(tmp_path / "h"), "key", "list")
    assert code == 0
    loaded = {m for m in modules if m.startswith("trustkeep.cli.") and not m[14:].startswith("_")}
    assert loaded == {"trustkeep.cli.key"}
    assert _loaded(modules, ("textual", "trustkeep_tui", "trustkeep.service.repo", "tuf")) == []


@pytest.mark.parametrize("name", sorted(_COMMAND_MODULES))
def test_table_matches_the_modules(name: str) -> None:
    module_name, short_help = _COMMAND_MODULES[name]
    module = importlib.import_module(f"trustkeep.cli.{module_name}")
    assert name in {c.name for c in module.COMMANDS}
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    assert short_help and short_help.endswith(".")


def test_every_command_module_is_in_the_table() -> None:
    listed = {module for module, _ in _COMMAND_MODULES.values()}
    for path in (ROOT / "trustkeep" / "cli").glob("*.py"):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"trustkeep.cli.{path.stem}")
        commands = getattr(module, "COMMANDS", ())
        if commands:
            assert path.stem in listed, path
            assert {c.name for c in commands} <= set(_COMMAND_MODULES), path


def test_unknown_command_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("no-such-command")
    assert code == 2
    assert "No such command" in err


def test_the_pkcs11_backend_loads_when_a_token_is_used_after_a_verification() -> None:
    """Held back for verification, the HSM backend works once the PKCS#11 adapter loads."""
    proc = subprocess.run(
        [sys.executable, "-c", _HSM_AFTER_VERIFY], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
