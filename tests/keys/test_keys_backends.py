"""The OS keyring (real keyrings.alt file backend) and a PKCS#11 token (real SoftHSM2)."""

from __future__ import annotations

import base64
import configparser
from collections.abc import Iterator
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, SoftHSM, generate, secrets_from, snapshot
from securesystemslib.signer import SSlibKey

from trustkeep.core.keyids import notary_canonical_id
from trustkeep.errors import InputError, KeyAccessError
from trustkeep.service.keys import KeyService


def keyring_values(path: Path) -> dict[tuple[str, str], str]:
    """Decode keyrings.alt's plaintext file: {(service, user): value}."""
    parser = configparser.RawConfigParser()
    parser.read(path)
    out = {}
    for section in parser.sections():
        for user, value in parser.items(section):
            service = section.replace("_", " ")  # escaped; good enough for our names
            out[(service, user)] = base64.b64decode(value).decode()
    return out


def test_remembered_passphrase_is_used_first(home: Path, keyring_file: Path) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ecdsa-p256", name="alice", remember=True)
    assert entry.remembered
    assert PASSPHRASE in keyring_values(keyring_file).values()
    # no secrets handler answers: the keyring alone unlocks the key
    silent = KeyService(home, secrets_from({}))
    entry.sslib_key().verify_signature(silent.signer("alice").sign(b"m"), b"m")
    # a stale remembered passphrase falls back to asking
    import keyring

    keyring.set_password("trustkeep", entry.keyid, "stale")
    asking = KeyService(home, secrets_from({"passphrase for key": PASSPHRASE}))
    asking.signer("alice")
    assert asking.secrets_handler.asked == [f"passphrase for key {entry.label()}"]  # type: ignore[attr-defined]


def test_passwd_forget_and_remove_clean_the_keyring(home: Path, keyring_file: Path) -> None:
    import keyring

    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ed25519", remember=True)
    assert keyring.get_password("trustkeep", entry.keyid) == PASSPHRASE
    keys.passwd(entry.keyid, remember=False)
    assert keyring.get_password("trustkeep", entry.keyid) is None
    assert not keys.resolve(entry.keyid).remembered
    keys.passwd(entry.keyid, remember=True)
    keys.remove(entry.keyid)
    assert keyring.get_password("trustkeep", entry.keyid) is None


def test_keyring_backend_keeps_the_key_encrypted_in_the_keyring(
    home: Path, keyring_file: Path
) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ecdsa-p384", name="kr", backend="keyring")
    assert (keys.backend_of(entry), entry.uri) == ("keyring", f"tkkeyring:{entry.keyid}")
    assert not (home / "keys" / "private").exists()
    stored = keyring_values(keyring_file)
    values = [v for (s, u), v in stored.items() if u == entry.keyid]
    assert len(values) == 1
    assert values[0].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert "BEGIN PRIVATE KEY" not in keyring_file.read_text()
    signature = keys.signer("kr").sign(b"data")
    entry.sslib_key().verify_signature(signature, b"data")
    with pytest.raises(KeyAccessError, match=f"wrong passphrase for key {entry.keyid}"):
        KeyService(home, secrets_from({"": "nope"})).signer("kr")
    changer = KeyService(home, secrets_from({"new ": "changed-pass", "": PASSPHRASE}))
    changer.passwd("kr")
    changed = [v for (s, u), v in keyring_values(keyring_file).items() if u == entry.keyid]
    assert changed != values and changed[0].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    KeyService(home, secrets_from({"": "changed-pass"})).signer("kr")
    keys.remove("kr")
    assert keyring_values(keyring_file) == {}


def test_no_keyring_backend_is_key_access_error(home: Path, no_keyring: None) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    with pytest.raises(KeyAccessError) as exc:
        keys.generate("ed25519", backend="keyring")
    assert exc.value.message.startswith("OS keyring: cannot store trustkeep-private-key/")
    assert exc.value.hint is not None and "PYTHON_KEYRING_BACKEND" in exc.value.hint
    assert not (home / "keys").exists() or list((home / "keys").glob("*.json")) == []


