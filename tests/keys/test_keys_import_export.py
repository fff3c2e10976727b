"""Import and export: inputs made by openssl and the real notary binary, outputs checked by them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, generate, secrets_from, snapshot
from notary_env import PASSPHRASES, NotaryClient, NotaryServer, have_notary

from trustkeep.errors import InputError, KeyAccessError
from trustkeep.service.keys import KeyService

SOURCE_PASS = "source-pass-1"
ROOT_PASS = PASSPHRASES["NOTARY_ROOT_PASSPHRASE"]


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def genpkey(tmp_path: Path, algorithm: str, *opts: str) -> Path:
    out = tmp_path / f"{algorithm}-{len(list(tmp_path.iterdir()))}.pem"
    openssl("genpkey", "-algorithm", algorithm, *opts, "-out", str(out))
    return out


def pubout(key: Path, passphrase: str | None = None) -> bytes:
    args = ["pkey", "-in", str(key), "-pubout"]
    if passphrase:
        args += ["-passin", f"pass:{passphrase}"]
    return openssl(*args)


def require_notary() -> None:
    if not have_notary():
        if os.environ.get("CI"):
            raise RuntimeError("notary not installed: tests/run.sh installs it")
        pytest.skip("notary not installed")


# -- PEM made by openssl -----------------------------------------------------------------

P256 = ("EC", "-pkeyopt", "ec_paramgen_curve:P-256")
P384 = ("EC", "-pkeyopt", "ec_paramgen_curve:P-384")


@pytest.mark.parametrize(
    ("gen", "convert", "scheme"),
    [
        (("ED25519",), None, "ed25519"),
        (P256, None, "ecdsa-sha2-nistp256"),
        (("RSA", "-pkeyopt", "rsa_keygen_bits:2048"), None, "rsassa-pss-sha256"),
        (P384, ["pkcs8", "-topk8", "-v2", "aes-256-cbc"], "ecdsa-sha2-nistp384"),
        (("ED25519",), ["pkcs8", "-topk8", "-v2", "aes-128-cbc"], "ed25519"),
        (P256, ["ec", "-aes256"], "ecdsa-sha2-nistp256"),  # Proc-Type / DEK-Info
        (("RSA", "-pkeyopt", "rsa_keygen_bits:2048"), ["rsa", "-traditional", "-des3"], None),
    ],
    ids=[
        "pkcs8-ed25519",
        "pkcs8-p256",
        "pkcs8-rsa",
        "enc-pkcs8-p384",
        "enc-pkcs8-ed25519",
        "traditional-ec",
        "traditional-rsa",
    ],
)
def test_import_openssl_pem(
    tmp_path: Path, home: Path, gen: tuple[str, ...], convert: list[str] | None, scheme: str | None
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    key = genpkey(src, gen[0], *gen[1:])
    passphrase = None
    if convert is not None:
        converted = src / "converted.pem"
        openssl(
            *convert, "-in", str(key), "-out", str(converted), "-passout", f"pass:{SOURCE_PASS}"
        )
        text = converted.read_text()
        assert "ENCRYPTED" in text
        key, passphrase = converted, SOURCE_PASS
    keys = KeyService(home, secrets_from({"passphrase for key file": SOURCE_PASS, "": PASSPHRASE}))
    entry = keys.import_file(key, name="imported")
    assert keys.backend_of(entry) == "file"
    if scheme:
        assert entry.scheme == scheme
    assert keys.export_public("imported").encode() == pubout(key, passphrase)
    asked = keys.secrets_handler.asked  # type: ignore[attr-defined]
    assert (f"passphrase for key file {key}" in asked) is (passphrase is not None)
    # stored re-encrypted under the store passphrase, usable for signing
    again = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry.sslib_key().verify_signature(again.signer("imported").sign(b"z"), b"z")


def test_import_public_pem_and_tuf_json(tmp_path: Path, home: Path) -> None:
    key = genpkey(tmp_path, *P256)
    pub = tmp_path / "pub.pem"
    pub.write_bytes(pubout(key))
    keys = KeyService(home, secrets_from({}))
    entry = keys.import_file(pub, name="pubkey")
    assert (keys.backend_of(entry), entry.uri, entry.has_private) == ("public", None, False)
    tuf_json = tmp_path / "key.json"
    tuf_json.write_text(keys.export_public("pubkey", fmt="tuf"))
    doc = json.loads(tuf_json.read_text())
    assert doc["keyid"] == entry.keyid and doc["scheme"] == "ecdsa-sha2-nistp256"
    other = KeyService(tmp_path / "home2", secrets_from({}))
    assert other.import_file(tuf_json).keyid == entry.keyid
    # the {"<keyid>": {...}} form of root.json's "keys"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({entry.keyid: entry.sslib_key().to_dict()}))
    third = KeyService(tmp_path / "home3", secrets_from({}))
    assert third.import_file(mapping).keyid == entry.keyid


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[bytes, type[Exception], str]]:
    good = genpkey(tmp_path, *P256).read_bytes()
    enc = openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:other", data=good)
    ed448 = genpkey(tmp_path, "ED448").read_bytes()
    p521 = genpkey(tmp_path, "EC", "-pkeyopt", "ec_paramgen_curve:P-521").read_bytes()
    x509 = openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        str(genpkey(tmp_path, *P256)),
        "-subj",
        "/CN=x",
        "-days",
        "1",
    )
    lines = good.decode().splitlines()
    return {
        "text": (b"hello, I am not a key\n", InputError, "not a key file"),
        "certificate": (x509, InputError, "not a key file"),
        "truncated": ("\n".join(lines[:2]).encode(), InputError, ""),
        "corrupt-base64": (
            "\n".join([lines[0], "!!!!" + lines[1][4:], *lines[2:]]).encode(),
            InputError,
            "",
        ),
        "garbage-der": (
            b"-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n",
            InputError,
            "",
        ),
        "ed448": (ed448, InputError, "unsupported"),
        "p521": (p521, InputError, "unsupported key type: ECDSA curve secp521r1"),
        "wrong-passphrase": (enc, KeyAccessError, "wrong passphrase"),
        "bad-json": (b'{"keytype": "ed25519",', InputError, "malformed JSON"),
        "json-private": (
            b'{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"00","private":"11"}}',
            InputError,
            "plaintext private key",
        ),
    }


def test_bad_import_inputs_change_nothing(tmp_path: Path, home: Path) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    keys.generate("ed25519", name="existing")
    before = snapshot(home)
    for case, (data, error, text) in _bad_inputs(tmp_path).items():
        path = tmp_path / f"{case}.input"
        path.write_bytes(data)
        with pytest.raises(error) as exc:
            keys.import_file(path)
        message = exc.value.message  # type: ignore[attr-defined]
        assert str(path) in message, (case, message)
        assert text in message, (case, message)
        assert "\n" not in message and PASSPHRASE not in message
        assert snapshot(home) == before, case


def test_import_missing_file_and_duplicate(tmp_path: Path, keys: KeyService) -> None:
    with pytest.raises(InputError, match="cannot read"):
        keys.import_file(tmp_path / "absent.pem")
    key = genpkey(tmp_path, "ED25519")
    keys.import_file(key)
    with pytest.raises(InputError, match="is already in the store"):
        keys.import_file(key)


def test_export_pkcs8_round_trip(tmp_path: Path, home: Path) -> None:
    keys = KeyService(
        home, secrets_from({"new passphrase for the exported": "exp-pass", "": PASSPHRASE})
    )
    entry = keys.generate("rsa-3072", name="r")
    pem = keys.export_private("r")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    out = tmp_path / "exported.pem"
    out.write_bytes(pem)
    assert pubout(out, "exp-pass").decode() == keys.export_public("r")
    other = KeyService(
        tmp_path / "h2", secrets_from({"passphrase for key file": "exp-pass", "": "long-enough"})
    )
    assert other.import_file(out).keyid == entry.keyid


# -- the real notary binary ---------------------------------------------------------------


def _notary(trust_dir: Path, *args: str) -> str:
    env = {**os.environ, **PASSPHRASES}
    proc = subprocess.run(
        ["notary", "-d", str(trust_dir), *args], input="", capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.interop
def test_import_notary_generated_root_key(tmp_path: Path, home: Path) -> None:
    require_notary()
    trust = tmp_path / "trust"
    _notary(trust, "key", "generate", "ecdsa", "--role", "root")
    (key_file,) = (trust / "private").glob("*.key")
    keys = KeyService(home, secrets_from({"passphrase for key file": ROOT_PASS, "": PASSPHRASE}))
    entry = keys.import_file(key_file)
    assert entry.notary_canonical_id == key_file.stem  # notary's own ID
    assert entry.labels == {"role": "root"}


@pytest.mark.interop
def test_import_notary_dir_from_real_repository(
    tmp_path: Path, home: Path, notary: NotaryServer
) -> None:
    client = NotaryClient(notary, tmp_path / "trust")
    gun = "example.com/keys/app"
    client.run("init", gun)
    files = {p.stem: p for p in (tmp_path / "trust" / "private").glob("*.key")}
    assert len(files) == 3  # root, targets, snapshot
    keys = KeyService(home, secrets_from({"new ": PASSPHRASE}))
    passwords = {
        "root": ROOT_PASS,
        "targets": PASSPHRASES["NOTARY_TARGETS_PASSPHRASE"],
        "snapshot": PASSPHRASES["NOTARY_SNAPSHOT_PASSPHRASE"],
    }
    results = keys.import_notary_dir(tmp_path / "trust", passwords=passwords)
    assert all(r.added for r in results)
    by_id = {r.entry.notary_canonical_id: r.entry for r in results}
    assert set(by_id) == set(files)
    roles = sorted((e.labels.get("role"), e.labels.get("gun")) for e in by_id.values())
    assert roles == [("root", None), ("snapshot", gun), ("targets", gun)]
    # asked for one new passphrase for the whole batch; importing again adds nothing
    assert keys.secrets_handler.asked == [  # type: ignore[attr-defined]
        f"new passphrase for the keys imported from {tmp_path / 'trust'}"
    ]
    assert not any(r.added for r in keys.import_notary_dir(tmp_path / "trust", passwords=passwords))
    # the pre-0.4 layout of the same keys
    old = tmp_path / "old" / "private"
    (old / "root_keys").mkdir(parents=True)
    (old / "tuf_keys" / gun).mkdir(parents=True)
    for e in by_id.values():
        src = files[e.notary_canonical_id or ""]
        role = e.labels["role"]
        dest = old / "root_keys" if role == "root" else old / "tuf_keys" / gun
        shutil.copy(src, dest / f"{src.stem}_{role}.key")
    fresh = KeyService(tmp_path / "home-old", secrets_from({"new ": PASSPHRASE}))
    old_results = fresh.import_notary_dir(tmp_path / "old", passwords=passwords)
    assert {r.entry.keyid for r in old_results} == {e.keyid for e in by_id.values()}


@pytest.mark.interop
def test_notary_dir_wrong_passphrase_imports_nothing(
    tmp_path: Path, home: Path, notary: NotaryServer
) -> None:
    client = NotaryClient(notary, tmp_path / "trust")
    client.run("init", "example.com/keys/wrong")
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    with pytest.raises(KeyAccessError, match="wrong passphrase"):
        keys.import_notary_dir(tmp_path / "trust", passwords={"root": ROOT_PASS})
    assert snapshot(home) == {}


@pytest.mark.interop
def test_export_notary_accepted_by_real_notary(
    tmp_path: Path, home: Path, notary: NotaryServer
) -> None:
    keys = KeyService(
        home, secrets_from({"new passphrase for the exported": ROOT_PASS, "": PASSPHRASE})
    )
    entry = keys.generate("ecdsa-p256", name="root1")
    key_file = tmp_path / "root.key"
    key_file.write_bytes(keys.export_private("root1", fmt="notary"))
    text = key_file.read_text()
    assert f"path: {entry.notary_canonical_id}" in text and "role: root" in text
    # notary key import accepts it and files it under the canonical ID
    trust = tmp_path / "trust-import"
    _notary(trust, "key", "import", str(key_file))
    listing = _notary(trust, "key", "list")
    assert entry.notary_canonical_id is not None and entry.notary_canonical_id in listing
    # notary init --rootkey uses it as the repository's root key
    client = NotaryClient(notary, tmp_path / "trust-init")
    gun = "example.com/keys/exported"
    client.run("init", gun, "--rootkey", str(key_file))
    client.run("publish", gun)
    assert entry.notary_canonical_id in client.run("key", "list", with_server=False).stdout


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
