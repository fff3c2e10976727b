"""Token signers, the signer URI scheme and the key list contract in a fresh home."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, SoftHSM, secrets_from, snapshot

from trustkeep.adapters.keystore import KeyStore
from trustkeep.errors import KeyAccessError, StorageError
from trustkeep.service.keys import KeyService


@pytest.mark.interop
def test_missing_token_is_key_access_error_and_stores_nothing(
    run_cli, home: Path, softhsm: SoftHSM, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """README/PRODUCT: a missing HSM is exit 3; a key id not on the token stays exit 2."""
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


@pytest.mark.interop
def test_token_signer_is_picked_by_the_hsm_uri_scheme(home: Path, softhsm: SoftHSM) -> None:
    keys = KeyService(home, secrets_from({"PIN": softhsm.pin}))
    entry = keys.import_pkcs11(token_label=softhsm.label, key_id=1)
    assert entry.uri is not None and entry.uri.startswith("hsm:")
    signer = keys.signer(entry)
    signature = signer.sign(b"payload")
    entry.sslib_key().verify_signature(signature, b"payload")


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


def test_key_list_json_contract_in_a_fresh_home(run_cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 2 'done when': generate + list --json, non-interactive, the documented fields."""
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
