"""`trustkeep pin check`: one repository, the deciding entry, hostile configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pin_certs import notary_root

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def notary_root_file(tmp_path: Path) -> tuple[Path, str]:

    raw, cert_id, _canonical = notary_root("r.example/a")
    path = tmp_path / "root.json"
    path.write_bytes(raw)
    return path, cert_id


def test_check_rejects_nan_in_notary_config(cli: RunCli, tmp_path: Path) -> None:
    cert = tmp_path / "root-cert.pem"
    code, _, err = cli("notary", "cert", "alice", "--gun", "r.example/a", "--out", str(cert))
    assert code == 0, err
    config = tmp_path / "config.json"
    config.write_text('{"trust_pinning": {"certs": {}}, "x": NaN}')
    code, out, err = cli(
        "pin", "check", "--notary-config", str(config), "--gun", "r.example/a", "--from", str(cert)
    )
    assert code == 2
    assert out == ""
    assert err.strip() == f"trustkeep: error: {config}: invalid JSON: NaN is not a JSON value"


@pytest.mark.parametrize("gun", ["r.example/*", "", "r.example/a b"])
def test_check_needs_one_repository_not_a_pattern(
    cli: RunCli, tmp_path: Path, notary_root_file: tuple[Path, str], gun: str
) -> None:
    """Was: `pin check --gun 'r.example/*'` reported 'CN does not match GUN' as a rejection."""
    root, cert_id = notary_root_file
    daemon = tmp_path / "daemon.json"
    daemon.write_text(
        json.dumps({"content-trust": {"trust-pinning": {"cert-ids": {"r.example/*": [cert_id]}}}})
    )
    code, out, err = cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", gun, "--from", str(root)
    )
    assert code == 2
    assert out == ""
    assert err.strip() == (
        f"trustkeep: error: --gun {gun!r}: name one repository (pins are checked per root)"
    )


@pytest.mark.parametrize(
    ("mode", "warned"), [("disabled", True), ("permissive", True), ("enforced", False)]
)
def test_check_warns_when_the_daemon_does_not_enforce(
    cli: RunCli, tmp_path: Path, notary_root_file: tuple[Path, str], mode: str, warned: bool
) -> None:
    """Was: a pin check against a daemon.json with mode 'disabled' said nothing about it."""
    root, cert_id = notary_root_file
    daemon = tmp_path / "daemon.json"
    pins = {"trust-pinning": {"cert-ids": {"r.example/a": [cert_id]}}, "mode": mode}
    daemon.write_text(json.dumps({"content-trust": pins}))
    code, out, err = cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", "r.example/a", "--from", str(root)
    )
    assert code == 0, err
    assert out == "r.example/a: accepted (cert-ids entry 'r.example/a')\n"
    expected = (
        f"trustkeep: warning: {daemon}: content-trust mode is {mode!r}: "
        "the daemon does not enforce pins\n"
    )
    assert err == (expected if warned else "")
