"""KeyService over real files in tmp_path: generation, lookup, unlock, passwd, remove."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from keystore_support import (
    NEW_PASSPHRASE,
    PASSPHRASE,
    cli_env,
    generate,
    secrets_from,
    snapshot,
)

from trustkeep.core.keyids import notary_canonical_id, tuf_keyid
from trustkeep.errors import InputError, KeyAccessError, StorageError
from trustkeep.service.keys import KeyService


@pytest.mark.parametrize(
    ("key_type", "keytype", "scheme", "has_notary_id"),
    [
        ("ed25519", "ed25519", "ed25519", False),
        ("ecdsa-p256", "ecdsa", "ecdsa-sha2-nistp256", True),
        ("ecdsa-p384", "ecdsa", "ecdsa-sha2-nistp384", True),
        ("rsa-3072", "rsa", "rsassa-pss-sha256", True),
    ],
)
def test_generate_sign_verify(
    keys: KeyService, key_type: str, keytype: str, scheme: str, has_notary_id: bool
) -> None:
    entry = keys.generate(key_type, name="k1")
    assert (entry.keytype, entry.scheme, keys.backend_of(entry)) == (keytype, scheme, "file")
    assert entry.keyid == tuf_keyid(keytype, scheme, dict(entry.keyval))
    public = keys.public_key(entry)
    assert entry.notary_canonical_id == notary_canonical_id(public)
    assert (entry.notary_canonical_id is not None) is has_notary_id
    signature = keys.signer("k1").sign(b"payload")
    entry.sslib_key().verify_signature(signature, b"payload")
    assert [e.keyid for e in KeyService(keys.home, secrets_from({})).list()] == [entry.keyid]


def test_rsa_4096_generates(keys: KeyService) -> None:
    entry = keys.generate("rsa-4096")
    assert keys.public_key(entry).key_size == 4096  # type: ignore[union-attr]


def test_private_file_is_strongly_encrypted_pkcs8_with_private_modes(
    keys: KeyService, home: Path
) -> None:
    entry = keys.generate("ecdsa-p256")
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    assert stat.S_IMODE(pem_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "keys" / "private").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "keys" / f"{entry.keyid}.json").stat().st_mode) == 0o600
    text = pem_path.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    # openssl as the oracle: PBES2, PBKDF2-HMAC-SHA256 with 600000 rounds, AES-256-CBC
    parsed = subprocess.run(
        ["openssl", "asn1parse", "-in", str(pem_path)], capture_output=True, text=True, check=True
    ).stdout
    assert ":PBES2" in parsed and ":PBKDF2" in parsed
    assert ":hmacWithSHA256" in parsed and ":aes-256-cbc" in parsed
    assert "INTEGER           :0927C0" in parsed  # 600000
    pub = subprocess.run(
        ["openssl", "pkey", "-in", str(pem_path), "-passin", f"pass:{PASSPHRASE}", "-pubout"],
        capture_output=True,
        check=True,
    ).stdout
    ours = keys.public_key(entry).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pub == ours
    wrong = subprocess.run(
        ["openssl", "pkey", "-in", str(pem_path), "-passin", "pass:nope", "-noout"],
        capture_output=True,
    )
    assert wrong.returncode != 0
    entry_doc = json.loads((home / "keys" / f"{entry.keyid}.json").read_text())
    assert "PRIVATE" not in json.dumps(entry_doc)


def test_resolve_by_keyid_prefix_name_and_canonical_id(keys: KeyService) -> None:
    a = keys.generate("ecdsa-p256", name="alice")
    b = keys.generate("ed25519", name="bob")
    assert keys.resolve(a.keyid) == a
    assert keys.resolve(a.keyid[:8]) == a
    assert keys.resolve(a.keyid[:12].upper()) == a
    assert keys.resolve("bob") == b
    assert a.notary_canonical_id is not None
    assert keys.resolve(a.notary_canonical_id) == a


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("carol", "unknown key 'carol'"),
        ("0000000000", "unknown key '0000000000'"),
        ("abc", "key prefix 'abc' is too short: give at least 8 hex digits"),
        ("abcdef1", "key prefix 'abcdef1' is too short: give at least 8 hex digits"),
    ],
)
def test_resolve_errors(keys: KeyService, ref: str, message: str) -> None:
    keys.generate("ed25519", name="alice")
    with pytest.raises(InputError) as exc:
        keys.resolve(ref)
    assert exc.value.message == message
    assert exc.value.exit_code == 2


def test_ambiguous_prefix(keys: KeyService, home: Path) -> None:
    """Two stored keyids sharing a 10-digit prefix (crafted: a real collision needs 2^40 tries)."""
    real = keys.generate("ed25519")
    doc = json.loads((home / "keys" / f"{real.keyid}.json").read_text())
    for suffix in ("1" * 54, "2" * 54):
        keyid = "deadbeef00" + suffix
        (home / "keys" / f"{keyid}.json").write_text(
            json.dumps({**doc, "keyid": keyid, "uri": None, "backend": "public", "name": None})
        )
    with pytest.raises(InputError) as exc:
        keys.resolve("deadbeef00")
    assert exc.value.message.startswith("ambiguous key 'deadbeef00': matches deadbeef, deadbeef")
    assert keys.resolve("deadbeef001").keyid.endswith("1" * 54)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "invalid key name ''"),
        ("../x", "invalid key name '../x'"),
        ("a b", "invalid key name 'a b'"),
        ("deadbeef", "invalid key name 'deadbeef': it would read as a keyid prefix"),
        ("x" * 65, "invalid key name"),
    ],
)
def test_bad_names_rejected_before_anything_is_written(
    keys: KeyService, home: Path, name: str, message: str
) -> None:
    with pytest.raises(InputError) as exc:
        keys.generate("ed25519", name=name)
    assert exc.value.message.startswith(message)
    assert snapshot(home) == {}


def test_duplicate_name_rejected(keys: KeyService, home: Path) -> None:
    keys.generate("ed25519", name="alice")
    before = snapshot(home)
    with pytest.raises(InputError, match="key name 'alice' is already used"):
        keys.generate("ed25519", name="alice")
    assert snapshot(home) == before


def test_unknown_key_type(keys: KeyService, home: Path) -> None:
    with pytest.raises(InputError) as exc:
        keys.generate("dsa-1024")
    assert exc.value.message == "unknown key type 'dsa-1024'"
    assert snapshot(home) == {}


def test_wrong_passphrase_is_key_access_error_and_changes_nothing(
    keys: KeyService, home: Path
) -> None:
    entry = keys.generate("ecdsa-p256", name="alice")
    before = snapshot(home)
    wrong = KeyService(home, secrets_from({"": "not it"}))
    for action in (wrong.signer, wrong.private_key, wrong.passwd, wrong.export_private):
        with pytest.raises(KeyAccessError) as exc:
            action("alice")
        assert exc.value.message == f"wrong passphrase for key {entry.keyid} (alice)"
        assert exc.value.exit_code == 3
        assert "not it" not in str(exc.value)
    assert snapshot(home) == before


def test_empty_new_passphrase_refused(home: Path) -> None:
    keys = KeyService(home, secrets_from({"": ""}))
    with pytest.raises(InputError, match="empty passphrase"):
        keys.generate("ed25519")
    assert snapshot(home) == {}


def test_passwd_reencrypts(home: Path) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ecdsa-p384", name="alice")
    before = (home / "keys" / "private" / f"{entry.keyid}.pem").read_bytes()
    changer = KeyService(
        home, secrets_from({"new ": NEW_PASSPHRASE, "passphrase for key": PASSPHRASE})
    )
    changer.passwd("alice")
    after = (home / "keys" / "private" / f"{entry.keyid}.pem").read_bytes()
    assert after != before and after.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(KeyAccessError, match="wrong passphrase"):
        keys.signer("alice")
    signer = KeyService(home, secrets_from({"": NEW_PASSPHRASE})).signer("alice")
    entry.sslib_key().verify_signature(signer.sign(b"x"), b"x")
    assert sorted(p.name for p in (home / "keys" / "private").iterdir()) == [f"{entry.keyid}.pem"]


def test_remove(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519", name="alice")
    other = keys.generate("ed25519", name="bob")
    keys.remove("alice")
    assert [e.keyid for e in keys.list()] == [other.keyid]
    assert not (home / "keys" / "private" / f"{entry.keyid}.pem").exists()
    with pytest.raises(InputError, match="unknown key 'alice'"):
        keys.resolve("alice")


def test_add_public_is_idempotent_and_has_no_private(keys: KeyService) -> None:
    source = KeyService(keys.home.parent / "other", secrets_from({"": "long-enough"}))
    theirs = source.generate("ecdsa-p256")
    first = keys.add_public(theirs.sslib_key(), name="carol", labels={"role": "root"})
    again = keys.add_public(theirs.sslib_key())
    assert first == again
    assert (first.keyid, keys.backend_of(first), first.uri) == (theirs.keyid, "public", None)
    assert first.notary_canonical_id == theirs.notary_canonical_id
    with pytest.raises(KeyAccessError) as exc:
        keys.signer("carol")
    assert exc.value.message == f"key {theirs.keyid} is public only: no private key in the store"


def test_corrupt_store_files(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519", name="alice")
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    pem_path.write_bytes(pem_path.read_bytes()[:120])  # truncated
    with pytest.raises(StorageError) as exc:
        keys.signer("alice")
    assert exc.value.message == f"{pem_path}: corrupt private key of key {entry.keyid}"
    entry_path = home / "keys" / f"{entry.keyid}.json"
    entry_path.write_text('{"keyid": ')
    with pytest.raises(StorageError) as exc2:
        keys.list()
    assert exc2.value.message.startswith(f"{entry_path}: corrupt key entry:")


def test_leftover_temporary_files_are_ignored(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519")
    (home / "keys" / f".{entry.keyid}.json.abc.tmp").write_text("{half")
    assert [e.keyid for e in keys.list()] == [entry.keyid]


def test_missing_private_file(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519")
    (home / "keys" / "private" / f"{entry.keyid}.pem").unlink()
    with pytest.raises(StorageError, match=r"private key file of key .* is missing"):
        keys.signer(entry.keyid)


def test_home_under_a_file_is_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    keys = KeyService(blocker / "home", secrets_from({"": PASSPHRASE}))
    with pytest.raises(StorageError) as exc:
        keys.generate("ed25519")
    assert exc.value.message.startswith(f"{blocker / 'home' / 'keys'}: cannot create directory")
    assert blocker.read_text() == "not a directory"


def test_tampered_iteration_count_is_refused_without_spinning(keys: KeyService, home: Path) -> None:
    from asn1crypto import keys as asn1_keys

    from trustkeep.core.pbes2 import encrypt_pkcs8_der, pem_armor
    from trustkeep.service._keymaterial import is_well_formed_encrypted_pem

    entry = keys.generate("ed25519", name="alice")
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    der = encrypt_pkcs8_der(b"0" * 48, b"x", salt=b"s" * 16, iv=b"i" * 16, iterations=1)
    assert is_well_formed_encrypted_pem(pem_armor(der, "ENCRYPTED PRIVATE KEY"))
    info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
    kdf = info["encryption_algorithm"]["parameters"]["key_derivation_func"]["parameters"]
    kdf["iteration_count"] = 2**31 - 1
    pem_path.write_bytes(pem_armor(info.dump(force=True), "ENCRYPTED PRIVATE KEY"))
    with pytest.raises(StorageError, match="corrupt private key"):
        keys.signer("alice")


def test_private_import_upgrades_a_public_only_entry(keys: KeyService, tmp_path: Path) -> None:
    source = KeyService(tmp_path / "theirs", secrets_from({"": "long-enough"}))
    theirs = source.generate("ecdsa-p256")
    public = keys.add_public(theirs.sslib_key(), name="carol", labels={"role": "root"})
    assert keys.backend_of(public) == "public"
    upgraded = keys.add_private(source.private_key(theirs.keyid), name="carol")
    assert (upgraded.keyid, upgraded.name, keys.backend_of(upgraded)) == (
        theirs.keyid,
        "carol",
        "file",
    )
    assert upgraded.labels == {"role": "root"}
    assert [keys.backend_of(e) for e in keys.list()] == ["file"]
    keys.signer("carol")


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
