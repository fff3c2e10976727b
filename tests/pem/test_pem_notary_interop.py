"""The real notary binary as oracle: keys it writes load; keys we write, it accepts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pem_support import (
    DELEGATION_PASSPHRASE,
    ROLE_PASSPHRASES,
    TrustDir,
    notary_key_list,
    notary_run,
    require_notary,
    role_passphrase,
)

from trustkeep.core import _pem
from trustkeep.core._pkcs8 import PrivateKeyInfo, pbes2_decrypt
from trustkeep.core.keyids import notary_canonical_id, notary_cert_id, notary_keyid
from trustkeep.core.pem_keys import (
    PrivateKeyTypes,
    dump_notary_pem,
    load_private_pem,
    notary_private_keyid,
    pem_headers,
    split_pem_blocks,
)
from trustkeep.errors import KeyAccessError

pytestmark = pytest.mark.interop


def pkcs8_der(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_spki(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def assert_trust_dir_loads(trust: TrustDir) -> dict[str, PrivateKeyTypes]:
    """Every key file loads with its role's passphrase; its Notary ID is its file name
    and the ID `notary key list` shows, with the same role and GUN."""
    listed = notary_key_list(trust.path)
    files = sorted((trust.path / "private").glob("*.key"))
    assert len(files) == len(listed) >= 2
    loaded_keys: dict[str, PrivateKeyTypes] = {}
    for file in files:
        data = file.read_bytes()
        role = pem_headers(data)["role"]
        loaded = load_private_pem(data, role_passphrase(role), source=file.name)
        assert loaded.format == "notary-pkcs8-encrypted"
        keyid = notary_private_keyid(loaded.private_key)
        assert keyid == file.stem
        assert listed[keyid] == (role, loaded.headers.get("gun", ""))
        assert isinstance(loaded.private_key, ec.EllipticCurvePrivateKey)
        with pytest.raises(KeyAccessError, match=f"^wrong passphrase for {file.name}$"):
            load_private_pem(data, b"not-the-passphrase", source=file.name)
        loaded_keys[role] = loaded.private_key
    return loaded_keys


def test_keys_from_notary_key_generate_load(generated_trust_dir: TrustDir) -> None:
    keys = assert_trust_dir_loads(generated_trust_dir)
    assert sorted(keys) == ["root", "targets/releases"]


def test_notary_writes_ecdsa_pkcs8_version_1(generated_trust_dir: TrustDir) -> None:
    """The quirk the codec exists for: inner PKCS#8 version 1 (pyca refuses it)."""
    file = next((generated_trust_dir.path / "private").glob("*.key"))
    block = _pem.decode_all(file.read_bytes())[0]
    info = asn1_keys.EncryptedPrivateKeyInfo.load(block.der)
    assert info["encryption_algorithm"].kdf_hmac == "sha1"
    assert info["encryption_algorithm"].kdf_iterations == 2048
    role = block.headers["role"]
    inner = pbes2_decrypt(info, role_passphrase(role), file.name)
    assert PrivateKeyInfo.load(inner)["version"].native == 1
    with pytest.raises(ValueError):
        serialization.load_der_private_key(inner, None)


