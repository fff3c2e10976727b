"""A real notary-server on 127.0.0.1 and the real notary client, for interop tests.

The server runs with a local signer and memory storage on a free loopback port and
is stopped by its PID. The client runs non-interactively: passphrases come from
the NOTARY_*_PASSPHRASE variables and stdin is closed (or given explicitly).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PASSPHRASES", "NotaryClient", "NotaryServer", "have_notary", "notary_server"]

PASSPHRASES = {
    "NOTARY_ROOT_PASSPHRASE": "root-pass-123",
    "NOTARY_TARGETS_PASSPHRASE": "targets-pass-123",
    "NOTARY_SNAPSHOT_PASSPHRASE": "snapshot-pass-123",
    "NOTARY_DELEGATION_PASSPHRASE": "delegation-pass-123",
}


def have_notary() -> bool:
    return shutil.which("notary") is not None and shutil.which("notary-server") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class NotaryServer:
    url: str
    pid: int
    workdir: Path


@contextmanager
def notary_server(
    workdir: Path,
    *,
    tls: tuple[Path, Path] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[NotaryServer]:
    """Start notary-server on a free 127.0.0.1 port; stop it by PID afterwards.

    ``tls`` = (certificate, key) serves HTTPS; ``extra`` adds top-level config sections
    (e.g. ``{"auth": {"type": "token", ...}}``).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        port = _free_port()
        config = {
            "server": {"http_addr": f"127.0.0.1:{port}"},
            "trust_service": {"type": "local"},
            "storage": {"backend": "memory"},
            "logging": {"level": "info"},
            **(extra or {}),
        }
        if tls is not None:
            config["server"] = {
                "http_addr": f"127.0.0.1:{port}",
                "tls_cert_file": str(tls[0]),
                "tls_key_file": str(tls[1]),
            }
        cfg = workdir / "server.json"
        cfg.write_text(json.dumps(config))
        log = (workdir / "server.log").open("wb")
        proc = subprocess.Popen(
            ["notary-server", "-config", str(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        up = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    up = True
                    break
            except OSError:
                time.sleep(0.05)
        if up:
            break
        proc.kill()
        proc.wait()
        log.close()
    else:
        raise RuntimeError(f"notary-server did not start; see {workdir / 'server.log'}")
    try:
        scheme = "https" if tls is not None else "http"
        yield NotaryServer(url=f"{scheme}://127.0.0.1:{port}", pid=proc.pid, workdir=workdir)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@dataclass(frozen=True)
class NotaryClient:
    """The real ``notary`` client bound to one server and one trust directory."""

    server: NotaryServer
    trust_dir: Path
    passphrases: Mapping[str, str] = None  # type: ignore[assignment]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(PASSPHRASES if self.passphrases is None else self.passphrases)
        return env

    def run(
        self,
        *args: str,
        config: Path | None = None,
        stdin: str | None = None,
        check: bool = True,
        with_server: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        cmd = ["notary"]
        if config is not None:
            cmd += ["-c", str(config)]
        if with_server:
            cmd += ["-s", self.server.url]
        cmd += ["-d", str(self.trust_dir), *args]
        proc = subprocess.run(
            cmd,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc
