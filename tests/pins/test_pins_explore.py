"""Regressions found by exploratory testing of ``trustkeep pin ...`` (hostile input)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunCli:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "explore-passphrase")
    home = tmp_path / "home"

    def _run(*argv: str) -> tuple[int, str, str]:
        code, out, err = run_cli("--home", str(home), *argv)
        assert "Traceback" not in err
        return code, out, err

    code, _, err = _run("key", "generate", "--type", "ecdsa-p256", "--name", "alice")
    assert code == 0, err
    return _run


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


def test_trust_dir_root_cached_under_another_gun_is_refused(cli: RunCli, tmp_path: Path) -> None:
    """Was: the root whose certificate names 'r.example/other' was pinned for the
    directory it sat in ('r.example/app'), a pin the Notary client would never honour."""
    from pin_certs import notary_root

    trust = tmp_path / "trust"
    good = trust / "tuf" / "r.example" / "good" / "metadata"
    bad = trust / "tuf" / "r.example" / "app" / "metadata"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    (good / "root.json").write_bytes(notary_root("r.example/good")[0])
    (bad / "root.json").write_bytes(notary_root("r.example/other")[0])
    expected = (
        f"trustkeep: error: {bad / 'root.json'}: the root certificate is for "
        "'r.example/other', not for 'r.example/app'"
    )
    for argv in (("pin", "export", "--from", str(trust)), ("notary", "ids", str(trust))):
        code, out, err = cli(*argv)
        assert code == 2, argv
        assert out == ""
        assert err.strip() == expected
    (bad / "root.json").write_bytes(notary_root("r.example/app")[0])
    code, out, err = cli("notary", "ids", str(trust), "--json")
    assert code == 0, err
    guns = [r["gun"] for r in json.loads(out)["repositories"]]
    assert guns == ["r.example/app", "r.example/good"]


def test_misnamed_versioned_root_names_both_files(cli: RunCli, tmp_path: Path) -> None:
    """Was: 'repo/5.root.json: root version 1 does not follow 1' (which file holds what?)."""
    from securesystemslib.signer import CryptoSigner
    from tuf.api.metadata import Metadata, Root

    signer = CryptoSigner.generate_ed25519()
    root = Metadata(Root())
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.signed.add_key(signer.public_key, role)
    root.sign(signer)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "1.root.json").write_bytes(root.to_bytes())
    (repo / "5.root.json").write_bytes(root.to_bytes())  # a copy of version 1
    code, out, err = cli("pin", "export", "--format", "tuf", "--from", str(repo))
    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"trustkeep: error: {repo / '5.root.json'}: holds root version 1, which does not "
        f"follow version 1 in {repo / '1.root.json'}"
    )


@pytest.fixture
def notary_root_file(tmp_path: Path) -> tuple[Path, str]:
    from pin_certs import notary_root

    raw, cert_id, _canonical = notary_root("r.example/a")
    path = tmp_path / "root.json"
    path.write_bytes(raw)
    return path, cert_id


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


_SYNCHRONISED_MAIN = (
    "import sys, time\n"
    "from trustkeep.cli import main\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def test_concurrent_applies_keep_every_entry(cli: RunCli, tmp_path: Path) -> None:
    """Was: parallel `pin apply` runs (configuration management) each exited 0 'updated',
    but read-modify-write without a lock lost some of the others' pins."""
    import os
    import subprocess
    import sys
    import time

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


def test_tuf_root_with_a_float_is_input_error(cli: RunCli, tmp_path: Path) -> None:
    """A float cannot be canonical JSON: no signer signed it; exit 2, not an internal error."""
    source = Path(__file__).resolve().parents[2] / "fixtures" / "tuf" / "valid" / "1.root.json"
    doc = json.loads(source.read_text())
    doc["signed"]["consistent_snapshot"] = 1.5
    bad = tmp_path / "float-root.json"
    bad.write_text(json.dumps(doc))
    code, out, err = cli("pin", "export", "--format", "tuf", "--from", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: not a valid TUF root: not canonical JSON" in err