@pytest.mark.interop
@pytest.mark.parametrize(
    ("key_id", "scheme"), [(1, "ecdsa-sha2-nistp256"), (2, "ecdsa-sha2-nistp384")]
)
def test_pkcs11_token_key_signs(home: Path, softhsm: SoftHSM, key_id: int, scheme: str) -> None:
    keys = KeyService(home, secrets_from({"PIN for token": softhsm.pin}))
    entry = keys.import_pkcs11(token_label=softhsm.label, key_id=key_id, name=f"hsm{key_id}")
    assert (keys.backend_of(entry), entry.scheme) == ("pkcs11", scheme)
    assert entry.uri == f"hsm:{key_id}?label={softhsm.label}"
    public = entry.sslib_key()
    assert isinstance(public, SSlibKey)
    assert entry.notary_canonical_id == notary_canonical_id(public._crypto_key())  # type: ignore[arg-type]
    signer = keys.signer(f"hsm{key_id}")
    signature = signer.sign(b"signed on a token")
    public.verify_signature(signature, b"signed on a token")
    assert f"PIN for token {softhsm.label}" in keys.secrets_handler.asked  # type: ignore[attr-defined]
    with pytest.raises(KeyAccessError) as exc:
        keys.private_key(f"hsm{key_id}")
    assert "lives on a PKCS#11 token" in exc.value.message


@pytest.mark.interop
def test_pkcs11_wrong_pin_and_missing_key(home: Path, softhsm: SoftHSM) -> None:
    keys = KeyService(home, secrets_from({"PIN": softhsm.pin}))
    entry = keys.import_pkcs11(token_label=softhsm.label, key_id=1)
    bad = KeyService(home, secrets_from({"PIN": "000000"}))
    with pytest.raises(KeyAccessError) as exc:
        bad.signer(entry.keyid)
    assert exc.value.message == f"wrong PIN for token {softhsm.label}"
    with pytest.raises(InputError) as exc2:
        keys.import_pkcs11(token_label=softhsm.label, key_id=9)
    assert exc2.value.message.startswith(f"PKCS#11 key 9 on token {softhsm.label}:")
    with pytest.raises(KeyAccessError, match="PKCS#11: token nosuch is not present"):
        keys.import_pkcs11(token_label="nosuch", key_id=1)  # HSM missing: exit 3


def test_passphrase_not_remembered_in_an_insecure_default_backend(
    home: Path, keyring_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyrings.alt's plaintext file backend picked by default (not chosen) is refused."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    with pytest.raises(KeyAccessError) as exc:
        keys.generate("ed25519", remember=True)
    assert exc.value.message.startswith(
        "OS keyring: not storing trustkeep/"
    ) and exc.value.message.endswith(
        "in keyrings.alt.file.PlaintextKeyring, which keyring rates insecure"
    )
    assert list(home.rglob("*.json")) == [] and list(home.rglob("*.pem")) == []
    assert not keyring_file.exists() or PASSPHRASE not in keyring_file.read_text()
    # an encrypted key may still live there: it stays encrypted
    entry = keys.generate("ed25519", backend="keyring")
    keys.signer(entry.keyid)


@pytest.mark.interop
def test_missing_token_is_key_access_error_and_stores_nothing(
    run_cli, home: Path, softhsm: SoftHSM, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A missing HSM is exit 3; a key id not on the token stays exit 2."""
    monkeypatch.setenv("TRUSTKEEP_PIN", softhsm.pin)
    argv = ("--home", str(home), "key", "import", "--pkcs11", "--key-id", "1")
    code, out, err = run_cli(*argv, "--token", "no-such-token")
    assert (code, out) == (3, "")
    assert err == (
        "trustkeep: error: PKCS#11: token no-such-token is not present\n"
        "trustkeep: hint: plug the token in, or check --token and PYKCS11LIB\n"
    )
    assert not home.exists() or snapshot(home) == {}
    code, _, err = run_cli(*argv[:-1], "9", "--token", softhsm.label)
    assert code == 2 and err.startswith(f"trustkeep: error: PKCS#11 key 9 on token {softhsm.label}")


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
