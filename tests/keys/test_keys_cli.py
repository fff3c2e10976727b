"""``trustkeep key ...`` through main(argv) and as a subprocess: output, exit codes, failures."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from keystore_support import (
    NEW_PASSPHRASE,
    PASSPHRASE,
    SoftHSM,
    cli_env,
    generate,
    snapshot,
    trustkeep_cmd,
)
from notary_env import PASSPHRASES, NotaryClient, NotaryServer

ENTRY_FIELDS = {
    "keyid",
    "name",
    "keytype",
    "scheme",
    "notary_canonical_id",
    "backend",
    "has_private",
    "labels",
    "remembered",
    "keyval",
    "uri",
}


def test_generate_and_list_json(cli) -> None:  # type: ignore[no-untyped-def]
    ed = generate(cli, "--type", "ed25519", "--name", "alice")
    ec = generate(cli, "--type", "ecdsa-p256")
    code, out, err = cli("key", "list", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["schema"] == 1 and set(doc) == {"schema", "keys"}
    assert [k["keyid"] for k in doc["keys"]] == [ed["keyid"], ec["keyid"]]
    first, second = doc["keys"]
    assert set(first) == ENTRY_FIELDS
    assert (first["name"], first["keytype"], first["scheme"]) == ("alice", "ed25519", "ed25519")
    assert (first["notary_canonical_id"], first["backend"]) == (None, "file")
    assert second["scheme"] == "ecdsa-sha2-nistp256"
    assert len(second["notary_canonical_id"]) == 64
    code, out, _ = cli("key", "list")
    assert out.splitlines()[0].split() == ["KEYID", "NAME", "SCHEME", "BACKEND", "NOTARY", "ID"]
    assert ed["keyid"][:16] in out and "alice" in out


def test_human_generate_prints_keyid_and_notary_id(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("key", "generate", "--type", "ecdsa-p384", "--name", "n")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("generated ecdsa-p384 key ") and lines[0].endswith(" (n)")
    assert lines[1].startswith("notary canonical id ")


def test_show_export_public_and_export(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = generate(cli, "--type", "ecdsa-p256", "--name", "alice")
    code, out, _ = cli("key", "show", key["keyid"][:8], "--json")
    assert code == 0 and json.loads(out)["key"] == key
    code, out, _ = cli("key", "export-public", "alice")
    assert code == 0 and out == key["keyval"]["public"]
    code, out, _ = cli("key", "export-public", "alice", "--format", "tuf", "--json")
    tuf = json.loads(json.loads(out)["public"])
    assert tuf == {
        "keyid": key["keyid"],
        "keytype": "ecdsa",
        "scheme": key["scheme"],
        "keyval": key["keyval"],
    }
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "export-pass")
    target = tmp_path / "out.pem"
    code, out, err = cli("key", "export", "alice", "-o", str(target))
    assert code == 0, err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    code, out, _ = cli("key", "export", "alice", "--format", "notary", "--json")
    pem = json.loads(out)["pem"]
    assert f"path: {key['notary_canonical_id']}\nrole: root\n" in pem


def test_passwd_and_remove(cli, home: Path, monkeypatch, run_cli) -> None:  # type: ignore[no-untyped-def]
    key = generate(cli, "--type", "ed25519", "--name", "alice")
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", NEW_PASSPHRASE)
    code, out, err = cli("key", "passwd", "alice")
    assert code == 0, err
    assert out == f"changed the passphrase of key {key['keyid'][:8]} (alice)\n"
    code, _, err = cli("key", "export", "alice")  # old passphrase no longer works
    assert code == 3
    assert err == (
        f"trustkeep: error: wrong passphrase for key {key['keyid']} (alice)\n"
        "trustkeep: hint: it came from TRUSTKEEP_PASSPHRASE, which every key shares: "
        "give this key its own in TRUSTKEEP_PASSPHRASE_ALICE\n"
    )
    code, _, err = cli("key", "remove", "alice")
    assert code == 2
    assert "not removing key" in err and "--yes" in err
    assert (home / "keys" / f"{key['keyid']}.json").exists()
    code, out, _ = cli("key", "remove", "alice", "--yes", "--json")
    assert code == 0 and json.loads(out)["removed"]["keyid"] == key["keyid"]
    assert snapshot(home) == {}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("key", "show", "nobody"), 2, "trustkeep: error: unknown key 'nobody'"),
        (("key", "show", "abc"), 2, "key prefix 'abc' is too short"),
        (("key", "generate", "--type", "dsa"), 2, "trustkeep: error: unknown key type 'dsa'"),
        (("key", "generate", "--type", "ed25519", "--name", "../x"), 2, "invalid key name"),
        (("key", "import"), 2, "give exactly one of FILE, --notary-dir DIR or --pkcs11"),
        (("key", "import", "/nonexistent/k.pem"), 2, "/nonexistent/k.pem: cannot read"),
        (("key", "import", "--pkcs11", "--key-id", "x"), 2, "--key-id: not a number"),
    ],
)
def test_usage_errors(cli, home: Path, argv: tuple[str, ...], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    generate(cli, "--type", "ed25519", "--name", "alice")
    before = snapshot(home)
    got, out, err = cli(*argv)
    assert (got, out) == (code, "")
    assert message in err
    assert len(err.strip().splitlines()) <= 2  # one error line (+ a hint)
    assert snapshot(home) == before


def test_import_not_a_key_and_truncated(cli, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    generate(cli, "--type", "ed25519", "--name", "alice")
    before = snapshot(home)
    text = tmp_path / "notes.txt"
    text.write_text("meeting notes\n")
    code, _, err = cli("key", "import", str(text))
    assert code == 2
    assert err.startswith(f"trustkeep: error: {text}: not a key file")
    pem = (home / "keys" / "private").iterdir().__next__().read_text()
    truncated = tmp_path / "truncated.pem"
    truncated.write_text(pem[: len(pem) // 2])
    code, _, err = cli("key", "import", str(truncated))
    assert code == 2 and err.startswith(f"trustkeep: error: {truncated}")
    assert snapshot(home) == before


@pytest.mark.interop
def test_import_notary_dir_cli(cli, tmp_path: Path, monkeypatch, notary: NotaryServer) -> None:  # type: ignore[no-untyped-def]
    client = NotaryClient(notary, tmp_path / "trust")
    client.run("init", "example.com/cli/app")
    for var, value in PASSPHRASES.items():
        monkeypatch.setenv(var, value)
    code, out, err = cli("key", "import", "--notary-dir", str(tmp_path / "trust"), "--json")
    assert code == 0, err
    keys = json.loads(out)["keys"]
    assert sorted(k["labels"]["role"] for k in keys) == ["root", "snapshot", "targets"]
    assert all(k["added"] for k in keys)
    assert {k["notary_canonical_id"] for k in keys} == {
        p.stem for p in (tmp_path / "trust" / "private").glob("*.key")
    }


@pytest.mark.interop
def test_import_notary_key_export_bundle_cli(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch, notary: NotaryServer
) -> None:
    """`notary key export` writes all keys into one file, each under its role's passphrase."""
    client = NotaryClient(notary, tmp_path / "trust")
    gun = "example.com/cli/bundle"
    client.run("init", gun)
    bundle = tmp_path / "exported.pem"
    client.run("key", "export", "-o", str(bundle), with_server=False)
    assert bundle.read_text().count("BEGIN ENCRYPTED PRIVATE KEY") == 3
    for var, value in PASSPHRASES.items():
        monkeypatch.setenv(var, value)
    code, out, err = cli("key", "import", str(bundle), "--json")
    assert code == 0, err
    keys = json.loads(out)["keys"]
    assert sorted((k["labels"]["role"], k["labels"].get("gun")) for k in keys) == [
        ("root", None),
        ("snapshot", gun),
        ("targets", gun),
    ]
    assert {k["notary_canonical_id"] for k in keys} == {
        p.stem for p in (tmp_path / "trust" / "private").glob("*.key")
    }
    monkeypatch.setenv("NOTARY_TARGETS_PASSPHRASE", "wrong")
    code, _, err = cli("key", "import", str(bundle), "--name", "x")
    assert code == 2 and "holds 3 keys; --name needs a file with one key" in err


