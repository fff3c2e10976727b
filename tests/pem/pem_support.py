"""Helpers for tests/pem: the real notary client and openssl, run non-interactively."""

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


def make_pre_04_layout(source: Path, dest: Path, *, strip_headers: bool) -> dict[str, str]:
    """Real notary key files moved into the pre-0.4 `root_keys/` and `tuf_keys/<gun>/`
    layout (with `<id>_<role>.key` names); returns keyid -> role."""
    shutil.copytree(source, dest)
    private = dest / "private"
    roles: dict[str, str] = {}
    for file in sorted(private.glob("*.key")):
        text = file.read_text()
        headers = dict(
            line.split(": ", 1) for line in text.split("\n\n")[0].splitlines()[1:] if ": " in line
        )
        role, gun = headers["role"], headers.get("gun")
        roles[file.stem] = role
        if strip_headers:
            lines = text.splitlines(keepends=True)
            text = "".join(line for line in lines if not line.startswith(("role:", "gun:")))
        if role == "root":
            target = private / "root_keys" / f"{file.stem}.key"
        else:
            assert gun is not None
            target = private / "tuf_keys" / gun / f"{file.stem}_{role}.key"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, 0o600)
        file.unlink()
    return roles
