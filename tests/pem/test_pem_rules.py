"""Pure rules of the PEM / Notary key-file codec: table-driven, no external binaries."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519

from trustkeep.core import _pem
from trustkeep.core._pkcs8 import PrivateKeyInfo, pbes2_decrypt
from trustkeep.core.keyids import notary_canonical_id, notary_keyid
from trustkeep.core.pem_keys import (
    NOTARY_ED25519_OID,
    LoadedPrivateKey,
    PrivateKeyTypes,
    dump_notary_pem,
    load_private_pem,
    notary_private_keyid,
    pem_headers,
    pem_is_encrypted,
    split_pem_blocks,
)
from trustkeep.errors import InputError, KeyAccessError

PW = b"correct horse"
EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC384_KEY = ec.generate_private_key(ec.SECP384R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
RSA_KEY = rsa.generate_private_key(65537, 2048)
KEYS: dict[str, PrivateKeyTypes] = {
    "ecdsa-p256": EC_KEY,
    "ecdsa-p384": EC384_KEY,
    "ed25519": ED_KEY,
    "rsa": RSA_KEY,
}


def pkcs8_der(key: object) -> bytes:
    assert hasattr(key, "private_bytes")
    der: bytes = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return der


def same_key(a: object, b: object) -> bool:
    return pkcs8_der(a) == pkcs8_der(b)


def notary_pem(key: PrivateKeyTypes, role: str = "root", gun: str | None = None) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey) and role == "root":
        role = "targets/releases"  # Notary has no ed25519 root keys
    return dump_notary_pem(key, PW, role=role, gun=gun, keyid=notary_private_keyid(key))


# --- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KEYS))
def test_dump_notary_pem_round_trips(name: str) -> None:
    key = KEYS[name]
    data = notary_pem(key)
    loaded = load_private_pem(data, PW, source="k.key")
    assert isinstance(loaded, LoadedPrivateKey)
    assert same_key(loaded.private_key, key)
    assert loaded.format == "notary-pkcs8-encrypted"
    role = "targets/releases" if name == "ed25519" else "root"
    assert dict(loaded.headers) == {"path": notary_private_keyid(key), "role": role}
    assert pem_is_encrypted(data)


def test_dump_notary_pem_layout_is_go_pem_encode() -> None:
    keyid = notary_private_keyid(EC_KEY)
    text = dump_notary_pem(EC_KEY, PW, role="targets", gun="example.com/a", keyid=keyid).decode()
    lines = text.split("\n")
    assert lines[:5] == [
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "gun: example.com/a",
        f"path: {keyid}",
        "role: targets",
        "",
    ]
    assert text.endswith("-----END ENCRYPTED PRIVATE KEY-----\n")
    body = lines[5:-2]
    assert all(len(line) == 64 for line in body[:-1]) and 0 < len(body[-1]) <= 64


def test_dump_notary_pem_writes_notarys_pbes2_parameters() -> None:
    data = notary_pem(EC_KEY)
    der = _pem.decode_all(data)[0].der
    algorithm = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
    params = algorithm["parameters"]["key_derivation_func"]["parameters"]
    salt = params["salt"].native
    # exactly Notary's SEQUENCE {salt, iterations}: no keyLength, no prf (= HMAC-SHA1)
    assert params.dump() == b"\x30\x0e\x04\x08" + salt + b"\x02\x02\x08\x00"
    assert algorithm.kdf == "pbkdf2"
    assert algorithm.kdf_hmac == "sha1"
    assert algorithm.encryption_cipher == "aes" and algorithm.key_length == 32
    assert len(algorithm.encryption_iv) == 16


def test_dump_notary_pem_more_iterations() -> None:
    data = dump_notary_pem(
        ED_KEY,
        PW,
        role="targets/releases",
        gun=None,
        keyid=notary_private_keyid(ED_KEY),
        iterations=100_000,
    )
    der = _pem.decode_all(data)[0].der
    assert asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"].kdf_iterations == (
        100_000
    )
    assert same_key(load_private_pem(data, PW, source="x").private_key, ED_KEY)


def test_notary_ed25519_uses_notary_oid_and_96_byte_blob() -> None:
    data = notary_pem(ED_KEY)
    block = _pem.decode_all(data)[0]
    plain = pbes2_decrypt(asn1_keys.EncryptedPrivateKeyInfo.load(block.der), PW, "x")
    info = PrivateKeyInfo.load(plain)
    assert info["algorithm"]["algorithm"].dotted == NOTARY_ED25519_OID
    blob = info["private_key"].native
    raw_pub = ED_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    seed = ED_KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert blob == raw_pub + seed + raw_pub


def test_gun_header_only_for_targets_snapshot_timestamp() -> None:
    keyid = notary_private_keyid(EC_KEY)
    for role, expected_gun in [
        ("root", None),
        ("targets", "g/x"),
        ("snapshot", "g/x"),
        ("timestamp", "g/x"),
        ("targets/releases", None),
    ]:
        data = dump_notary_pem(EC_KEY, PW, role=role, gun="g/x", keyid=keyid)
        assert pem_headers(data).get("gun") == expected_gun, role
        assert pem_headers(data)["role"] == role


# --- key IDs --------------------------------------------------------------------------


def test_notary_private_keyid() -> None:
    assert notary_private_keyid(EC_KEY) == notary_canonical_id(EC_KEY.public_key())
    assert notary_private_keyid(RSA_KEY) == notary_canonical_id(RSA_KEY.public_key())
    raw = ED_KEY.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert notary_private_keyid(ED_KEY) == notary_keyid("ed25519", raw)
    assert re.fullmatch(r"[0-9a-f]{64}", notary_private_keyid(ED_KEY))


# --- dump errors ------------------------------------------------------------------------

ED_ID = notary_private_keyid(ED_KEY)

DUMP_ERRORS: list[tuple[str, dict[str, object], str]] = [
    ("bad role", {"role": "../../etc/x"}, "not a Notary role name: '../../etc/x'"),
    ("uppercase delegation", {"role": "targets/REL"}, "not a Notary role name"),
    ("targets without gun", {"role": "targets", "gun": None}, "a Notary targets key needs a GUN"),
    ("gun with newline", {"role": "targets", "gun": "a\nrole: root"}, "not a usable GUN"),
    ("keyid not hex", {"keyid": "../x"}, "not a Notary key ID: '../x'"),
    ("keyid of another key", {"keyid": "0" * 64}, f"key ID {'0' * 64} is not this key's"),
    ("ed25519 root", {"role": "root"}, "a Notary root key must be ECDSA or RSA"),
    ("empty password", {"password": b""}, "a Notary key file needs a non-empty passphrase"),
    ("few iterations", {"iterations": 10}, "PBKDF2 iteration count 10 out of range"),
]


@pytest.mark.parametrize(
    ("case", "override", "message"), DUMP_ERRORS, ids=[c[0] for c in DUMP_ERRORS]
)
def test_dump_notary_pem_rejects(case: str, override: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"password": PW, "role": "targets/x", "gun": None, "keyid": ED_ID}
    args.update(override)
    password = args.pop("password")
    with pytest.raises(InputError) as e:
        dump_notary_pem(ED_KEY, password, **args)  # type: ignore[arg-type]
    assert message in str(e.value)


# --- load errors: bad input -------------------------------------------------------------


def pem(block_type: str, der: bytes, headers: dict[str, str] | None = None) -> bytes:
    return _pem.encode(block_type, der, headers)


def good_notary() -> bytes:
    return notary_pem(EC_KEY)


def truncated_ciphertext() -> bytes:
    der = _pem.decode_all(good_notary())[0].der
    info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
    info["encrypted_data"] = info["encrypted_data"].native[:-5]
    return pem("ENCRYPTED PRIVATE KEY", info.dump(force=True))


def huge_iterations() -> bytes:
    der = _pem.decode_all(good_notary())[0].der
    info = asn1_keys.EncryptedPrivateKeyInfo.load(der)
    info["encryption_algorithm"]["parameters"]["key_derivation_func"]["parameters"][
        "iteration_count"
    ] = 2**40
    return pem("ENCRYPTED PRIVATE KEY", info.dump(force=True))


def notary_ed25519_blob(blob: bytes) -> bytes:
    info = PrivateKeyInfo(
        {"version": 0, "algorithm": {"algorithm": NOTARY_ED25519_OID}, "private_key": blob}
    )
    return pem("PRIVATE KEY", info.dump())


def other_key(key: object) -> bytes:
    return pem("PRIVATE KEY", pkcs8_der(key))


ED_SEED_PUB = ED_KEY.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
) + ED_KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

BAD_INPUT: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty", lambda: b"", "no PEM private key found"),
    ("text", lambda: b"hello world\n", "no PEM private key found"),
    ("binary", lambda: bytes(range(256)) * 4, "no PEM private key found"),
    ("public key only", lambda: pem("PUBLIC KEY", b"\x30\x00"), "no PEM private key found"),
    ("openssh key", lambda: pem("OPENSSH PRIVATE KEY", b"openssh"), "no PEM private key found"),
    (
        "no END line",
        lambda: good_notary().split(b"-----END")[0],
        "truncated PEM block ENCRYPTED PRIVATE KEY (no END line)",
    ),
    (
        "corrupt base64",
        lambda: b"-----BEGIN PRIVATE KEY-----\nMII*B\n-----END PRIVATE KEY-----\n",
        "corrupt base64 in PEM block PRIVATE KEY",
    ),
    (
        "empty block",
        lambda: b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        "empty PEM block PRIVATE KEY",
    ),
    ("garbage DER", lambda: pem("PRIVATE KEY", b"\x01\x02\x03garbage"), "corrupt PKCS#8"),
    ("truncated DER", lambda: pem("PRIVATE KEY", pkcs8_der(EC_KEY)[:-10]), "corrupt PKCS#8"),
    (
        "garbage encrypted DER",
        lambda: pem("ENCRYPTED PRIVATE KEY", b"\x30\x03\x02\x01\x00"),
        "corrupt encrypted private key",
    ),
    ("truncated ciphertext", truncated_ciphertext, "truncated encrypted private key"),
    ("huge iteration count", huge_iterations, "implausible PBKDF2 iteration count"),
    (
        "two keys",
        lambda: good_notary() + notary_pem(ED_KEY),
        "holds 2 private keys, expected one",
    ),
    ("too large", lambda: b"A" * (2 << 20), "too large for a key file"),
    (
        "notary ed25519 64-byte blob",
        lambda: notary_ed25519_blob(ED_SEED_PUB),
        "malformed Notary ed25519 key (64 bytes, expected 96)",
    ),
    (
        "notary ed25519 wrong public half",
        lambda: notary_ed25519_blob(b"\x00" * 32 + ED_SEED_PUB),
        "public key does not match the seed",
    ),
    ("DSA", lambda: other_key(dsa.generate_private_key(2048)), "unsupported key type (DSA)"),
    ("X25519", lambda: other_key(x25519.X25519PrivateKey.generate()), "unsupported key type"),
    ("Ed448", lambda: other_key(ed448.Ed448PrivateKey.generate()), "unsupported key type"),
    (
        "secp256k1",
        lambda: other_key(ec.generate_private_key(ec.SECP256K1())),
        "unsupported key type (ECDSA curve secp256k1)",
    ),
    (
        "short DEK-Info IV (pyca would panic)",
        lambda: traditional_encrypted(EC_KEY).replace(
            b"DEK-Info: AES-256-CBC,", b"DEK-Info: AES-256-CBC,0"
        ),
        "corrupt DEK-Info header",
    ),
    (
        "unknown DEK-Info cipher",
        lambda: traditional_encrypted(EC_KEY).replace(b"AES-256-CBC", b"CAMELLIA-256-CBC"),
        "unsupported PEM encryption CAMELLIA-256-CBC",
    ),
    (
        "non-ASCII header",
        lambda: notary_pem(EC_KEY).replace(b"role: root", b"role: r\xc3\xb6\xc3\xb6t"),
        "corrupt header in PEM block ENCRYPTED PRIVATE KEY",
    ),
    (
        "traditional corrupt",
        lambda: pem("EC PRIVATE KEY", b"\x30\x05\x02\x01\x01\x04\x00"),
        "corrupt EC PRIVATE KEY",
    ),
]


@pytest.mark.parametrize(("case", "make", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_load_private_pem_bad_input(case: str, make: Callable[[], bytes], message: str) -> None:
    with pytest.raises(InputError) as e:
        load_private_pem(make(), PW, source="bad.key")
    text = str(e.value)
    assert text.startswith("bad.key: "), text
    assert message in text
    assert "\n" not in text
    assert PW.decode() not in text


# --- load errors: passphrase -------------------------------------------------------------


def traditional_encrypted(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(PW),
    )


PASSPHRASE_CASES: list[tuple[str, Callable[[], bytes]]] = [
    ("notary ecdsa", lambda: notary_pem(EC_KEY)),
    ("notary ed25519", lambda: notary_pem(ED_KEY)),
    ("notary rsa", lambda: notary_pem(RSA_KEY)),
    ("traditional ec", lambda: traditional_encrypted(EC_KEY)),
    ("traditional rsa", lambda: traditional_encrypted(RSA_KEY)),
]


@pytest.mark.parametrize("wrong", [b"wrong", None, b""], ids=["wrong", "none", "empty"])
@pytest.mark.parametrize(("case", "make"), PASSPHRASE_CASES, ids=[c[0] for c in PASSPHRASE_CASES])
def test_wrong_or_missing_passphrase(
    case: str, make: Callable[[], bytes], wrong: bytes | None
) -> None:
    data = make()
    with pytest.raises(KeyAccessError) as e:
        load_private_pem(data, wrong, source="k.key")
    assert str(e.value) == "wrong passphrase for k.key"
    assert e.value.exit_code == 3
    assert load_private_pem(data, PW, source="k.key").format.endswith("encrypted")


# --- formats and headers ------------------------------------------------------------------


def test_traditional_with_notary_headers() -> None:
    """Notary < 0.6 wrote Proc-Type/DEK-Info then gun/role (Go's pem.Encode order)."""
    plain = traditional_encrypted(EC_KEY).decode()
    head, body = plain.split("\n\n", 1)
    data = (head + "\ngun: example.com/a\nrole: targets\n\n" + body).encode()
    loaded = load_private_pem(data, PW, source="old.key")
    assert same_key(loaded.private_key, EC_KEY)
    assert loaded.format == "traditional-encrypted"
    assert dict(loaded.headers) == {"gun": "example.com/a", "role": "targets"}
    assert pem_headers(data) == {"gun": "example.com/a", "role": "targets"}


FORMATS: list[tuple[str, Callable[[], bytes], str, bool]] = [
    ("pkcs8 plain", lambda: other_key(EC_KEY), "pkcs8", False),
    (
        "pkcs8 plain with role header",
        lambda: pem("PRIVATE KEY", pkcs8_der(EC_KEY), {"role": "root"}),
        "pkcs8",
        False,
    ),
    (
        "traditional plain",
        lambda: EC_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        "traditional",
        False,
    ),
    ("traditional encrypted", lambda: traditional_encrypted(EC_KEY), "traditional-encrypted", True),
    ("notary", lambda: notary_pem(EC_KEY), "notary-pkcs8-encrypted", True),
    (
        "pyca pkcs8 encrypted (PBKDF2-SHA256)",
        lambda: EC_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PW),
        ),
        "pkcs8-encrypted",
        True,
    ),
    (
        "certificate before the key",
        lambda: pem("CERTIFICATE", b"\x30\x00") + other_key(EC_KEY),
        "pkcs8",
        False,
    ),
]