@pytest.mark.interop
def test_import_pkcs11_cli(cli, monkeypatch, softhsm: SoftHSM) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PIN", softhsm.pin)
    code, out, err = cli(
        "key",
        "import",
        "--pkcs11",
        "--token",
        softhsm.label,
        "--key-id",
        "2",
        "--name",
        "tok",
        "--json",
    )
    assert code == 0, err
    (key,) = json.loads(out)["keys"]
    assert (key["backend"], key["scheme"]) == ("pkcs11", "ecdsa-sha2-nistp384")
    assert key["uri"] == f"hsm:2?label={softhsm.label}"
    code, _, err = cli("key", "export", "tok")
    assert code == 3 and "has no exportable private key (pkcs11)" in err


def test_keyring_backend_and_remember_cli(cli, keyring_file: Path, monkeypatch, home: Path) -> None:  # type: ignore[no-untyped-def]
    key = generate(cli, "--type", "ed25519", "--name", "kr", "--backend", "keyring", "--remember")
    assert (key["backend"], key["remembered"]) == ("keyring", True)
    monkeypatch.delenv("TRUSTKEEP_PASSPHRASE")
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "exported")
    code, _, err = cli("key", "export", "kr")  # unlocked by the remembered passphrase
    assert code == 0, err
    assert not list(home.rglob("*.pem"))


