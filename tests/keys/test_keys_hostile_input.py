"""Hostile input to ``trustkeep key ...``: one line, the right exit code, nothing changed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, cli_env, generate, snapshot, trustkeep_cmd


def test_import_deeply_nested_json_object_is_input_error(cli, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Was: exit 4 'internal error: RecursionError' (json.loads of 100k nested objects)."""
    generate(cli, "--type", "ed25519", "--name", "alice")
    before = snapshot(home)
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    code, out, err = cli("key", "import", str(deep))
    assert code == 2
    assert out == ""
    assert err.startswith(f"trustkeep: error: {deep}: malformed JSON")
    assert len(err.strip().splitlines()) == 1
    assert snapshot(home) == before


def test_deeply_nested_store_entry_is_storage_error(cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    key = generate(cli, "--type", "ed25519", "--name", "alice")
    entry = home / "keys" / f"{key['keyid']}.json"
    entry.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = cli("key", "list")
    assert code == 3
    assert f"{entry}: corrupt key entry" in err


@pytest.mark.parametrize(
    "keyval",
    [{}, {"private": "x"}],
    ids=["empty", "no-public"],
)
def test_store_entry_without_public_value_is_storage_error(cli, home: Path, keyval: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    """Was: `key export-public` exit 4 (ValueError: SSlibKey needs keyval.public)."""
    key = generate(cli, "--type", "ecdsa-p256", "--name", "alice")
    entry = home / "keys" / f"{key['keyid']}.json"
    doc = json.loads(entry.read_text())
    doc["keyval"] = keyval
    entry.write_text(json.dumps(doc))
    for argv in (("key", "export-public", "alice"), ("key", "show", key["keyid"])):
        code, out, err = cli(*argv)
        assert code == 3, (argv, err)
        assert out == ""
        assert err.strip() == (
            f"trustkeep: error: {entry}: corrupt key entry: keyval has no 'public' value"
        )


@pytest.fixture
def failing_keyring() -> Iterator[None]:
    """keyring's own 'fail' backend: every store is refused (no OS keyring available)."""
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_passwd_remember_refused_by_keyring_changes_nothing(  # type: ignore[no-untyped-def]
    cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_keyring: None
) -> None:
    """Was: the private half was re-encrypted under the new passphrase, then the keyring
    refused it: exit 3 'error', yet the old passphrase no longer opened the key."""
    generate(cli, "--type", "ecdsa-p256", "--name", "alice")
    before = snapshot(home)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "a-different-passphrase")
    code, out, err = cli("key", "passwd", "alice", "--remember")
    assert code == 3
    assert out == ""
    assert err.startswith("trustkeep: error: OS keyring: ")
    assert "a-different-passphrase" not in err
    assert snapshot(home) == before
    monkeypatch.delenv("TRUSTKEEP_NEW_PASSPHRASE")
    code, _, err = cli("key", "export", "alice", "-o", str(tmp_path / "alice.pem"))
    assert code == 0, err  # the old passphrase (TRUSTKEEP_PASSPHRASE) still opens it


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


@pytest.mark.parametrize("name", ["7F737336", "ABCDEF0123", "DeadBeef"])
def test_upper_case_hex_name_is_refused(cli, home: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    """Was: accepted, although `key show NAME` resolves it case-insensitively as a keyid
    prefix: the name could silently select another key."""
    before = snapshot(home)
    code, out, err = cli("key", "generate", "--type", "ed25519", "--name", name)
    assert code == 2
    assert out == ""
    assert (
        err.strip()
        == f"trustkeep: error: invalid key name {name!r}: it would read as a keyid prefix"
    )
    assert snapshot(home) == before


def test_upper_case_hex_ref_still_resolves_as_prefix(cli) -> None:  # type: ignore[no-untyped-def]
    key = generate(cli, "--type", "ed25519", "--name", "alice")
    code, out, err = cli("key", "show", key["keyid"][:10].upper(), "--json")
    assert code == 0, err
    assert json.loads(out)["key"]["name"] == "alice"


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


_SYNCHRONISED_MAIN = (
    "import sys, time\n"
    "from trustkeep.cli import main\n"
    "time.sleep(max(0.0, float(sys.argv[1]) - time.time()))\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def test_concurrent_generates_cannot_share_a_name(home: Path) -> None:
    """Was: parallel `key generate --name same` all succeeded; 'same' then was ambiguous."""
    import time

    env = cli_env(home, TRUSTKEEP_PASSPHRASE=PASSPHRASE)
    start = time.time() + 2.5  # every process has imported trustkeep by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SYNCHRONISED_MAIN,
                str(start),
                "key",
                "generate",
                "--type",
                "ed25519",
                "--name",
                "same",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    codes, errors = [], []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        codes.append(proc.returncode)
        errors.append(err.decode())
    assert sorted(codes) == [0, 2, 2, 2, 2, 2], errors
    entries = list((home / "keys").glob("*.json"))
    assert len(entries) == 1
    keyid = entries[0].stem
    assert [p.name for p in (home / "keys" / "private").iterdir()] == [f"{keyid}.pem"]
    expected = f"trustkeep: error: key name 'same' is already used by key {keyid[:8]}\n"
    assert sorted(errors) == ["", *[expected] * 5]


def test_corrupt_keyring_file_is_key_access_error(cli, home: Path, keyring_file: Path) -> None:  # type: ignore[no-untyped-def]
    """Was: exit 4 'internal error: MissingSectionHeaderError' (keyrings.alt's file backend
    lets configparser errors through)."""
    key = generate(cli, "--type", "ed25519", "--name", "kr", "--backend", "keyring")
    keyring_file.write_text("garbage [[[\n")
    before = snapshot(home)
    code, out, err = cli("key", "export", "kr")
    assert code == 3
    assert out == ""
    assert err.splitlines()[0] == (
        f"trustkeep: error: OS keyring: cannot read trustkeep-private-key/{key['keyid']}: "
        "MissingSectionHeaderError"
    )
    code, _, err = cli("key", "remove", "kr", "--yes")
    assert code == 3
    assert "cannot delete" in err
    assert snapshot(home) == before  # the entry stays: its private half is still there
