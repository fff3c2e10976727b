"""Pure rules, table-driven: canonical JSON, times, Notary keys and signatures, the report."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical

from trustkeep.core.keyids import notary_keyid
from trustkeep.core.notary_meta import (
    NotaryKeyError,
    b64decode_strict,
    parse_notary_key,
    verify_notary_signature,
)
from trustkeep.core.verify import Anchor, Finding, Report, RoleResult, require_valid
from trustkeep.core.verify._envelope import (
    Malformed,
    canonical_bytes,
    parse_envelope,
    parse_notary_time,
    parse_tuf_time,
)
from trustkeep.errors import TrustFailure

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, derandomize=True)
@given(_json_values)
def test_canonical_fast_path_equals_reference(value: object) -> None:
    try:
        reference = encode_canonical(value)
    except Exception:  # lone surrogates cannot be UTF-8: both must refuse
        with pytest.raises(Malformed):
            canonical_bytes(value)
        return
    assert reference is not None
    try:
        expected = reference.encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(Malformed):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


def test_canonical_fast_path_hands_over_where_orjson_cannot_encode() -> None:
    """orjson writes most files; ints beyond 64 bits, escapes and astral keys still come
    out exactly as the reference encoder writes them."""
    cases = (
        {"big": 2**64, "neg": -(2**70), "list": [2**63, 1]},
        {"k": "tab\there", "q": 'say "hi"', "b": "back\\slash", "n": None},
        {"\U0001f600": 1, "\uffff": 2, "\ue000": [True, False], "a": {}, "": "é"},
    )
    for value in cases:
        assert canonical_bytes(value) == encode_canonical(value).encode("utf-8")
    with pytest.raises(Malformed):
        canonical_bytes({"x": "\ud800"})  # a lone surrogate has no UTF-8 form


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b"[]", "top level is not a JSON object"),
        (b'{"signed": 1, "signatures": []}', "'signed' is missing or not an object"),
        (b'{"signed": {}, "signatures": {}}', "'signatures' is missing or not a list"),
        (b'{"signed": {}, "signatures": [1]}', "signature #0 is not an object"),
        (b'{"signed": {}, "signatures": [{"keyid": 1, "sig": ""}]}', "lacks a string 'keyid'"),
        (b'{"signed": {"a": 1.5}, "signatures": []}', "number 1.5 is not an integer"),
        (b'{"signed": {"a": NaN}, "signatures": []}', "number NaN is not an integer"),
        (b"\xff\xfe", "not UTF-8"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ('{"signed": {}, "signatures": []}'.encode("utf-16"), "not UTF-8"),
        ('{"signed": {}, "signatures": []}'.encode("utf-32-le"), "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_envelope_malformed(raw: bytes, message: str) -> None:
    with pytest.raises(Malformed, match=message):
        parse_envelope(raw, name="x.json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2030-02-30T00:00:00Z", None),
        ("2030-01-02T03:04:05+00:00", None),
        ("2030-01-02 03:04:05Z", None),
        (20300102, None),
    ],
)
def test_tuf_time(text: object, expected: datetime | None) -> None:
    if expected is None:
        with pytest.raises(Malformed):
            parse_tuf_time(text, name="f")
    else:
        assert parse_tuf_time(text, name="f") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2036-11-25T17:41:12.170062728Z", datetime(2036, 11, 25, 17, 41, 12, 170062, tzinfo=UTC)),
        ("2036-11-25T12:41:12-05:00", datetime(2036, 11, 25, 17, 41, 12, tzinfo=UTC)),
        ("2036-11-25T17:41:12+00:00", datetime(2036, 11, 25, 17, 41, 12, tzinfo=UTC)),
        ("2036-11-25T17:41:12", None),
        ("2036-13-25T17:41:12Z", None),
    ],
)
def test_notary_time(text: str, expected: datetime | None) -> None:
    if expected is None:
        with pytest.raises(Malformed):
            parse_notary_time(text, name="f")
    else:
        assert parse_notary_time(text, name="f") == expected


# -- Notary keys and signatures --------------------------------------------------------

DATA = b'{"_type":"Targets","version":1}'


def _raw_rs(der: bytes, size: int) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _spki(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_doc(keytype: str, public: bytes) -> dict[str, object]:
    return {
        "keytype": keytype,
        "keyval": {"private": None, "public": base64.b64encode(public).decode()},
    }


def _cases() -> list[tuple[str, str, dict[str, object], str, bytes, bool]]:
    p256, p384 = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ed = ed25519.Ed25519PrivateKey.generate()
    pss32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    pss_max = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    ed_pub = ed.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    der256 = p256.sign(DATA, ec.ECDSA(hashes.SHA256()))
    return [
        ("ecdsa P-256 raw r||s", "ecdsa", _key_doc("ecdsa", _spki(p256.public_key())), "ecdsa",
         _raw_rs(der256, 32), True),
        ("ecdsa DER is not Notary's format", "ecdsa", _key_doc("ecdsa", _spki(p256.public_key())),
         "ecdsa", der256, False),
        ("ecdsa P-384 raw r||s over SHA-256", "ecdsa", _key_doc("ecdsa", _spki(p384.public_key())),
         "ecdsa", _raw_rs(p384.sign(DATA, ec.ECDSA(hashes.SHA256())), 48), True),
        ("rsapss salt 32", "rsa", _key_doc("rsa", _spki(rsa_key.public_key())), "rsapss",
         rsa_key.sign(DATA, pss32, hashes.SHA256()), True),
        ("rsapss other salt length", "rsa", _key_doc("rsa", _spki(rsa_key.public_key())),
         "rsapss", rsa_key.sign(DATA, pss_max, hashes.SHA256()), False),
        ("legacy pycrypto pss name", "rsa", _key_doc("rsa", _spki(rsa_key.public_key())),
         "pycrypto-pkcs#1 pss", rsa_key.sign(DATA, pss32, hashes.SHA256()), True),
        ("rsapkcs1v15", "rsa", _key_doc("rsa", _spki(rsa_key.public_key())), "rsapkcs1v15",
         rsa_key.sign(DATA, padding.PKCS1v15(), hashes.SHA256()), True),
        ("rsa under 2048 bits", "rsa", _key_doc("rsa", _spki(small.public_key())), "rsapkcs1v15",
         small.sign(DATA, padding.PKCS1v15(), hashes.SHA256()), False),
        ("eddsa", "ed25519", _key_doc("ed25519", ed_pub), "eddsa", ed.sign(DATA), True),
        ("method does not fit key", "ed25519", _key_doc("ed25519", ed_pub), "ecdsa",
         ed.sign(DATA), False),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(10))
def test_notary_signature_methods(case: int) -> None:
    name, _keytype, doc, method, sig, expected = _cases()[case]
    public = b64decode_strict(doc["keyval"]["public"])  # type: ignore[index]
    assert public is not None
    keyid = notary_keyid(doc["keytype"], public)  # type: ignore[arg-type]
    key = parse_notary_key(keyid, doc)
    assert key.keyid_matches
    assert verify_notary_signature(key, method, sig, DATA) is expected, name
    if expected:
        assert not verify_notary_signature(key, method, sig, DATA + b" "), name


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not an object"),
        ({"keytype": "ecdsa"}, "lacks a string keytype and a keyval object"),
        ({"keytype": "ecdsa", "keyval": {"public": "***"}}, "not standard base64"),
        ({"keytype": "ecdsa", "keyval": {"public": "AAAA"}}, "not DER SubjectPublicKeyInfo"),
        (
            {"keytype": "ecdsa-x509", "keyval": {"public": "AAAA"}},
            "does not hold a PEM certificate",
        ),
        ({"keytype": "ed25519", "keyval": {"public": "AAAA"}}, "not 32 bytes"),
        ({"keytype": "dsa", "keyval": {"public": "AAAA"}}, "unsupported keytype"),
    ],
)
def test_notary_key_errors(doc: object, message: str) -> None:
    with pytest.raises(NotaryKeyError, match=message):
        parse_notary_key("k", doc)


def test_b64_strict() -> None:
    assert b64decode_strict("aGk=") == b"hi"
    assert b64decode_strict("aGk") is None  # Go's StdEncoding wants padding
    assert b64decode_strict("aG k=") is None
    assert b64decode_strict(5) is None
    assert hashlib.sha256(b"").digest()  # keep hashlib import honest


# -- report ------------------------------------------------------------------------------


def _report(*findings: Finding) -> Report:
    return Report(
        format="tuf",
        anchor=Anchor(kind="none"),
        roles=(RoleResult(role="root", file="1.root.json", version=1, expires="x",
                          signatures=1, threshold=1),),
        findings=findings,
    )  # fmt: skip


def test_report_document_and_gate() -> None:
    warn = Finding("warning", "no-anchor", None, "no anchor")
    err = Finding("error", "expired", "timestamp", "timestamp.json expired")
    ok = _report(warn)
    assert ok.valid and require_valid(ok) is ok
    bad = _report(warn, err, Finding("error", "rollback", "root", "older"))
    assert not bad.valid
    assert bad.to_dict()["findings"][1] == {
        "severity": "error", "code": "expired", "role": "timestamp",
        "message": "timestamp.json expired", "file": None, "keyid": None,
        "expected": None, "found": None,
    }  # fmt: skip
    assert Report.from_dict(bad.to_dict()) == bad
    with pytest.raises(TrustFailure) as e:
        require_valid(bad)
    assert e.value.exit_code == 1
    assert str(e.value) == (
        "verification failed: expired (timestamp): timestamp.json expired; and 1 more error(s)"
    )


@pytest.mark.parametrize(("severity", "code"), [("error", "nope"), ("fatal", "expired")])
def test_finding_rejects_unknown_codes(severity: str, code: str) -> None:
    with pytest.raises(ValueError):
        Finding(severity, code, None, "m")  # type: ignore[arg-type]


def test_expiry_boundary_is_expired() -> None:
    """python-tuf: expired when reference time >= expires."""
    from tufrepo import NOW, Repo

    from trustkeep.core.verify import MetadataBundle, verify_tuf

    files = Repo.build().files()
    at = NOW + timedelta(days=7)  # timestamp expires exactly then
    report = verify_tuf(MetadataBundle(files, source="r"), at=at, trusted_root=files["1.root.json"])
    assert [(f.code, f.role) for f in report.errors] == [("expired", "timestamp")]
    before = verify_tuf(
        MetadataBundle(files, source="r"),
        at=at - timedelta(seconds=1),
        trusted_root=files["1.root.json"],
    )
    assert before.valid


def test_terminating_edges_do_not_make_the_search_cubic() -> None:
    """300 roles × 300 targets with terminating edges: each target costs a few index
    lookups, not a walk over every role (the benchmark runs 1,000 × 1,000)."""
    from tuf.api.metadata import DelegatedRole, Delegations, Metadata, TargetFile, Targets
    from tufrepo import NOW, Repo, signers

    from trustkeep.core.verify import MetadataBundle, verify_tuf

    repo = Repo.build(delegations=False, n_targets=0)
    signer = signers("many")[0]
    top = repo.targets["targets"].signed
    top.delegations = Delegations(keys={signer.public_key.keyid: signer.public_key}, roles={})
    assert top.delegations.roles is not None
    for i in range(300):
        name = f"r{i}"
        top.delegations.roles[name] = DelegatedRole(
            name, [signer.public_key.keyid], 1, i % 2 == 0, [f"r{i}/*"]
        )
        md = Metadata(Targets(expires=top.expires))
        for j in range(300):
            md.signed.targets[f"r{i}/{j}"] = TargetFile(1, {"sha256": "00" * 32}, f"r{i}/{j}")
        repo.targets[name] = md
        repo.keys[name] = [signer]
        repo.delegators[name] = "targets"
    repo.targets["r7"].signed.targets["r8/x"] = TargetFile(1, {"sha256": "00" * 32}, "r8/x")
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role, f.found) for f in report.errors] == [
        ("path-not-delegated", "r7", "r8/x")
    ]


def test_root_versions_follow_one_pattern() -> None:
    from trustkeep.core.rolenames import versioned_name, versioned_root_version

    assert versioned_root_version("2.root.json") == 2
    for name in ("02.root.json", "0.root.json", "+2.root.json", "2.root.json.bak", "٢.root.json"):
        assert versioned_root_version(name) is None, name
    assert versioned_name("12.snapshot.json") == (12, "snapshot.json")
    assert versioned_name("012.snapshot.json") is None