# -- as a subprocess: no terminal, non-interactive use ------------------------------------


def run_sub(
    home: Path, *args: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        trustkeep_cmd(*args),
        env=cli_env(home, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_non_interactive_generate_and_list_in_fresh_home(home: Path) -> None:
    proc = run_sub(home, "key", "generate", "--type", "ed25519", TRUSTKEEP_PASSPHRASE="long-enough")
    assert proc.returncode == 0, proc.stderr
    proc = run_sub(home, "key", "list", "--json")
    doc = json.loads(proc.stdout)
    assert doc["schema"] == 1 and len(doc["keys"]) == 1
    assert doc["keys"][0]["notary_canonical_id"] is None


def test_no_terminal_and_no_variable_fails_fast_with_exit_3(home: Path) -> None:
    proc = run_sub(home, "key", "generate", "--type", "ed25519", timeout=30)
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "trustkeep: error: no new passphrase for key "
        + proc.stderr.split("for key ")[1].split(":")[0]
        + ": no terminal to ask on and TRUSTKEEP_NEW_PASSPHRASE is not set",
        "trustkeep: hint: set TRUSTKEEP_NEW_PASSPHRASE, "
        f"TRUSTKEEP_PASSPHRASE_{proc.stderr.split('for key ')[1][:8].upper()}, "
        "TRUSTKEEP_PASSPHRASE_FILE (or --passphrase-file) or TRUSTKEEP_PASSPHRASE, "
        "or run in a terminal",
    ]
    assert not (home / "keys").exists() or snapshot(home) == {}
    ok = run_sub(home, "key", "generate", "--type", "ed25519", TRUSTKEEP_PASSPHRASE="long-enough")
    proc = run_sub(home, "key", "export", ok.stdout.split()[3], timeout=30)
    assert proc.returncode == 3
    assert "no passphrase for key" in proc.stderr and "TRUSTKEEP_PASSPHRASE" in proc.stderr


def test_home_under_a_file_cli(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "long-enough")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run_cli(
        "--home", str(blocker / "home"), "key", "generate", "--type", "ed25519"
    )
    assert (code, out) == (3, "")
    assert err.startswith(f"trustkeep: error: {blocker}/home/keys: cannot create directory:")


def test_remembered_passphrase_across_processes_with_keyring_from_env(home: Path) -> None:
    """PYTHON_KEYRING_BACKEND picks keyrings.alt's file backend (under XDG_DATA_HOME)."""
    proc = run_sub(
        home,
        "key",
        "generate",
        "--type",
        "ed25519",
        "--name",
        "r",
        "--remember",
        TRUSTKEEP_PASSPHRASE="remembered-pass",
    )
    assert proc.returncode == 0, proc.stderr
    keyring_file = home.parent / "xdg-data" / "python_keyring" / "keyring_pass.cfg"
    assert keyring_file.is_file()
    proc = run_sub(home, "key", "export", "r", TRUSTKEEP_NEW_PASSPHRASE="export-pass")
    assert proc.returncode == 0, proc.stderr  # no TRUSTKEEP_PASSPHRASE: the keyring answered
    assert proc.stdout.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")


def test_key_list_json_contract_in_a_fresh_home(run_cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """generate + list --json, non-interactive, in a fresh home: the documented fields."""
    monkeypatch.setenv("TRUSTKEEP_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    for key_type in ("ed25519", "ecdsa-p384"):
        assert run_cli("key", "generate", "--type", key_type)[0] == 0
    code, out, err = run_cli("key", "list", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["schema"] == 1
    by_scheme = {k["scheme"]: k for k in doc["keys"]}
    assert set(by_scheme) == {"ed25519", "ecdsa-sha2-nistp384"}
    assert by_scheme["ed25519"]["notary_canonical_id"] is None
    assert len(by_scheme["ecdsa-sha2-nistp384"]["notary_canonical_id"]) == 64
    for k in doc["keys"]:
        assert {"keyid", "name", "keytype", "scheme", "backend"} <= set(k)
        assert k["backend"] == "file"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "argv",
    [
        ("key", "list", "--json"),
        ("key", "export-public", "alice"),
        ("notary", "cert", "alice", "--gun", "r.example/a"),
        ("pin", "export", "--gun", "r.example/a", "--from", "alice"),
    ],
    ids=["list", "export-public", "notary-cert", "pin-export"],
)
def test_stdout_write_failure_is_exit_3(cli, home: Path, argv: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Was: exit 4 'internal error: OSError' when stdout is on a full disk."""
    generate(cli, "--type", "ecdsa-p256", "--name", "alice")
    env = cli_env(home, TRUSTKEEP_PASSPHRASE=PASSPHRASE)
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            trustkeep_cmd(*argv), stdout=full, stderr=subprocess.PIPE, env=env, timeout=60
        )
    assert proc.returncode == 3
    assert proc.stderr.decode() == (
        "trustkeep: error: standard output: cannot write: No space left on device\n"
    )


_PKCS8_HEADERS = "--role and --gun are Notary key file headers: use --format notary"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "root"), "--role and --gun are Notary key file headers: use --format notary"),
        (
            ("--gun", "r.example/a"),
            "--role and --gun are Notary key file headers: use --format notary",
        ),
        (("--format", "notary", "--role", ""), "not a Notary role name: ''"),
    ],
    ids=["role-with-pkcs8", "gun-with-pkcs8", "empty-role"],
)
def test_export_header_options_that_would_be_ignored_are_refused(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """Was: --role/--gun silently dropped with --format pkcs8; --role '' became 'root'."""
    generate(cli, "--type", "ecdsa-p256", "--name", "alice")
    out_file = tmp_path / "alice.key"
    code, out, err = cli("key", "export", "alice", *args, "-o", str(out_file))
    assert code == 2
    assert out == ""
    assert err.strip() == f"trustkeep: error: {message}"
    assert not out_file.exists()


def test_remove_that_cannot_delete_the_private_half_keeps_the_key(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    """Was: the entry was deleted, then removing the private file failed (exit 3): the key
    vanished from `key list` while its private half stayed behind."""
    key = generate(cli, "--type", "ed25519", "--name", "alice")
    private = home / "keys" / "private" / f"{key['keyid']}.pem"
    private.unlink()
    private.mkdir()  # unlink() of a directory fails, as on a read-only or busy file
    before = snapshot(home)
    code, out, err = cli("key", "remove", "alice", "--yes")
    assert code == 3
    assert out == ""
    assert err.strip() == f"trustkeep: error: {private}: cannot remove: Is a directory"
    assert snapshot(home) == before
    code, out, err = cli("key", "show", "alice", "--json")
    assert code == 0, err
    assert json.loads(out)["key"]["keyid"] == key["keyid"]