@pytest.mark.parametrize(("case", "make", "fmt", "encrypted"), FORMATS, ids=[c[0] for c in FORMATS])
def test_formats(case: str, make: Callable[[], bytes], fmt: str, encrypted: bool) -> None:
    data = make()
    assert pem_is_encrypted(data) is encrypted
    loaded = load_private_pem(data, PW if encrypted else None, source="k")
    assert loaded.format == fmt
    assert same_key(loaded.private_key, EC_KEY)


def test_notary_ecdsa_pkcs8_version_1() -> None:
    """Notary writes ECDSA PKCS#8 with version 1, which pyca refuses on its own."""
    info = PrivateKeyInfo.load(pkcs8_der(EC_KEY))
    v1 = PrivateKeyInfo(
        {"version": 1, "algorithm": info["algorithm"], "private_key": info["private_key"]}
    ).dump()
    with pytest.raises(ValueError):
        serialization.load_der_private_key(v1, None)
    assert same_key(load_private_pem(pem("PRIVATE KEY", v1), None, source="k").private_key, EC_KEY)


def test_headers_and_encryption_flags_for_non_pem() -> None:
    assert pem_headers(b"garbage") == {}
    assert pem_is_encrypted(b"garbage") is False
    assert pem_headers(b"-----BEGIN PRIVATE KEY-----\nAAA") == {}


