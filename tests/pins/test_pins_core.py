"""Pure pin rules: parsing as Docker / Notary do, precedence, root checks, blocks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from pin_certs import CODE_SIGNING, NOW, SERVER_AUTH, make_cert

from trustkeep.core.keyids import notary_canonical_id, notary_cert_id
from trustkeep.core.pinning import (
    PinDecision,
    PinEntry,
    PinSet,
    ca_anchors,
    certificate_problems,
    decide,
    docker_block,
    notary_block,
    parse_pins,
    pin_problem,
)
from trustkeep.errors import InputError

A = "a" * 64
B = "b" * 64
C = "c" * 64


# ---------------------------------------------------------------- parsing

PARSE_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    (
        "empty root-keys list",
        {"content-trust": {"trust-pinning": {"root-keys": {"r/x": []}}}},
        "root-keys['r/x'] must be a non-empty list of IDs",
    ),
    (
        "no pinning option",
        {"content-trust": {"trust-pinning": {}}},
        "sets no pinning option",
    ),
    (
        "library-images typo",
        {"content-trust": {"trust-pinning": {"library-images": True}}},
        'unknown key "trust-pinning.library-images"',
    ),
    (
        "cert-ids glob",
        {"content-trust": {"trust-pinning": {"cert-ids": {"r/*": [A]}}}},
        "cert-ids take exact repository names only",
    ),
    (
        "bad mode",
        {"content-trust": {"mode": "strict"}},
        "is not one of enforced, permissive, disabled",
    ),
    (
        "short id",
        {"content-trust": {"trust-pinning": {"root-keys": {"r/x": ["abc"]}}}},
        "'abc' is not a 64-character lowercase hex ID",
    ),
    (
        "upper-case id",
        {"trust_pinning": {"certs": {"r/x": [A.upper()]}}},
        "is not a 64-character lowercase hex ID",
    ),
    (
        "glob in the middle",
        {"content-trust": {"trust-pinning": {"root-keys": {"r/*/x": [A]}}}},
        "only a trailing * glob is supported",
    ),
    (
        "disable_tofu not bool",
        {"trust_pinning": {"disable_tofu": "yes"}},
        '"disable_tofu" must be true or false',
    ),
    ("ca not a map of paths", {"trust_pinning": {"ca": {"r/": 3}}}, '"ca" must map'),
    ("unknown notary key", {"trust_pinning": {"cert": {}}}, 'unknown key "trust_pinning.cert"'),
    ("nothing", {"log-level": "debug"}, "no pins found"),
    (
        "official not bool",
        {"content-trust": {"trust-pinning": {"official-library-images": 1}}},
        "true or false",
    ),
]


@pytest.mark.parametrize(
    ("case", "document", "message"), PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS]
)
def test_parse_errors_name_the_source(case: str, document: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_pins(document, source="/etc/docker/daemon.json")
    assert str(info.value).startswith("/etc/docker/daemon.json: ")
    assert message in str(info.value)


def test_parse_docker_and_notary() -> None:
    docker = parse_pins(
        {
            "log-level": "info",
            "content-trust": {
                "mode": "enforced",
                "trust-pinning": {
                    "root-keys": {"r.example/acme/*": [A]},
                    "cert-ids": {"r.example/acme/app": [B]},
                    "official-library-images": True,
                },
            },
        },
        source="d",
    )
    assert docker.source_format == "docker"
    assert docker.root_keys == {"r.example/acme/*": (A,)}
    assert docker.cert_ids == {"r.example/acme/app": (B,)}
    assert docker.official_library_images is True
    assert docker.mode == "enforced"
    notary = parse_pins(
        {"trust_pinning": {"certs": {"r/x": [A]}, "ca": {"r/": "/ca.pem"}, "disable_tofu": True}},
        source="n",
    )
    assert (notary.source_format, notary.cert_ids, notary.ca, notary.disable_tofu) == (
        "notary",
        {"r/x": (A,)},
        {"r/": "/ca.pem"},
        True,
    )
    # a daemon.json without content-trust / a config without trust_pinning, when told which
    assert parse_pins({"debug": True}, source="d", expect="docker") == PinSet(
        source_format="docker", source="d"
    )
    assert parse_pins({}, source="n", expect="notary").disable_tofu is False
    # trustkeep's own --json output is a pin file too
    wrapped = parse_pins(
        {"schema": 1, "block": {"trust_pinning": {"certs": {"r/x": [A]}}}}, source="f"
    )
    assert wrapped.cert_ids == {"r/x": (A,)}


# ---------------------------------------------------------------- precedence

NOTARY_PINS = PinSet(
    cert_ids={
        "r.example/acme/app": (A,),
        "r.example/acme/*": (B,),
        "r.example/*": (C,),
        "r.example/other/": (C,),  # no '*': matches only this exact (impossible) name
    },
    ca={"r.example/": "/ca-short.pem", "r.example/ca/": "/ca-long.pem"},
    disable_tofu=True,
)
DOCKER_PINS = PinSet(
    cert_ids={"r.example/acme/app": (A,)},
    root_keys={"*": (C,), "r.example/acme/*": (B,), "r.example/acme/tool": (A,)},
    source_format="docker",
)

DECISIONS = [
    # (pins, gun, mechanism, entry, ids, ca_path)
    (NOTARY_PINS, "r.example/acme/app", "cert-ids", "r.example/acme/app", (A,), None),
    (NOTARY_PINS, "r.example/acme/db", "cert-ids-wildcard", "r.example/acme/*", (B,), None),
    (NOTARY_PINS, "r.example/zzz", "cert-ids-wildcard", "r.example/*", (C,), None),
    (NOTARY_PINS, "r.example/other/x", "cert-ids-wildcard", "r.example/*", (C,), None),
    (NOTARY_PINS, "q.example/x", "none", None, (), None),
    (PinSet(ca=NOTARY_PINS.ca), "r.example/ca/x", "ca", "r.example/ca/", (), "/ca-long.pem"),
    (PinSet(ca=NOTARY_PINS.ca), "r.example/x", "ca", "r.example/", (), "/ca-short.pem"),
    (PinSet(ca=NOTARY_PINS.ca), "q.example/x", "tofu", None, (), None),
    (DOCKER_PINS, "r.example/acme/app", "cert-ids", "r.example/acme/app", (A,), None),
    (DOCKER_PINS, "r.example/acme/tool", "root-keys", "r.example/acme/tool", (A,), None),
    (DOCKER_PINS, "r.example/acme/db", "root-keys", "r.example/acme/*", (B,), None),
    (DOCKER_PINS, "q.example/x", "root-keys", "*", (C,), None),
    (
        PinSet(official_library_images=True, source_format="docker"),
        "docker.io/library/alpine",
        "root-keys",
        "official-library-images",
        (),
        None,
    ),
    (PinSet(source_format="docker"), "docker.io/library/alpine", "tofu", None, (), None),
]


@pytest.mark.parametrize(("pins", "gun", "mechanism", "entry", "ids", "ca_path"), DECISIONS)
def test_decide_precedence(
    pins: PinSet,
    gun: str,
    mechanism: str,
    entry: str | None,
    ids: tuple[str, ...],
    ca_path: str | None,
) -> None:
    decision = decide(pins, gun)
    assert (decision.mechanism, decision.entry, decision.ids, decision.ca_path) == (
        mechanism,
        entry,
        ids,
        ca_path,
    )
    assert decision.gun == gun


# ---------------------------------------------------------------- one certificate


def _root(cn: str, **kwargs: Any) -> tuple[Any, str, str]:
    cert, _key = make_cert(cn, eku=CODE_SIGNING, **kwargs)
    canonical = notary_canonical_id(cert.public_key())  # type: ignore[arg-type]
    assert canonical is not None
    return cert, notary_cert_id(cert), canonical


def _problem(decision: PinDecision, cert: Any, cid: str, canonical: str | None) -> str | None:
    return pin_problem(decision, cert_id=cid, canonical_id=canonical, leaf=cert, at=NOW)


def test_pin_problem_cert_ids_and_root_keys() -> None:
    cert, cid, canonical = _root("r/x")
    ok = PinDecision(mechanism="cert-ids", entry="r/x", ids=(cid,), gun="r/x")
    assert _problem(ok, cert, cid, canonical) is None
    wrong = PinDecision(mechanism="cert-ids", entry="r/x", ids=(A,), gun="r/x")
    assert _problem(wrong, cert, cid, canonical) == (
        f"certificate {cid[:12]} is not pinned by cert-ids entry 'r/x' ({A[:12]})"
    )
    # the canonical ID does not satisfy a certs pin (Notary compares certificate IDs only)
    canonical_pin = PinDecision(mechanism="cert-ids", entry="r/x", ids=(canonical,), gun="r/x")
    assert _problem(canonical_pin, cert, cid, canonical) is not None
    keys = PinDecision(mechanism="root-keys", entry="r/*", ids=(canonical,), gun="r/x")
    assert _problem(keys, cert, cid, canonical) is None
    keys_wrong = PinDecision(mechanism="root-keys", entry="r/*", ids=(cid,), gun="r/x")
    assert "canonical key ID" in (_problem(keys_wrong, cert, cid, canonical) or "")


def test_certificate_rules() -> None:
    cert, _cid, _canonical = _root("r/other")
    assert certificate_problems(cert, "r/x", NOW) == [
        "root certificate CN 'r/other' does not match GUN 'r/x'"
    ]
    old, _oid, _ = _root("r/x", start=NOW - timedelta(days=400))
    (problem,) = certificate_problems(old, "r/x", NOW)
    assert "is not valid at 2026-06-01" in problem
    assert certificate_problems(old, "r/x", None) == []  # trusted state: validity not checked
    wildcard_cn, _wid, _ = _root("r/*")
    assert certificate_problems(wildcard_cn, "r/x", NOW) == []
    # Notary's one day of leeway on the start of the validity period
    soon, _, _ = _root("r/x", start=NOW + timedelta(hours=20))
    later, _, _ = _root("r/x", start=NOW + timedelta(days=2))
    assert certificate_problems(soon, "r/x", NOW) == []
    assert "is not valid at" in certificate_problems(later, "r/x", NOW)[0]


def test_pin_problem_tofu_and_none() -> None:
    cert, cid, canonical = _root("r/x")
    assert _problem(PinDecision(mechanism="tofu", gun="r/x"), cert, cid, canonical) is None
    assert _problem(PinDecision(mechanism="none", gun="r/x"), cert, cid, canonical) == (
        "no pin applies and trust on first use is disabled"
    )


def test_pin_problem_ca() -> None:
    ca_cert, ca_key = make_cert("Example Root CA", ca=True, days=3650)
    other_ca, _ = make_cert("Other CA", ca=True, days=3650)
    bundle = ca_cert.public_bytes(serialization.Encoding.PEM)
    decision = PinDecision(mechanism="ca", entry="r/", ca_path="/ca.pem", gun="r/x")

    def check(leaf: Any, ca_bundle: bytes | None = bundle) -> str | None:
        anchors, void = ca_anchors("/ca.pem", ca_bundle, NOW)
        if void is not None:
            return void
        return pin_problem(
            decision,
            cert_id=notary_cert_id(leaf),
            canonical_id=None,
            leaf=leaf,
            anchors=anchors,
            at=NOW,
        )

    server_leaf, _ = make_cert("r/x", issuer=(ca_cert, ca_key), eku=SERVER_AUTH)
    no_eku_leaf, _ = make_cert("r/x", issuer=(ca_cert, ca_key))
    code_leaf, _ = make_cert("r/x", issuer=(ca_cert, ca_key), eku=CODE_SIGNING)
    self_signed, _ = make_cert("r/x")
    assert check(server_leaf) is None
    assert check(no_eku_leaf) is None
    assert "extended key usage without serverAuth" in (check(code_leaf) or "")
    assert "does not chain to the pinned CA bundle" in (check(self_signed) or "")
    assert "does not chain" in (
        check(server_leaf, other_ca.public_bytes(serialization.Encoding.PEM)) or ""
    )
    assert check(server_leaf, None) == "CA bundle /ca.pem could not be read"
    assert check(server_leaf, b"garbage") == "CA bundle /ca.pem holds no PEM certificate"
    expired_ca, _ = make_cert("Old CA", ca=True, start=NOW - timedelta(days=800), days=365)
    assert "holds no CA certificate valid" in (
        check(server_leaf, expired_ca.public_bytes(serialization.Encoding.PEM)) or ""
    )


# ---------------------------------------------------------------- blocks


def test_docker_block() -> None:
    entries = [
        PinEntry(gun="r/app", cert_ids=(B,), canonical_ids=(A,)),
        PinEntry(gun="r/*", cert_ids=(C,), canonical_ids=(A,)),
    ]
    assert docker_block(entries, official_library_images=False) == {
        "content-trust": {
            "trust-pinning": {
                "root-keys": {"r/*": [A], "r/app": [A]},
                "cert-ids": {"r/app": [B]},  # globs never go to cert-ids
                "official-library-images": False,
            },
            "mode": "enforced",
        }
    }
    assert docker_block([PinEntry(gun="r/x", canonical_ids=(A,))], mode="permissive") == {
        "content-trust": {"trust-pinning": {"root-keys": {"r/x": [A]}}, "mode": "permissive"}
    }
    with pytest.raises(InputError, match="no pins to export"):
        docker_block([PinEntry(gun="r/x")])
    with pytest.raises(InputError, match="only a trailing"):
        docker_block([PinEntry(gun="r/*/x", canonical_ids=(A,))])


def test_notary_block() -> None:
    entries = [
        PinEntry(gun="r/app", cert_ids=(B, A)),
        PinEntry(gun="r/app", cert_ids=(A,)),
        PinEntry(gun="r/*", cert_ids=(C,)),
    ]
    assert notary_block(entries, ca={"q/": "/etc/ca.pem"}) == {
        "trust_pinning": {
            "certs": {"r/*": [C], "r/app": [A, B]},
            "ca": {"q/": "/etc/ca.pem"},
            "disable_tofu": True,
        }
    }
    with pytest.raises(InputError, match="Notary pins certificates, not keys") as info:
        notary_block([PinEntry(gun="r/x", canonical_ids=(A,))])
    assert info.value.hint is not None and "trustkeep notary cert" in info.value.hint
