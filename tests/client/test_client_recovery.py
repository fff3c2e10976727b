"""Fast-forward recovery, expiry of each role, key types and unknown fields.

Same repository state for trustkeep and python-tuf's ``Updater`` (``both``).
"""

from __future__ import annotations

import pytest
from client_support import Clients
from securesystemslib.signer import CryptoSigner
from simulator import Repository, days


def test_timestamp_fast_forward_recovery(clients: Clients, repo: Repository) -> None:
    for _ in range(5):
        repo.publish_timestamp()
    assert clients.both().versions["timestamp.json"] == 6
    repo.rotate_keys("timestamp")
    repo.bump_root()
    repo.md["timestamp"].signed.version = 1
    repo.publish("timestamp")
    out = clients.both()
    assert out.ok and out.versions["timestamp.json"] == 1


def test_snapshot_fast_forward_recovery(clients: Clients, repo: Repository) -> None:
    repo.md["snapshot"].signed.version = 99
    repo.publish_snapshot()
    repo.publish_timestamp()
    assert clients.both().versions["snapshot.json"] == 99
    repo.rotate_keys("snapshot")
    repo.rotate_keys("timestamp")
    repo.bump_root()
    repo.md["snapshot"].signed.version = 1
    repo.publish_snapshot()
    repo.publish_timestamp()
    out = clients.both()
    assert out.ok and out.versions["snapshot.json"] == 1


def test_targets_fast_forward_recovery(clients: Clients, repo: Repository) -> None:
    repo.md["targets"].signed.version = 50
    repo.publish("targets")
    repo.update_snapshot()
    assert clients.both().versions["targets.json"] == 50
    repo.rotate_keys("snapshot")
    repo.bump_root()
    repo.md["targets"].signed.version = 1
    repo.publish("targets")
    repo.update_snapshot()
    out = clients.both()
    assert out.ok and out.versions["targets.json"] == 1


def test_without_key_rotation_a_rollback_is_refused(clients: Clients, repo: Repository) -> None:
    repo.md["targets"].signed.version = 50
    repo.publish("targets")
    repo.update_snapshot()
    assert clients.both().ok
    repo.md["targets"].signed.version = 1
    repo.publish("targets")
    repo.update_snapshot()
    out = clients.both()
    assert not out.ok and out.versions["targets.json"] == 50


@pytest.mark.parametrize("role", ["timestamp", "snapshot", "targets"])
def test_expired_new_file_is_not_stored(clients: Clients, repo: Repository, role: str) -> None:
    assert clients.both().ok
    repo.md[role].signed.expires = days(-1)
    if role == "targets":
        repo.update_targets()
    elif role == "snapshot":
        repo.update_snapshot()
    else:
        repo.publish_timestamp()
    out = clients.both()
    assert not out.ok
    assert out.versions[f"{role}.json"] == 1


@pytest.mark.parametrize("role", ["timestamp", "snapshot", "targets"])
def test_threshold_of_each_role(clients: Clients, repo: Repository, role: str) -> None:
    assert clients.both().ok
    for _ in range(4):
        repo.add_key(role)
    repo.root.roles[role].threshold = 5
    repo.bump_root()
    repo.signers[role] = repo.signers[role][:4]  # one short
    repo.update_targets()
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 2
    repo.signers[role] = [*repo.signers[role], repo.add_key(role)]
    repo.root.roles[role].threshold = 5
    repo.bump_root()
    repo.update_targets()
    out = clients.both()
    assert out.ok


def test_key_types_rsa_ecdsa_ed25519(clients: Clients, repo: Repository) -> None:
    makers = {
        "root": CryptoSigner.generate_rsa,
        "timestamp": CryptoSigner.generate_ecdsa,
        "snapshot": CryptoSigner.generate_rsa,
        "targets": CryptoSigner.generate_ecdsa,
    }
    old = list(repo.signers["root"])
    for role, make in makers.items():
        for keyid in list(repo.root.roles[role].keyids):
            repo.root.revoke_key(keyid, role)
        signer = make()
        repo.signers[role] = [signer]
        repo.root.add_key(signer.public_key, role)
    repo.bump_root(old=old)
    repo.update_targets()
    out = clients.both()
    assert out.ok
    schemes = {k.scheme for k in repo.root.keys.values()}
    assert schemes == {"rsassa-pss-sha256", "ecdsa-sha2-nistp256"}


def test_unknown_fields_are_signed_and_kept(clients: Clients, repo: Repository) -> None:
    repo.root.unrecognized_fields["custom"] = {"x": [1, "é"]}
    keyid = repo.root.roles["root"].keyids[0]
    repo.root.keys[keyid].unrecognized_fields["extra"] = "value"
    repo.root.roles["root"].unrecognized_fields["another"] = 1
    repo.bump_root()
    repo.md["targets"].signed.unrecognized_fields["note"] = "keep me"
    repo.update_targets()
    out = clients.both()
    assert out.ok and out.versions["root.json"] == 2


@pytest.mark.parametrize("spec", ["1.0", "1.0.0", "1.0.31", "1.1.0"])
def test_spec_version_1_x_is_accepted(clients: Clients, repo: Repository, spec: str) -> None:
    repo.root.spec_version = spec
    repo.bump_root()
    assert clients.both().ok


def test_spec_version_2_is_refused(clients: Clients, repo: Repository) -> None:
    signed = repo.root.to_dict()
    signed["version"] = 2
    signed["spec_version"] = "2.0.0"
    from simulator import sign_document

    repo.published["root"][2] = sign_document(signed, repo.signers["root"])
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1


def test_keyids_are_not_recomputed(clients: Clients, repo: Repository) -> None:
    """A keyid that is not the key's hash still names the key (TUF 1.0, python-tuf)."""
    signer = CryptoSigner.generate_ed25519()
    signed = repo.root.to_dict()
    signed["version"] = 2
    odd = "0123" * 16
    signed["keys"][odd] = signer.public_key.to_dict()
    signed["roles"]["timestamp"]["keyids"] = [odd]
    import json

    from securesystemslib.formats import encode_canonical

    payload = encode_canonical(signed).encode()
    sigs = [
        {"keyid": s.public_key.keyid, "sig": s.sign(payload).signature}
        for s in repo.signers["root"]
    ]
    repo.published["root"][2] = json.dumps({"signed": signed, "signatures": sigs}).encode()
    assert clients.both().ok is False  # timestamp is still signed by the old key
    ts = repo.md["timestamp"]
    ts.signed.version += 1
    ts.signatures.clear()
    sig = signer.sign(ts.signed_bytes)
    repo.published["timestamp"][ts.signed.version] = json.dumps(
        {"signed": ts.signed.to_dict(), "signatures": [{"keyid": odd, "sig": sig.signature}]}
    ).encode()
    out = clients.both()
    assert out.ok and out.versions["timestamp.json"] == 2


def test_signature_over_non_canonical_bytes_does_not_count(
    clients: Clients, repo: Repository
) -> None:
    """Signatures cover the canonical JSON of ``signed``, not the bytes as written."""
    import json

    signed = repo.root.to_dict()
    signed["version"] = 2
    as_written = json.dumps(signed, indent=1).encode()  # not canonical
    sigs = [
        {"keyid": s.public_key.keyid, "sig": s.sign(as_written).signature}
        for s in repo.signers["root"]
    ]
    repo.published["root"][2] = (
        b'{"signed": ' + as_written + b', "signatures": ' + json.dumps(sigs).encode() + b"}"
    )
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1
