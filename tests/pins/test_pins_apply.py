"""`trustkeep pin apply`: merging pins into daemon.json / Notary configs, hostile files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_pins_files import DAEMON_JSON

RunCli = Callable[..., tuple[int, str, str]]


GUN = "registry.example.com/acme/app"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_apply_rejects_non_json_constants_naming_the_file(
    cli: RunCli, tmp_path: Path, constant: str
) -> None:
    """Was: 'trustkeep: error: unexpected character 'N' at offset 10' (no file named)."""
    daemon = tmp_path / "daemon.json"
    original = f'{{"debug": {constant}}}\n'
    daemon.write_text(original)
    code, out, err = cli(
        "pin", "apply", "--daemon-json", str(daemon), "--gun", "r.example/a", "--from", "alice"
    )
    assert code == 2
    assert out == ""
    assert err.strip() == (
        f"trustkeep: error: {daemon}: invalid JSON: {constant} is not a JSON value"
    )
    assert daemon.read_text() == original
    assert not (tmp_path / "daemon.json.bak").exists()


@pytest.mark.parametrize("where", ["top", "content-trust"])
def test_apply_deep_but_parseable_daemon_json_is_input_error(
    cli: RunCli, tmp_path: Path, where: str
) -> None:
    """Was: exit 4 'internal error: RecursionError' for ~600 nested objects, which
    json.loads accepts but the text scanner of `pin apply` recursed too deeply on."""
    deep = '{"a":' * 700 + "1" + "}" * 700
    text = f'{{"x": {deep}}}' if where == "top" else f'{{"content-trust": {{"x": {deep}}}}}'
    daemon = tmp_path / "daemon.json"
    daemon.write_text(text)
    for extra in ((), ("--dry-run",)):
        code, out, err = cli(
            "pin",
            "apply",
            "--daemon-json",
            str(daemon),
            "--gun",
            "r.example/a",
            "--from",
            "alice",
            *extra,
        )
        assert code == 2
        assert out == ""
        assert err.strip() == f"trustkeep: error: {daemon}: JSON nested too deeply"
    assert daemon.read_text() == text
    assert not (tmp_path / "daemon.json.bak").exists()


def test_conflicting_ca_for_one_prefix_is_usage_error(cli: RunCli, tmp_path: Path) -> None:
    """Was: the last --ca silently won, dropping the CA the user named first."""
    cert = tmp_path / "root-cert.pem"
    code, _, err = cli("notary", "cert", "alice", "--gun", "r.example/a", "--out", str(cert))
    assert code == 0, err
    base = ("pin", "export", "--format", "notary", "--from", str(cert), "--gun", "r.example/a")
    code, out, err = cli(*base, "--ca", "r.example/=/etc/ca-one.pem", "--ca", "r.example/=/ca2.pem")
    assert code == 2
    assert out == ""
    assert err.strip() == (
        "trustkeep: error: --ca 'r.example/=/ca2.pem': prefix 'r.example/' already has CA "
        "'/etc/ca-one.pem'"
    )
    code, out, err = cli(*base, "--ca", "r.example/=/ca2.pem", "--ca", "r.example/=/ca2.pem")
    assert code == 0, err
    assert '"r.example/": "/ca2.pem"' in out


_SYNCHRONISED_MAIN = (
    "import sys, time\n"
    "from trustkeep.cli import main\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def test_concurrent_applies_keep_every_entry(cli: RunCli, tmp_path: Path) -> None:
    """Was: parallel `pin apply` runs (configuration management) each exited 0 'updated',
    but read-modify-write without a lock lost some of the others' pins."""

    daemon = tmp_path / "daemon.json"
    daemon.write_text('{"debug": true}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTKEEP_")}
    env["TRUSTKEEP_HOME"] = str(tmp_path / "home")
    start = time.time() + 2.5  # every process has imported trustkeep by then
    guns = [f"r.example/app{i}" for i in range(8)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SYNCHRONISED_MAIN,
                str(start),
                "pin",
                "apply",
                "--daemon-json",
                str(daemon),
                "--gun",
                gun,
                "--from",
                "alice",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for gun in guns
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    document = json.loads(daemon.read_text())
    assert document["debug"] is True
    assert sorted(document["content-trust"]["trust-pinning"]["root-keys"]) == guns


def test_apply_through_a_symlink_keeps_the_link(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    """A managed /etc/docker/daemon.json is often a link: update its target, keep the link."""
    path, cert_id, canonical = root_file
    real = tmp_path / "managed" / "daemon.json"
    real.parent.mkdir()
    real.write_text(DAEMON_JSON)
    link = tmp_path / "etc" / "daemon.json"
    link.parent.mkdir()
    link.symlink_to(real)
    code, out, err = run_cli("pin", "apply", "--daemon-json", str(link), "--from", str(path))
    assert code == 0
    assert (
        err
        == f"trustkeep: warning: {link}: content-trust mode is permissive: pins are not enforced\n"
    )
    assert out == f"updated {link} (previous version in {real}.bak)\n"
    assert link.is_symlink() and link.resolve() == real
    assert (real.parent / "daemon.json.bak").read_text() == DAEMON_JSON
    assert sorted(p.name for p in link.parent.iterdir()) == ["daemon.json"]
    merged = json.loads(real.read_text())
    assert merged["content-trust"]["trust-pinning"]["cert-ids"][GUN] == [cert_id]
    assert merged["content-trust"]["trust-pinning"]["root-keys"][GUN] == [canonical]
    original = json.loads(DAEMON_JSON)
    assert {k: v for k, v in merged.items() if k != "content-trust"} == {
        k: v for k, v in original.items() if k != "content-trust"
    }
