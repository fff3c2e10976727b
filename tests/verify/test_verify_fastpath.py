"""The verifier's fast path: signatures checked over the ``signed`` bytes as written.

Invariant under test: the fast path never changes a verdict. For every input, the
signature verdict equals the reference one (canonicalise the parsed ``signed``
object, verify over that), and python-tuf agrees where it has a say.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
    STATS,
    Envelope,
    Malformed,
    canonical_bytes,
    parse_envelope,
)
from trustkeep.core.verify._signedspan import candidate_bytes, scanner_of, split_envelope

FUZZ = settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
SCAN = scanner_of(json.JSONDecoder())


@pytest.fixture(autouse=True)
def _fresh_stats() -> Iterator[None]:
    STATS.reset()
    yield
    STATS.reset()


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


def _fast_verdict(env: Envelope) -> bool:
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


# split_envelope: exactly json.loads, plus the span of "signed" ------------------------
SPLIT_CASES = {
    "compact": b'{"signatures":[],"signed":{"a":1}}',
    "pretty": b'{\n "signatures": [],\n "signed": {\n  "a": 1\n }\n}\n',
    "signed first": b'{"signed":{"a":[1,2]},"signatures":[]}',
    "spaces everywhere": b' \t\r\n{ "signed" : { "a" : "x" } , "signatures" : [ ] } \n',
    "duplicate signed, last wins": b'{"signed":{"a":1},"signatures":[],"signed":{"a":2}}',
    "non-ASCII": '{"signatures":[],"signed":{"p":"caf\u00e9 \u2603"}}'.encode(),
    "escapes": b'{"signatures":[],"signed":{"p":"a\\"b\\\\c\\u00e9"}}',
    "no signed": b'{"signatures":[]}',
    "empty object": b"{}",
}


@pytest.mark.parametrize("raw", SPLIT_CASES.values(), ids=SPLIT_CASES.keys())
def test_split_envelope_parses_like_json_loads(raw: bytes) -> None:
    found = split_envelope(raw, SCAN)
    assert found is not None
    doc, span = found
    assert doc == json.loads(raw)
    if "signed" in doc:
        assert span is not None and json.loads(span) == doc["signed"]
        assert span in raw
    else:
        assert span is None


REFUSED = {
    "BOM": b'\xef\xbb\xbf{"signed":{}}',
    "UTF-16": '{"signed":{}}'.encode("utf-16-le"),
    "invalid UTF-8": b'{"signed":{"a":"\xff"}}',
    "trailing data": b'{"signed":{}} x',
    "trailing comma": b'{"signed":{},}',
    "top-level list": b'[{"signed":{}}]',
    "truncated": b'{"signed":{"a":',
    "control character in string": b'{"signed":{"a":"x\ny"}}',
    "empty": b"",
}


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_split_envelope_leaves_unusual_documents_to_json_loads(raw: bytes) -> None:
    assert split_envelope(raw, SCAN) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@FUZZ
@given(
    signed=st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    extra=st.dictionaries(st.text(max_size=6), json_values, max_size=3),
    indent=st.sampled_from([None, 0, 1, 2, "\t"]),
    sort=st.booleans(),
    ascii_only=st.booleans(),
)
def test_split_envelope_matches_json_loads_on_any_layout(
    signed: dict[str, Any], extra: dict[str, Any], indent: Any, sort: bool, ascii_only: bool
) -> None:
    doc = {**extra, "signed": signed}
    raw = json.dumps(doc, indent=indent, sort_keys=sort, ensure_ascii=ascii_only).encode()
    found = split_envelope(raw, SCAN)
    assert found is not None
    parsed, span = found
    assert parsed == json.loads(raw)
    assert span is not None and json.loads(span) == signed


# candidate bytes -------------------------------------------------------------------
CANDIDATES = [
    (b'{"a":"b"}', b'{"a":"b"}'),
    (b'{"a":"x\\\\y"}', b'{"a":"x\\\\y"}'),  # an escaped backslash is canonical
    (b'{"a":"x\\"y"}', b'{"a":"x\\"y"}'),
    (b'{"a": "b"}', b'{"a": "b"}'),  # not canonical: it will simply fail to verify
    (b'{\n "a": "b"\n}', None),  # pretty-printed: canonicalise instead
    (b'{"a":"\\u00e9"}', None),  # \u escape: canonical JSON has none
    (b'{"a":"\\ud800"}', None),  # lone surrogate: must stay a malformed finding
]


@pytest.mark.parametrize(("raw", "expected"), CANDIDATES)
def test_candidate_bytes(raw: bytes, expected: bytes | None) -> None:
    assert candidate_bytes(raw) == expected


# verdicts on single files ------------------------------------------------------------
def test_canonical_file_takes_the_fast_path() -> None:
    env = parse_envelope(_signed_file(SIGNED), name="t.json")
    assert _fast_verdict(env)
    assert (STATS.as_written, STATS.canonicalised) == (1, 0)


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
    assert _fast_verdict(env) is True
    assert _reference_verdict(raw) is True
    assert STATS.as_written == 0 and STATS.canonicalised == 1


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
        assert _fast_verdict(env) is expected
        assert _reference_verdict(raw) is expected
    assert STATS.as_written == 0  # neither duplicate-key span is what the key signed


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
    assert _fast_verdict(env) is bool(reference)
    assert STATS.as_written == 0  # the bytes as written never verify once changed


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


def test_compact_repository_verifies_over_the_bytes_as_written() -> None:
    files = {name: compact(raw) for name, raw in _repo_files().items()}
    assert _summary(files)[0] is True
    assert STATS.as_written > 0
    assert STATS.canonicalised == 0


def test_pretty_and_compact_repositories_get_the_same_report() -> None:
    pretty = _repo_files()
    assert _summary(pretty) == _summary({n: compact(r) for n, r in pretty.items()})
    assert STATS.canonicalised > 0  # the pretty files went through the reference path


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
    """The fast path's own fuzz: a mutated signed value in a compact file is never valid."""
    files = dict(_compact_files())
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = mutate_bytes(data, files[name])
    valid = _summary(files)[0]
    if _signed_of(files[name]) != _signed_of(_compact_files()[name]):
        assert not valid, f"{name} mutated (see the draws above) still valid"


# the real notary client's metadata ----------------------------------------------------
@pytest.mark.interop
def test_real_notary_metadata_verifies_over_the_bytes_as_written(notary_repo: Any) -> None:
    """Notary stores the canonical bytes it signed: no re-encoding; pretty copies agree."""
    from datetime import UTC, datetime

    from trustkeep.adapters.metadata_source import read_metadata
    from trustkeep.core.verify.notary import verify_notary

    bundle = read_metadata(notary_repo.metadata, gun=notary_repo.gun)
    now = datetime.now(UTC)
    STATS.reset()
    report = verify_notary(bundle, at=now, gun=notary_repo.gun)
    assert report.valid, report.findings
    assert STATS.as_written >= len(report.roles)
    assert STATS.canonicalised == 0

    pretty = {
        name: json.dumps(json.loads(raw), indent=2).encode() for name, raw in bundle.files.items()
    }
    # snapshot and timestamp record hashes of the files as written: compare signatures only
    STATS.reset()
    again = verify_notary(MetadataBundle(pretty, source="pretty", gun=notary_repo.gun), at=now)
    assert STATS.as_written == 0 and STATS.canonicalised > 0
    assert [(r.role, r.signatures, r.threshold) for r in again.roles] == [
        (r.role, r.signatures, r.threshold) for r in report.roles
    ]