def test_split_pem_blocks() -> None:
    bundle = notary_pem(EC_KEY) + pem("CERTIFICATE", b"\x30\x00") + notary_pem(ED_KEY)
    blocks = split_pem_blocks(bundle)
    assert [pem_headers(b)["path"] for b in blocks] == [
        notary_private_keyid(EC_KEY),
        notary_private_keyid(ED_KEY),
    ]
    assert same_key(load_private_pem(blocks[1], PW, source="b").private_key, ED_KEY)


def test_pem_crlf_and_surrounding_text() -> None:
    data = b"Bag Attributes\r\n" + notary_pem(EC_KEY).replace(b"\n", b"\r\n") + b"trailer\n"
    assert same_key(load_private_pem(data, PW, source="k").private_key, EC_KEY)
    assert pem_headers(data)["role"] == "root"


def test_base64_in_headers_survives() -> None:
    """A header value with colons (a URL GUN with a port) is kept whole."""
    data = dump_notary_pem(
        EC_KEY, PW, role="targets", gun="host:5000/ns/app", keyid=notary_private_keyid(EC_KEY)
    )
    assert pem_headers(data)["gun"] == "host:5000/ns/app"
    assert base64.b64decode(b"".join(data.split(b"\n\n")[1].split(b"\n")[:-2]))
