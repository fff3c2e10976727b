"""Where a private key lives is its URI: the scheme picks the signer class, and the backend."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, SoftHSM, secrets_from, snapshot

from trustkeep.adapters.keystore import KeyStore
from trustkeep.errors import KeyAccessError, StorageError
from trustkeep.service._private import (
    SIGNER_FOR_URI_SCHEME,
    EncryptedPemSigner,
    FileSigner,
    HsmSigner,
    KeyringSigner,
    StoreSigner,
)
from trustkeep.service.keys import KeyService


def test_one_class_per_scheme() -> None:
    assert dict(SIGNER_FOR_URI_SCHEME) == {
        "tkfile": FileSigner,
        "tkkeyring": KeyringSigner,
        "hsm": HsmSigner,
    }
    for scheme, cls in SIGNER_FOR_URI_SCHEME.items():
        assert cls.scheme == scheme and issubclass(cls, StoreSigner)
    backends = [cls.backend for cls in SIGNER_FOR_URI_SCHEME.values()]
    assert backends == ["file", "keyring", "pkcs11"]
    assert {c for c in SIGNER_FOR_URI_SCHEME.values() if issubclass(c, EncryptedPemSigner)} == {
        FileSigner,
        KeyringSigner,
    }


def test_entries_store_the_uri_not_a_backend(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519", name="f")
    stored = json.loads((home / "keys" / f"{entry.keyid}.json").read_text())
    assert stored["uri"] == f"tkfile:{entry.keyid}"
    assert "backend" not in stored
    assert keys.backend_of(entry) == "file"
    assert isinstance(keys.private_half(entry), FileSigner)


def test_keyring_key_is_picked_by_its_scheme(keys: KeyService, keyring_file: Path) -> None:
    entry = keys.generate("ed25519", name="kr", backend="keyring")
    assert entry.uri == f"tkkeyring:{entry.keyid}"
    half = keys.private_half(entry)
    assert isinstance(half, KeyringSigner)
    assert half.where() == f"OS keyring entry trustkeep-private-key/{entry.keyid}"
    entry.sslib_key().verify_signature(keys.signer("kr").sign(b"data"), b"data")


@pytest.mark.interop
def test_token_key_is_picked_by_its_scheme(home: Path, softhsm: SoftHSM) -> None:
    keys = KeyService(home, secrets_from({"PIN": softhsm.pin}))
    entry = keys.import_pkcs11(token_label=softhsm.label, key_id=1)
    assert isinstance(keys.private_half(entry), HsmSigner)
    assert keys.backend_of(entry) == "pkcs11"
    signature = keys.signer(entry).sign(b"payload")
    entry.sslib_key().verify_signature(signature, b"payload")


@pytest.mark.parametrize(
    ("backend", "scheme"),
    [("file", "tkfile"), ("keyring", "tkkeyring"), ("pkcs11", "hsm"), ("public", None)],
)
def test_old_entries_with_a_backend_field_are_read_and_migrated(
    keys: KeyService, home: Path, backend: str, scheme: str | None
) -> None:
    """Stores written before the URI alone said it keep working; the field is dropped on
    the first read that can take the store's lock."""
    entry = keys.generate("ed25519", name="old")
    path = home / "keys" / f"{entry.keyid}.json"
    doc = json.loads(path.read_text())
    doc["uri"] = f"{scheme}:{entry.keyid}" if scheme else None
    doc["backend"] = backend
    path.write_text(json.dumps(doc))
    read = KeyService(home, secrets_from({})).resolve("old")
    assert read.uri == doc["uri"]
    assert keys.backend_of(read) == backend
    migrated = json.loads(path.read_text())
    assert "backend" not in migrated
    assert {k: v for k, v in doc.items() if k != "backend"} == migrated
    assert KeyStore(home).get(entry.keyid) == read


def test_file_key_signs_after_migration(keys: KeyService, home: Path) -> None:
    entry = keys.generate("ed25519", name="old")
    path = home / "keys" / f"{entry.keyid}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "backend": "file"}))
    signer = KeyService(home, secrets_from({"": PASSPHRASE})).signer("old")
    entry.sslib_key().verify_signature(signer.sign(b"data"), b"data")


@pytest.mark.parametrize(
    ("backend", "uri", "message"),
    [
        ("file", "tkkeyring:{keyid}", "backend 'file' does not match the private key URI"),
        ("public", "tkfile:{keyid}", "backend 'public' does not match the private key URI"),
        ("cloud", "tkfile:{keyid}", "unknown backend 'cloud'"),
        (None, "tkfile", "private key URI 'tkfile' is not SCHEME:LOCATION"),
    ],
)
def test_inconsistent_entries_are_corrupt(
    keys: KeyService, home: Path, backend: str | None, uri: str, message: str
) -> None:
    entry = keys.generate("ed25519", name="bad")
    path = home / "keys" / f"{entry.keyid}.json"
    doc = {**json.loads(path.read_text()), "uri": uri.format(keyid=entry.keyid)}
    if backend is not None:
        doc["backend"] = backend
    path.write_text(json.dumps(doc))
    before = path.read_bytes()
    with pytest.raises(StorageError) as exc:
        keys.resolve("bad")
    assert exc.value.message == f"{path}: corrupt key entry: {message}" + (
        f" {doc['uri']!r}" if "does not match" in message else ""
    )
    assert path.read_bytes() == before


def test_unknown_scheme_is_listed_but_not_used(keys: KeyService, home: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    entry = keys.generate("ed25519", name="kms")
    path = home / "keys" / f"{entry.keyid}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "uri": "awskms:alias/x"}))
    code, out, err = run_cli("--home", str(home), "key", "list", "--json")
    assert code == 0, err
    assert json.loads(out)["keys"][0]["backend"] == "awskms"
    with pytest.raises(StorageError, match="unknown private key URI scheme 'awskms'"):
        keys.signer("kms")


@pytest.mark.parametrize(
    ("uri", "error", "message"),
    [
        ("nope:{keyid}", StorageError, "unknown private key URI scheme 'nope'"),
        ("tkkeyring:{keyid}", KeyAccessError, "is missing from the OS keyring"),
        (None, KeyAccessError, "is public only: no private key in the store"),
    ],
)
def test_signer_is_picked_by_the_uri_scheme_alone(
    keys: KeyService,
    home: Path,
    keyring_file: Path,
    uri: str | None,
    error: type[Exception],
    message: str,
) -> None:
    """The private-key URI scheme picks the signer; an unknown scheme is refused, not guessed."""
    entry = keys.generate("ecdsa-p256", name="a")
    assert entry.uri == f"tkfile:{entry.keyid}"
    keys.signer("a").sign(b"x")  # the untampered entry signs
    bad_uri = uri.format(keyid=entry.keyid) if uri else None
    KeyStore(home).put(dataclasses.replace(entry, uri=bad_uri))
    before = snapshot(home)
    with pytest.raises(error) as exc:
        keys.signer("a")
    assert message in str(exc.value) and entry.keyid in str(exc.value)
    assert PASSPHRASE not in str(exc.value)
    assert snapshot(home) == before
