"""Which bytes a signature covers: the canonical JSON of the parsed ``signed`` object.

As python-tuf's ``Metadata.signed_bytes``: never the bytes as written. A key holder
who signed non-canonical bytes (duplicate keys, whitespace, unsorted keys) gets
no valid signature, in trustkeep as in python-tuf.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tufrepo import NOW, Repo, mutate_bytes

from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._envelope import (
    Envelope,
    Malformed,
    canonical_bytes,
    parse_envelope,
)

FUZZ = settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def compact(raw: bytes) -> bytes:
    """The same metadata written as canonical JSON (what Notary and compact writers store)."""
    doc = json.loads(raw)
    return canonical_bytes(doc)


def _key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _signed_file(signed: dict[str, Any], *, writer: Callable[[Any], str] | None = None) -> bytes:
    """A file whose one signature is over the canonical bytes of ``signed``."""
    sig = _key().sign(canonical_bytes(signed)).hex()
    doc = {"signatures": [{"keyid": "k", "sig": sig}], "signed": signed}
    text = writer(doc) if writer else canonical_bytes(doc).decode()
    return text.encode()


def _check(sig_hex: str, data: bytes) -> bool:
    try:
        _key().public_key().verify(bytes.fromhex(sig_hex), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def _verdict(env: Envelope) -> bool:
    return env.verify_with(partial(_check, env.signatures[0].sig))


def _reference_verdict(raw: bytes) -> bool | None:
    """The reference rule: verify over canonical(json.loads(raw)["signed"]); None if unparsable."""
    try:
        doc = json.loads(raw)
        data = canonical_bytes(doc["signed"])
        return _check(doc["signatures"][0]["sig"], data)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError, Malformed):
        return None


SIGNED = {
    "_type": "targets",
    "expires": "2031-01-01T00:00:00Z",
    "spec_version": "1.0.31",
    "targets": {"a b/c.txt": {"hashes": {"sha256": "ab" * 32}, "length": 3}},
    "version": 1,
}


# verdicts on single files ------------------------------------------------------------
def test_canonical_file_verifies() -> None:
    env = parse_envelope(_signed_file(SIGNED), name="t.json")
    assert _verdict(env)
    assert env.signed_bytes == canonical_bytes(SIGNED)


def _signed_as_written(text: str) -> bytes:
    """A file whose signature is over the ``signed`` text exactly as written (not canonical)."""
    sig = _key().sign(text.encode()).hex()
    return f'{{"signatures":[{{"keyid":"k","sig":"{sig}"}}],"signed":{text}}}'.encode()


AS_WRITTEN = {
    "duplicate expires, current one last": canonical_bytes(SIGNED)
    .decode()
    .replace('"expires":', '"expires":"2000-01-01T00:00:00Z","expires":', 1),
    "duplicate version": canonical_bytes(SIGNED)
    .decode()
    .replace('"version":1', '"version":1,"version":1'),
    "pretty": json.dumps(SIGNED, indent=1, sort_keys=True),
    "unsorted": json.dumps(dict(reversed(SIGNED.items())), separators=(",", ":")),
}


@pytest.mark.parametrize("text", AS_WRITTEN.values(), ids=AS_WRITTEN.keys())
def test_a_signature_over_non_canonical_bytes_as_written_does_not_count(text: str) -> None:
    """The issue-8 case among them: refused by python-tuf (0/1 keys), refused here."""
    from securesystemslib.signer import SSlibKey
    from tuf.api.metadata import Metadata

    raw = _signed_as_written(text)
    env = parse_envelope(raw, name="t.json")
    assert _verdict(env) is False
    assert _reference_verdict(raw) is False
    md = Metadata.from_bytes(raw)  # python-tuf: the signature is over md.signed_bytes
    key = SSlibKey.from_crypto(_key().public_key(), keyid="k")
    with pytest.raises(Exception, match="Failed to verify signature"):
        key.verify_signature(md.signatures["k"], md.signed_bytes)


WRITERS: dict[str, Callable[[Any], str]] = {
    "python-tuf pretty": partial(json.dumps, indent=1, sort_keys=True),
    "default separators": partial(json.dumps, sort_keys=True),
    "unsorted keys": lambda d: json.dumps(
        {"signed": dict(sorted(d["signed"].items(), reverse=True)), "signatures": d["signatures"]},
        separators=(",", ":"),
    ),
    "ASCII escapes": lambda d: json.dumps(
        {**d, "signed": {**d["signed"], "note": "caf\u00e9"}}, separators=(",", ":")
    ),
}


@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_other_layouts_take_the_reference_path_with_the_same_verdict(
    writer: Callable[[Any], str],
) -> None:
    signed = json.loads(writer({"signatures": [], "signed": SIGNED}))["signed"]
    raw = _signed_file(signed, writer=writer)
    env = parse_envelope(raw, name="t.json")
    assert _verdict(env) is True
    assert _reference_verdict(raw) is True


def test_duplicate_keys_inside_signed_keep_the_reference_verdict() -> None:
    """json.loads keeps the last duplicate; the verdict is decided over its canonical form."""
    good = _signed_file(SIGNED)
    # a stale duplicate before the real one: parses to SIGNED, whose canonical form is signed
    before = good.replace(b'"version":1}', b'"version":9,"version":1}', 1)
    # a duplicate after it: parses to version 9, whose canonical form nobody signed
    after = good.replace(b'"version":1}', b'"version":1,"version":9}', 1)
    for raw, expected in ((before, True), (after, False)):
        env = parse_envelope(raw, name="t.json")
        assert env.signed["version"] == (1 if expected else 9)
        assert _verdict(env) is expected
        assert _reference_verdict(raw) is expected


def test_lone_surrogate_is_still_malformed() -> None:
    raw = _signed_file(SIGNED).replace(b"a b/c.txt", b"a b/\\ud800.txt")
    with pytest.raises(Malformed, match=r"t\.json: 'signed' cannot be written as canonical JSON"):
        parse_envelope(raw, name="t.json")


@cache
def _canonical_file() -> bytes:
    return _signed_file(SIGNED)


@FUZZ
@given(data=st.data())
def test_mutated_bytes_never_verify_and_verdicts_match_the_reference(
    data: st.DataObject,
) -> None:
    raw = bytearray(_canonical_file())
    start = raw.index(b'"signed":') + len(b'"signed":')
    pos = data.draw(st.integers(start, len(raw) - 2))  # a byte inside the signed span
    action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    byte = data.draw(st.integers(0, 255))
    if action == "replace":
        if raw[pos] == byte:
            return
        raw[pos] = byte
    elif action == "delete":
        del raw[pos]
    else:
        raw.insert(pos, byte)
    mutated = bytes(raw)
    reference = _reference_verdict(mutated)
    try:
        env = parse_envelope(mutated, name="t.json")
    except Malformed:
        assert reference in (None, False)
        return
    assert _verdict(env) is bool(reference)


# whole repositories --------------------------------------------------------------------
@cache
def _repo_files() -> dict[str, bytes]:
    return Repo.build(root_versions=2, succinct_bits=2, n_targets=20).files()


def _summary(files: dict[str, bytes]) -> tuple[Any, ...]:
    report = verify_tuf(
        MetadataBundle(files, source="repo"), at=NOW, trusted_root=files["1.root.json"]
    )
    return (
        report.valid,
        [(r.role, r.version, r.signatures, r.threshold, r.valid) for r in report.roles],
        [(f.severity, f.code, f.role) for f in report.findings],
    )


def test_compact_repository_verifies() -> None:
    files = {name: compact(raw) for name, raw in _repo_files().items()}
    assert _summary(files)[0] is True


def test_pretty_and_compact_repositories_get_the_same_report() -> None:
    pretty = _repo_files()
    assert _summary(pretty) == _summary({n: compact(r) for n, r in pretty.items()})


@pytest.mark.parametrize("role", ["timestamp.json", "1.targets.json", "2.root.json"])
def test_compact_file_with_a_flipped_signed_byte_fails_as_before(role: str) -> None:
    files = {name: compact(raw) for name, raw in _repo_files().items()}
    raw = files[role]
    at = raw.index(b'"version":') + len(b'"version":')
    files[role] = raw[:at] + b"7" + raw[at + 1 :]
    valid, _roles, findings = _summary(files)
    assert not valid
    pretty_files = dict(_repo_files())
    pretty_files[role] = json.dumps(json.loads(files[role]), indent=1).encode()
    assert _summary(pretty_files)[2] == findings


@cache
def _compact_files() -> dict[str, bytes]:
    """Every file reachable (a delegated role, no bins): any signed change must show."""
    return {name: compact(raw) for name, raw in Repo.build(root_versions=2).files().items()}


def _signed_of(raw: bytes) -> Any:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return doc.get("signed") if isinstance(doc, dict) else None


@FUZZ
@given(data=st.data())
def test_compact_repository_byte_mutations_never_verify(data: st.DataObject) -> None:
    """A mutated signed value in a compact file is never valid."""
    files = dict(_compact_files())
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = mutate_bytes(data, files[name])
    valid = _summary(files)[0]
    if _signed_of(files[name]) != _signed_of(_compact_files()[name]):
        assert not valid, f"{name} mutated (see the draws above) still valid"


# the real notary client's metadata ----------------------------------------------------
@pytest.mark.interop
def test_real_notary_metadata_verifies_and_pretty_copies_agree(notary_repo: Any) -> None:
    """Notary stores the canonical bytes it signed; pretty copies carry the same signatures."""
    from datetime import UTC, datetime

    from trustkeep.adapters.metadata_source import read_metadata
    from trustkeep.core.verify.notary import verify_notary

    bundle = read_metadata(notary_repo.metadata, gun=notary_repo.gun)
    now = datetime.now(UTC)
    report = verify_notary(bundle, at=now, gun=notary_repo.gun)
    assert report.valid, report.findings

    pretty = {
        name: json.dumps(json.loads(raw), indent=2).encode() for name, raw in bundle.files.items()
    }
    # snapshot and timestamp record hashes of the files as written: compare signatures only
    again = verify_notary(MetadataBundle(pretty, source="pretty", gun=notary_repo.gun), at=now)
    assert [(r.role, r.signatures, r.threshold) for r in again.roles] == [
        (r.role, r.signatures, r.threshold) for r in report.roles
    ]


@settings(max_examples=150, deadline=2000, derandomize=True)
@given(
    spelling=st.sampled_from(["as-is", "upper", "spaced", "truncated", "extended", "flipped"])
    | st.text(max_size=140),
    data=st.binary(max_size=64),
)
def test_ed25519_verdicts_equal_securesystemslib(spelling: str, data: bytes) -> None:
    """An ed25519 key is loaded once and its signatures checked by the same
    pyca/cryptography call securesystemslib makes: every spelling of a signature gets
    the library's own verdict."""
    from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
    from securesystemslib.signer import CryptoSigner, Signature

    from trustkeep.core.verify._tufkeys import KeyCache

    signer = CryptoSigner(_key())
    key = signer.public_key
    good = signer.sign(data).signature
    sig = {
        "as-is": good,
        "upper": good.upper(),
        "spaced": f"{good[:8]} {good[8:]}",
        "truncated": good[:-2],
        "extended": good + "00",
        "flipped": ("1" if good[0] == "0" else "0") + good[1:],
    }.get(spelling, spelling)
    ours = KeyCache().key(key.keyid, key.to_dict(), where="test")
    assert ours.ed25519 is not None  # the direct path is the one under test
    try:
        key.verify_signature(Signature(key.keyid, sig), data)
        reference = True
    except (UnverifiedSignatureError, VerificationError):
        reference = False
    assert ours.check(sig, data) is reference
