"""The fast parse path (msgspec + orjson) answers exactly what the reference path answers.

``parse_envelope(raw, fast=True)`` is used on large repositories; it must give the
same envelope (signed object, signatures, canonical bytes) or the same ``Malformed``
message as ``json`` + ``canonical_bytes`` for any input: floats anywhere, integers of
any size, duplicate keys, escapes, byte order marks, deep nesting, broken bytes.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tufrepo import NOW, Repo, mutate_bytes

import trustkeep.core.verify.tuf as tuf_module
from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._envelope import Envelope, Malformed, fast_decoder, parse_envelope

CASES = settings(
    max_examples=300,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def _outcome(raw: bytes, *, fast: bool) -> tuple[str, Any]:
    try:
        env = parse_envelope(raw, name="f.json", fast=fast_decoder() if fast else None)
    except Malformed as e:
        return "malformed", str(e)
    return "ok", _shape(env)


def _shape(env: Envelope) -> Any:
    """Everything of an envelope, key order included (reports list targets in it)."""
    try:
        signed_bytes: bytes | str = env.signed_bytes
    except Malformed as e:
        signed_bytes = str(e)
    ordered = json.dumps(env.signed, ensure_ascii=True)  # order-preserving, types exact
    return env.name, env.raw, ordered, env.signatures, signed_bytes


def _same(raw: bytes) -> None:
    assert _outcome(raw, fast=True) == _outcome(raw, fast=False), raw[:200]


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=16,
)


@CASES
@given(signed=st.dictionaries(st.text(max_size=6), _values, max_size=5), extra=_values,
       indent=st.sampled_from([None, 1, 2, "\t"]))  # fmt: skip
def test_documents_parse_alike(signed: dict[str, Any], extra: Any, indent: Any) -> None:
    doc = {"signed": signed, "signatures": [{"keyid": "ab", "sig": "cd"}], "x": extra}
    _same(json.dumps(doc, indent=indent, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    _same(json.dumps(doc, indent=indent).encode())


@cache
def _bin_file() -> bytes:
    files = Repo.build(delegations=False, succinct_bits=2, n_targets=12).files()
    return next(v for k, v in sorted(files.items()) if ".bin-" in k)


@CASES
@given(data=st.data())
def test_byte_mutations_parse_alike(data: st.DataObject) -> None:
    raw = _bin_file()
    for _ in range(data.draw(st.integers(1, 3))):
        raw = mutate_bytes(data, raw)
    _same(raw)


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize(
    "text",
    [
        '{"signed": {"a": 1, "a": 2, "b": 3}, "signatures": []}',  # duplicate keys: last wins
        '{"signed": {"a": 1.0}, "signatures": []}',
        '{"signed": {"a": 1e5}, "signatures": []}',
        '{"signed": {"a": 1}, "signatures": [{"keyid": "k", "sig": "s", "x": -0.0}]}',
        '{"signed": {"a": 1}, "signatures": [], "x": 1E400}',
        '{"signed": {"a": 18446744073709551616}, "signatures": []}',
        '{"signed": {"a": -9223372036854775809}, "signatures": []}',
        '{"signed": {"a": NaN}, "signatures": []}',
        '{"signed": {"a": "\\ud800"}, "signatures": []}',
        '{"signed": {"a": "\\ud83d\\ude00 \\u00e9 \\" \\\\ \\n"}, "signatures": []}',
        '{"signed": {"a": null, "b": [true, false]}, "signatures": []}',
        '\ufeff{"signed": {}, "signatures": []}',
        '{"signed": {}, "signatures": []} x',
        f'{{"signed": {{"a": {_nested(254)}}}, "signatures": []}}',
        f'{{"signed": {{"a": {_nested(300)}}}, "signatures": []}}',
        f'{{"signed": {{"a": 1}}, "signatures": [], "x": {_nested(990)}}}',
        f'{{"signed": {{"a": {_nested(990)}}}, "signatures": []}}',
        f'{{"signed": {{"a": 1}}, "signatures": [], "x": {_nested(5000)}}}',
        '[{"signed": {}, "signatures": []}]',
        '{"signed": [], "signatures": []}',
        '{"signed": {}, "signatures": [{"keyid": 1, "sig": "s"}]}',
    ],
)
def test_edge_cases_parse_alike(text: str) -> None:
    _same(text.encode("utf-8", "surrogatepass"))


@cache
def _repo_files() -> dict[str, bytes]:
    return Repo.build(delegations=True, succinct_bits=3, n_targets=20).files()


@settings(
    max_examples=60,
    deadline=4000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fast_parse_gives_the_same_report(data: st.DataObject, monkeypatch: Any) -> None:
    """A whole verification with and without the fast path: the same report."""
    files = dict(_repo_files())
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = mutate_bytes(data, files[name])
    bundle = MetadataBundle(files, source="fast")
    reports = []
    for threshold in (1 << 60, 0):
        monkeypatch.setattr(tuf_module, "FAST_PARSE_BYTES", threshold)
        reports.append(verify_tuf(bundle, at=NOW).to_dict())
    assert reports[0] == reports[1]


@pytest.mark.parametrize("where", ["signed", "outside"])
def test_nesting_near_the_recursion_limit_parses_alike(where: str) -> None:
    """json and msgspec give up at slightly different depths: every depth around where
    they do (which depends on the call stack) gets the reference answer."""
    for depth in range(850, 1010, 3):
        deep = _nested(depth)
        if where == "signed":
            _same(f'{{"signed": {{"a": {deep}}}, "signatures": []}}'.encode())
        else:
            _same(f'{{"signed": {{"a": 1}}, "signatures": [], "x": {deep}}}'.encode())


_meta_values = st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=3)
_meta_entries = st.dictionaries(
    st.sampled_from(["version", "length", "hashes", "x"]),
    _meta_values
    | st.dictionaries(st.text(max_size=3), _meta_values, max_size=2)
    | st.lists(_meta_values, max_size=2),
    max_size=4,
)


@CASES
@given(meta=st.dictionaries(st.text(max_size=4), _meta_entries | _meta_values, max_size=5))
def test_snapshot_meta_fast_check_equals_the_per_entry_check(meta: dict[str, Any]) -> None:
    """The C-level pass over a snapshot's entries accepts exactly what the per-entry
    check accepts, with the same values (else it defers to it)."""
    from trustkeep.core.verify._tufmodel import _meta_file, _meta_files

    fast = _meta_files(meta)
    try:
        reference = {n: _meta_file(doc, where="s", name=n) for n, doc in meta.items()}
    except Malformed:
        assert fast is None
        return
    assert fast is None or fast == reference


def test_usual_snapshots_take_the_fast_check() -> None:
    from trustkeep.core.verify._tufmodel import MetaFile, _meta_files

    plain = {"a.json": {"version": 1}, "b.json": {"version": 7}}
    assert _meta_files(plain) == {
        "a.json": MetaFile(1, None, None),
        "b.json": MetaFile(7, None, None),
    }
    full = {"a.json": {"version": 1, "length": 3, "hashes": {"sha256": "ab"}}}
    assert _meta_files(full) == {"a.json": MetaFile(1, 3, {"sha256": "ab"})}
    assert _meta_files({"a.json": {"version": True}}) is None
    assert _meta_files({"a.json": {"version": 1, "length": -1}}) is None
    assert _meta_files({"a.json": {"version": 1, "hashes": {}}}) is None


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("2031-01-01T00:00:00Z", "2031-01-01 00:00:00+00:00"),
        ("2030-02-30T00:00:00Z", "f.json: 'expires' '2030-02-30T00:00:00Z' is not a valid date"),
        ("2031-01-01T00:00:00+00:00", "is not YYYY-MM-DDTHH:MM:SSZ"),
        ("2031-01-01 00:00:00Z", "is not YYYY-MM-DDTHH:MM:SSZ"),
        (20310101, "f.json: 'expires' '20310101' is not YYYY-MM-DDTHH:MM:SSZ"),
        (None, "is not YYYY-MM-DDTHH:MM:SSZ"),
    ],
)
def test_expiry_times_parse_alike_every_time(value: Any, outcome: str) -> None:
    """Expiry texts: the answer, errors included, and the same answer every time."""
    from trustkeep.core.verify._envelope import parse_tuf_time

    answers = []
    for _ in range(2):
        try:
            answers.append(str(parse_tuf_time(value, name="f.json")))
        except Malformed as e:
            answers.append(str(e))
    assert answers[0] == answers[1]
    assert outcome in answers[0]


def test_a_runs_expiry_times_are_parsed_once_and_bad_ones_still_refused() -> None:
    from trustkeep.core.verify._tufkeys import KeyCache
    from trustkeep.core.verify._tufmodel import parse_header

    cache = KeyCache()
    signed = {"_type": "targets", "spec_version": "1.0", "version": 1}
    first = parse_header({**signed, "expires": "2031-01-01T00:00:00Z"}, "targets", where="a",
                         times=cache.times)  # fmt: skip
    again = parse_header({**signed, "expires": "2031-01-01T00:00:00Z"}, "targets", where="b",
                         times=cache.times)  # fmt: skip
    assert again.expires is first.expires and list(cache.times) == ["2031-01-01T00:00:00Z"]
    for bad in ("2030-02-30T00:00:00Z", "2031-01-01", 7, None):
        with pytest.raises(Malformed, match="c: 'expires'"):
            parse_header({**signed, "expires": bad}, "targets", where="c", times=cache.times)
    assert list(cache.times) == ["2031-01-01T00:00:00Z"]
