"""Acceptance audit of issue 5 (pins): gaps found by trying it as a user, now closed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pin_certs import notary_root
from test_pins_cli import _tuf_root_chain
from test_pins_files import DAEMON_JSON
from tuf.api.metadata import Metadata, Root

RunCli = Callable[..., tuple[int, str, str]]
GUN = "registry.example.com/acme/app"


@pytest.fixture
def root_file(tmp_path: Path) -> tuple[Path, str, str]:
    raw, cert_id, canonical = notary_root(GUN)
    path = tmp_path / "root.json"
    path.write_bytes(raw)
    return path, cert_id, canonical


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


@pytest.mark.parametrize("fmt", ["docker", "notary"])
def test_a_gun_ending_in_slash_is_refused(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str], fmt: str
) -> None:
    """'registry.example.com/acme/' is no repository name and no glob: the pin never applies."""
    path, _, _ = root_file
    gun = "registry.example.com/acme/"
    code, out, err = run_cli("pin", "export", "--format", fmt, "--from", str(path), "--gun", gun)
    assert (code, out) == (2, "")
    assert err == (
        f"trustkeep: error: --gun '{gun}': no repository name ends in '/', "
        "so this pin would never apply\n"
        f"trustkeep: hint: pin every repository under it with --gun '{gun}*'\n"
    )
    target = tmp_path / "daemon.json"
    target.write_text(DAEMON_JSON)
    option = "--daemon-json" if fmt == "docker" else "--notary-config"
    code, _, err = run_cli("pin", "apply", option, str(target), "--from", str(path), "--gun", gun)
    assert code == 2 and "no repository name ends in '/'" in err
    assert target.read_text() == DAEMON_JSON
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json", "root.json"]
    code, out, _ = run_cli(
        "pin", "export", "--format", fmt, "--from", str(path), "--gun", gun + "*"
    )
    assert code == 0 and f'"{gun}*"' in out


def test_tuf_export_json_names_the_root_keyids(run_cli: RunCli, tmp_path: Path) -> None:
    """--json wraps the TUF root with the IDs used: its version and root keyids."""
    _, second = _tuf_root_chain(tmp_path / "metadata")
    code, out, err = run_cli(
        "pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata"), "--json"
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    expected = Metadata[Root].from_bytes(second).signed
    assert doc["root"].encode() == second
    assert doc["root_version"] == expected.version == 2
    assert doc["root_keyids"] == expected.roles["root"].keyids
    assert doc["sources"] == [str(tmp_path / "metadata")]


def test_export_warns_about_a_relative_ca_path(
    run_cli: RunCli, root_file: tuple[Path, str, str]
) -> None:
    """The Notary client resolves a relative `ca` path from its cwd: export says so too."""
    path, _, _ = root_file
    args = ("pin", "export", "--format", "notary", "--from", str(path), "--ca")
    code, out, err = run_cli(*args, "registry.example.com/=certs/ca.pem")
    assert code == 0
    assert json.loads(out)["trust_pinning"]["ca"] == {"registry.example.com/": "certs/ca.pem"}
    assert err == (
        "trustkeep: warning: ca path 'certs/ca.pem' for 'registry.example.com/' is relative: "
        "the Notary client resolves it from its current directory; use an absolute path\n"
    )
    code, _, err = run_cli(*args, "registry.example.com/=/etc/notary/ca.pem")
    assert (code, err) == (0, "")