def test_keys_from_notary_init_load_and_match_root_json(initialized_trust_dir: TrustDir) -> None:
    keys = assert_trust_dir_loads(initialized_trust_dir)
    assert sorted(keys) == ["root", "snapshot", "targets"]
    gun = initialized_trust_dir.gun
    assert gun is not None
    root_json = initialized_trust_dir.path / "tuf" / gun / "metadata" / "root.json"
    signed = json.loads(root_json.read_text())["signed"]
    for role in ("targets", "snapshot"):
        (keyid,) = signed["roles"][role]["keyids"]
        assert keyid == notary_keyid("ecdsa", public_spki(keys[role]))
    (root_id,) = signed["roles"]["root"]["keyids"]
    cert_pem = base64.b64decode(signed["keys"][root_id]["keyval"]["public"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert notary_cert_id(cert) == root_id
    assert notary_canonical_id(cert.public_key()) == notary_private_keyid(keys["root"])


def test_notary_key_export_bundle_splits(initialized_trust_dir: TrustDir, tmp_path: Path) -> None:
    out = tmp_path / "export.pem"
    notary_run(initialized_trust_dir.path, "key", "export", "-o", str(out))
    blocks = split_pem_blocks(out.read_bytes())
    assert len(blocks) == 3
    for block in blocks:
        headers = pem_headers(block)
        loaded = load_private_pem(block, role_passphrase(headers["role"]), source="export.pem")
        assert headers["path"] == notary_private_keyid(loaded.private_key)


# --- what we write, notary accepts ----------------------------------------------------

KEYS = {
    "ecdsa-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ecdsa-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "rsa-3072": lambda: rsa.generate_private_key(65537, 3072),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}
ROLES = [("root", None), ("targets", "example.com/acme/app"), ("targets/releases", None)]


def passphrase_for(role: str) -> bytes:
    return ROLE_PASSPHRASES.get(role, DELEGATION_PASSPHRASE).encode()


COMBOS = [
    (keytype, role, gun)
    for keytype in sorted(KEYS)
    for role, gun in ROLES
    if not (keytype == "ed25519" and role == "root")  # refused: see test_pem_rules
]


@pytest.mark.parametrize(("keytype", "role", "gun"), COMBOS, ids=[f"{c[0]}-{c[1]}" for c in COMBOS])
def test_notary_imports_and_decrypts_our_key(
    keytype: str, role: str, gun: str | None, tmp_path: Path
) -> None:
    """`notary key import` files it under our ID and role; `notary key passwd` decrypts it
    (and re-encrypts it Notary's way, which we read back)."""
    require_notary()
    key = KEYS[keytype]()
    keyid = notary_private_keyid(key)
    exported = tmp_path / "export.key"
    data = dump_notary_pem(key, passphrase_for(role), role=role, gun=gun, keyid=keyid)
    exported.write_bytes(data)
    trust = tmp_path / "trust"
    notary_run(trust, "key", "import", str(exported))
    assert notary_key_list(trust) == {keyid: (role, gun or "")}
    stored = trust / "private" / f"{keyid}.key"
    before = stored.read_bytes()
    proc = notary_run(trust, "key", "passwd", keyid)
    assert f"Successfully updated passphrase for key ID: {keyid}" in proc.stdout
    after = stored.read_bytes()
    assert after != before  # notary decrypted our file and wrote its own
    loaded = load_private_pem(after, passphrase_for(role), source=stored.name)
    assert pkcs8_der(loaded.private_key) == pkcs8_der(key)
    assert loaded.format == "notary-pkcs8-encrypted"


def test_notary_rejects_sha256_prf_negative_control(tmp_path: Path) -> None:
    """The oracle can fail: a standard PBKDF2-HMAC-SHA256 file is 'password invalid'."""
    require_notary()
    key = ec.generate_private_key(ec.SECP256R1())
    keyid = notary_private_keyid(key)
    der = _pem.decode_all(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase_for("root")),
        )
    )[0].der
    exported = tmp_path / "sha256.key"
    exported.write_bytes(_pem.encode("ENCRYPTED PRIVATE KEY", der, {"path": keyid, "role": "root"}))
    trust = tmp_path / "trust"
    notary_run(trust, "key", "import", str(exported))
    proc = notary_run(trust, "key", "passwd", keyid, check=False)
    assert proc.returncode != 0


@pytest.mark.parametrize("keytype", ["ecdsa-p256", "rsa-3072"])
def test_notary_init_with_our_root_key(keytype: str, notary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`notary init GUN --rootkey FILE` publishes a root whose certificate holds our key."""
    key = KEYS[keytype]()
    keyid = notary_private_keyid(key)
    rootkey = tmp_path / "root.key"
    rootkey.write_bytes(
        dump_notary_pem(key, passphrase_for("root"), role="root", gun=None, keyid=keyid)
    )
    trust = tmp_path / "trust"
    gun = f"example.com/pem/{keytype}"
    notary_run(trust, "init", gun, "--rootkey", str(rootkey), server_url=notary.url)
    notary_run(trust, "publish", gun, server_url=notary.url)
    signed = json.loads((trust / "tuf" / gun / "metadata" / "root.json").read_text())["signed"]
    (root_id,) = signed["roles"]["root"]["keyids"]
    root_key = signed["keys"][root_id]
    assert root_key["keytype"] == ("ecdsa-x509" if keytype.startswith("ecdsa") else "rsa-x509")
    cert = x509.load_pem_x509_certificate(base64.b64decode(root_key["keyval"]["public"]))
    assert cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == public_spki(key)
    assert notary_canonical_id(cert.public_key()) == keyid
    assert notary_key_list(trust)[keyid] == ("root", "")
    # a fresh client trusts what the server now serves
    fresh = tmp_path / "fresh"
    listing = notary_run(fresh, "list", gun, server_url=notary.url, check=False)
    assert listing.returncode == 0, listing.stderr
