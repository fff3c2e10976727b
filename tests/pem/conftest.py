"""Fixtures for the PEM / Notary key-file codec: real notary and openssl outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from notary_env import PASSPHRASES, have_notary

#: passphrase of each role's key in trust directories the real notary writes here
ROLE_PASSPHRASES: Mapping[str, str] = {
    "root": PASSPHRASES["NOTARY_ROOT_PASSPHRASE"],
    "targets": PASSPHRASES["NOTARY_TARGETS_PASSPHRASE"],
    "snapshot": PASSPHRASES["NOTARY_SNAPSHOT_PASSPHRASE"],
}
DELEGATION_PASSPHRASE = PASSPHRASES["NOTARY_DELEGATION_PASSPHRASE"]


def role_passphrase(role: str | None) -> bytes:
    return ROLE_PASSPHRASES.get(role or "", DELEGATION_PASSPHRASE).encode()


def require_notary() -> None:
    if not have_notary():
        if os.environ.get("CI"):
            raise RuntimeError("notary not installed: tests/run.sh installs it")
        pytest.skip("notary binaries not installed (run tests/run.sh)")


def notary_run(
    trust_dir: Path,
    *args: str,
    server_url: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """The real ``notary`` client, non-interactive (stdin closed, passphrases from env)."""
    cmd = ["notary"]
    if server_url is not None:
        cmd += ["-s", server_url]
    cmd += ["-d", str(trust_dir), *args]
    full_env = dict(os.environ)
    full_env.update(PASSPHRASES)
    full_env.update(env or {})
    proc = subprocess.run(
        cmd,
        input="",
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def notary_key_list(trust_dir: Path) -> dict[str, tuple[str, str]]:
    """``notary key list`` parsed by its (tabwriter-aligned) columns: key ID -> (role, gun)."""
    out = notary_run(trust_dir, "key", "list").stdout
    lines = [line for line in out.splitlines() if line.strip()]
    header = next((line for line in lines if line.startswith("ROLE")), None)
    if header is None:
        return {}
    gun_at, id_at, location_at = (header.index(h) for h in ("GUN", "KEY ID", "LOCATION"))
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[lines.index(header) + 2 :]:
        keyid = line[id_at:location_at].strip()
        rows[keyid] = (line[:gun_at].strip(), line[gun_at:id_at].strip())
    return rows


def openssl(*args: str, input_bytes: bytes | None = None) -> bytes:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    proc = subprocess.run(["openssl", *args], input=input_bytes, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{proc.stderr.decode()}")
    return proc.stdout


@dataclass(frozen=True)
class TrustDir:
    """A trust directory written by the real notary binary."""

    path: Path
    gun: str | None


@pytest.fixture(scope="session")
def generated_trust_dir(tmp_path_factory: pytest.TempPathFactory) -> TrustDir:
    """Offline: `notary key generate` of a root key and a delegation key."""
    require_notary()
    trust = tmp_path_factory.mktemp("notary-generated") / "trust"
    notary_run(trust, "key", "generate", "ecdsa")
    notary_run(trust, "key", "generate", "ecdsa", "--role", "targets/releases")
    return TrustDir(path=trust, gun=None)


@pytest.fixture(scope="session")
def initialized_trust_dir(tmp_path_factory: pytest.TempPathFactory, notary) -> TrustDir:  # type: ignore[no-untyped-def]
    """`notary init` against a real notary-server: root, targets and snapshot keys."""
    trust = tmp_path_factory.mktemp("notary-init") / "trust"
    gun = "example.com/acme/app"  # `notary key list` cuts longer GUNs
    notary_run(trust, "init", gun, server_url=notary.url)
    return TrustDir(path=trust, gun=gun)
