"""The Notary root rule in the core (validate_root), without servers.

The same rows as ``test_notary_root_rule.py`` (which proves them against the real notary
client) plus the cases no client run can show: the evidence (which keyids counted),
a void CA bundle, ``disable_tofu`` with and without a trusted root.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from notary_forge import RootKey, bare_key, certificate_key, forge_repository, utcnow
from pin_certs import make_cert

from trustkeep.core.pinning import PinDecision
from trustkeep.core.verify._envelope import parse_envelope
from trustkeep.core.verify._notarymodel import parse_root
from trustkeep.core.verify.notary_root import RootVerdict, TrustPin, validate_root

GUN = "registry.example.com/acme/app"
NOW = utcnow()


def _judge(
    keys: list[RootKey],
    signers: list[RootKey],
    pin: TrustPin | None = None,
    *,
    previous: bytes | None = None,
    threshold: int = 1,
) -> RootVerdict:
    version = 1 if previous is None else 2
    raw = forge_repository(keys, signers, threshold=threshold, version=version)["root.json"]
    env = parse_envelope(raw, name="root.json")
    prev = None
    if previous is not None:
        prev = parse_root(parse_envelope(previous, name="1.root.json").signed, where="1.root.json")
    root = parse_root(env.signed, where="root.json")
    return validate_root(env, root, gun=GUN, at=NOW, label="root.json", pin=pin, previous=prev)


def _certs(ids: tuple[str, ...], entry: str = GUN) -> TrustPin:
    return TrustPin(PinDecision(mechanism="cert-ids", entry=entry, ids=ids, gun=GUN))


def test_attacker_next_to_the_pinned_certificate_counts_for_nothing() -> None:
    pinned, attacker = certificate_key(GUN, now=NOW), certificate_key(GUN, now=NOW)
    keys = [pinned, attacker]
    for pin in (
        _certs((pinned.keyid,)),
        _certs((pinned.keyid,), "registry.example.com/*"),
        TrustPin(
            PinDecision(mechanism="root-keys", entry=GUN, ids=(pinned.canonical_id,), gun=GUN)
        ),
    ):
        forged = _judge(keys, [attacker], pin)
        assert not forged.ok
        assert forged.trusted == (pinned.keyid,) and forged.counted == ()
        assert [p.code for p in forged.problems] == ["threshold-not-met"]
        genuine = _judge(keys, [pinned], pin)
        assert genuine.ok and genuine.counted == (pinned.keyid,)
    # trust on first use: the attacker's certificate is as usable as any
    assert _judge(keys, [attacker]).ok


def test_ca_pin_counts_only_certificates_chaining_to_the_ca() -> None:
    ca, ca_key = make_cert("CA", ca=True, start=NOW - timedelta(days=1), days=3650)
    pinned = certificate_key(GUN, now=NOW, issuer=(ca, ca_key), eku=None)
    attacker = certificate_key(GUN, now=NOW)
    bundle = ca.public_bytes(serialization.Encoding.PEM)
    pin = TrustPin(
        PinDecision(mechanism="ca", entry="registry.", ca_path="/ca.pem", gun=GUN), bundle
    )
    assert _judge([pinned, attacker], [pinned], pin).ok
    forged = _judge([pinned, attacker], [attacker], pin)
    assert [p.code for p in forged.problems] == ["threshold-not-met"]
    # a CA bundle with no valid CA pins nothing: the root is refused, whoever signed
    old, _ = make_cert("CA", ca=True, start=NOW - timedelta(days=900), days=365)
    void = TrustPin(pin.decision, old.public_bytes(serialization.Encoding.PEM))
    refused = _judge([pinned, attacker], [pinned], void)
    assert [p.code for p in refused.problems] == ["pin-mismatch"]
    assert "holds no CA certificate valid" in refused.problems[0].message


@pytest.mark.parametrize(
    "bad",
    [
        certificate_key("registry.example.com/acme/other", now=NOW),
        certificate_key(GUN, now=NOW, start=timedelta(days=-400), days=365),
        certificate_key(GUN, now=NOW, start=timedelta(days=30)),
        bare_key(),
        certificate_key(GUN, now=NOW, digest=hashes.SHA1()),
    ],
    ids=["wrong-cn", "expired", "not-yet-valid", "bare-key", "sha1-signed"],
)
def test_a_bad_certificate_signature_does_not_count(bad: RootKey) -> None:
    good = certificate_key(GUN, now=NOW)
    refused = _judge([good, bad], [bad])
    assert [p.code for p in refused.problems] == ["threshold-not-met"]
    assert bad.keyid[:16] in refused.problems[0].message  # names the signature that did not count
    accepted = _judge([good, bad], [good, bad])
    assert accepted.ok and accepted.counted == (good.keyid,)
    assert len(accepted.warnings) == 1 and accepted.warnings[0].startswith(f"key {bad.keyid[:16]}")
    only_bad = _judge([bad], [bad])
    assert [p.code for p in only_bad.problems] == ["certificate-invalid"]


def test_threshold_counts_distinct_usable_certificates() -> None:
    a, b = certificate_key(GUN, now=NOW), certificate_key(GUN, now=NOW)
    assert _judge([a, b], [a, b], threshold=2).ok
    assert not _judge([a, b], [a, a], threshold=2).ok


def test_rotation_needs_the_trusted_roots_threshold_and_its_own() -> None:
    old, new = certificate_key(GUN, now=NOW), certificate_key(GUN, now=NOW)
    v1 = forge_repository([old], [old])["root.json"]
    assert _judge([new], [old, new], previous=v1).ok
    assert [p.code for p in _judge([new], [new], previous=v1).problems] == ["root-rotation-invalid"]
    assert [p.code for p in _judge([new], [old], previous=v1).problems] == ["threshold-not-met"]
    # root v1 again after v1 is no rotation
    again = forge_repository([new], [old, new])["root.json"]
    env = parse_envelope(again, name="root.json")
    v1_root = parse_root(parse_envelope(v1, name="1.root.json").signed, where="1.root.json")
    replay = validate_root(
        env, parse_root(env.signed, where="root.json"), gun=GUN, at=NOW, label="root.json",
        previous=v1_root,
    )  # fmt: skip
    assert [(p.code, p.message) for p in replay.problems] == [
        ("root-rotation-invalid", "root.json: holds root v1, expected v2")
    ]
    # the trusted root's certificate has expired since: its signature still counts
    expired = certificate_key(GUN, now=NOW, start=timedelta(days=-400), days=365)
    v1_old = forge_repository([expired], [expired])["root.json"]
    assert _judge([new], [expired, new], previous=v1_old).ok


def test_disable_tofu_refuses_a_first_root_only() -> None:
    key = certificate_key(GUN, now=NOW)
    none = TrustPin(PinDecision(mechanism="none", gun=GUN))
    refused = _judge([key], [key], none)
    assert [p.code for p in refused.problems] == ["pin-mismatch"]
    assert "trust on first use is disabled" in refused.problems[0].message
    v1 = forge_repository([key], [key])["root.json"]
    assert _judge([key], [key], none, previous=v1).ok
