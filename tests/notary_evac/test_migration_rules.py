"""Notary path prefixes → TUF patterns, with python-tuf's own matcher as the oracle."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import DelegatedRole

from trustkeep.core.migration import (
    ALL_HASH_PREFIXES,
    STATEMENT_TYPE,
    check_statement,
    glob_escape,
    map_prefixes,
    notary_hashes,
    tuf_key,
    tuf_scheme,
)


def _tuf_accepts(paths: tuple[str, ...] | None, hashes: tuple[str, ...] | None, name: str) -> bool:
    role = DelegatedRole(
        "r",
        [],
        1,
        False,
        paths=list(paths) if paths is not None else None,
        path_hash_prefixes=list(hashes) if hashes is not None else None,
    )
    return role.is_delegated_path(name)


NAMES = (
    "v1",
    "latest",
    "v1.2.3",
    "release-1",
    "releases/1.0",
    "releases/1.0/linux/amd64",
    "a/b/c/d/e/f",
    "rel*ease",
    "x[1]",
    "?",
    "",
)

CASES = {
    "everything": ([""], ()),
    "tag-prefix": (["v1"], ()),
    "directory": (["releases/"], ()),
    "mid-segment": (["releases/1"], ()),
    "glob-characters-are-literal": (["rel*", "x["], ()),
    "two-prefixes": (["v", "release"], ()),
    "deep-name-needs-more-segments": (["a/"], ("a/b/c/d/e/f",)),
}


@pytest.mark.parametrize(("prefixes", "signed"), CASES.values(), ids=CASES.keys())
def test_tuf_accepts_what_notary_accepts_within_the_mapped_depth(
    prefixes: list[str], signed: tuple[str, ...]
) -> None:
    mapping = map_prefixes("targets/r", prefixes, names=signed)
    for name in (*NAMES, *signed):
        notary = any(name.startswith(p) for p in prefixes)
        tuf = _tuf_accepts(mapping.paths, mapping.hash_prefixes, name)
        if notary and not tuf:
            # only a narrowing that the report names: a name deeper than the patterns go
            assert mapping.narrowed, (name, mapping)
            assert name not in signed
            prefix = next(p for p in prefixes if name.startswith(p))
            assert name.count("/") - prefix.count("/") > 3
        else:
            assert notary == tuf, (name, mapping)  # never wider than Notary


def test_empty_prefix_is_exact() -> None:
    mapping = map_prefixes("targets/releases", [""])
    assert (mapping.paths, mapping.hash_prefixes) == (None, ALL_HASH_PREFIXES)
    assert mapping.exact and mapping.to_dict()["narrowed"] == []


def test_a_prefix_maps_to_patterns_per_depth_and_reports_the_narrowing() -> None:
    mapping = map_prefixes("targets/rel", ["releases/"])
    assert mapping.paths == ("releases/*", "releases/*/*", "releases/*/*/*", "releases/*/*/*/*")
    assert mapping.narrowed == (
        "names starting with 'releases/' and holding more than 3 '/' after it can no longer "
        "be signed by targets/rel",
    )
    assert not mapping.exact


@pytest.mark.parametrize(
    ("text", "pattern"), [("a*b", "a[*]b"), ("q?", "q[?]"), ("x[1]", "x[[]1]"), ("plain", "plain")]
)
def test_glob_escape(text: str, pattern: str) -> None:
    assert glob_escape(text) == pattern
    assert _tuf_accepts((pattern,), None, text)


def test_notary_hashes_base64_to_hex() -> None:
    digest = hashlib.sha256(b"hello\n").digest()
    hashes, dropped = notary_hashes(
        {
            "sha256": base64.b64encode(digest).decode(),
            "md5": "AAAA",
            "sha512": "not base64!",
        }
    )
    assert hashes == {"sha256": digest.hex()}
    assert dropped == ["md5", "sha512"]


HOSTILE = {
    "not-an-object": [],
    "signed-not-an-object": {"signed": []},
    "wrong-type": {"signed": {"_type": "root"}},
    "keyid-a-list": {
        "signed": {"_type": STATEMENT_TYPE, "gun": "g"},
        "signatures": [{"keyid": ["x"], "sig": 1}, "junk"],
        "notary_signatures": [{"keyid": 5}, None],
    },
}


@pytest.mark.parametrize("doc", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_statements_are_problems_not_crashes(doc: object) -> None:
    check = check_statement(
        doc,
        notary_root=b"n",
        notary_root_keys={},
        tuf_root=b"t",
        tuf_root_keys={},
        tuf_threshold=1,
        gun="g",
    )
    assert not check.valid
    assert check.problems


KEYS = {
    "ed25519": (lambda: ed25519.Ed25519PrivateKey.generate(), "ed25519"),
    "p256": (lambda: ec.generate_private_key(ec.SECP256R1()), "ecdsa-sha2-nistp256"),
    "p384": (lambda: ec.generate_private_key(ec.SECP384R1()), "ecdsa-sha2-nistp384"),
    "p521": (lambda: ec.generate_private_key(ec.SECP521R1()), None),
    "rsa2048": (lambda: rsa.generate_private_key(65537, 2048), "rsassa-pss-sha256"),
    "rsa1024": (lambda: rsa.generate_private_key(65537, 1024), None),
}


@pytest.mark.parametrize(("make", "scheme"), KEYS.values(), ids=KEYS.keys())
def test_notary_key_types_and_their_tuf_schemes(make: Any, scheme: str | None) -> None:
    private = make()
    found, why = tuf_scheme(private.public_key())
    assert found == scheme
    if scheme is None:
        assert why  # the report says why the key is not carried
        return
    key = tuf_key(private.public_key())
    signer = CryptoSigner(private, key)
    key.verify_signature(signer.sign(b"payload"), b"payload")  # the scheme really verifies
