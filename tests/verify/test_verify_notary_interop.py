"""Notary metadata written by the real notary client against a real notary-server.

The real client is the oracle for pins: a configuration it rejects, trustkeep
rejects too (and the other way round).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from notary_env import NotaryClient
from verify_support import GUN, NotaryRepo, _self_signed

pytestmark = pytest.mark.interop


def _verify(run_cli: Any, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli("verify", *args, "--json")
    return code, json.loads(out) if out.strip() else {}, err


def _codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for f in doc["findings"] if f["severity"] == "error"}


def _pins(tmp_path: Path, document: dict[str, Any], name: str = "pins.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_real_cache_valid_with_notary_cert_ids(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    pins = _pins(tmp_path, {"trust_pinning": {"certs": {GUN: list(notary_repo.cert_ids)}}})
    code, doc, err = _verify(run_cli, str(notary_repo.metadata), "--pins", str(pins), "--gun", GUN)
    assert (code, doc["valid"], err) == (0, True, "")
    assert doc["format"] == "notary"
    assert doc["anchor"]["type"] == "pins"
    assert doc["anchor"]["mechanism"] == f"cert-ids ({GUN})"
    assert doc["findings"] == []
    roles = [(r["role"], r["valid"]) for r in doc["roles"]]
    assert roles == [
        ("root", True),
        ("timestamp", True),
        ("snapshot", True),
        ("targets", True),
        ("targets/releases", True),
    ]
    assert doc["roles"][0]["version"] == 2  # after `key rotate GUN root`


def test_real_cache_valid_with_daemon_json_root_keys(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    daemon = {
        "content-trust": {
            "mode": "enforced",
            "trust-pinning": {"root-keys": {"example.com/acme/*": list(notary_repo.root_key_ids)}},
        }
    }
    pins = _pins(tmp_path, daemon, "daemon.json")
    code, doc, _ = _verify(run_cli, str(notary_repo.metadata), "--pins", str(pins), "--gun", GUN)
    assert code == 0, doc["findings"]
    assert doc["anchor"]["mechanism"] == "root-keys (example.com/acme/*)"


def test_trust_dir_with_gun_and_tarball(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    code, doc, _ = _verify(run_cli, str(notary_repo.trust_dir), "--gun", GUN)
    assert code == 0
    assert [f["code"] for f in doc["findings"]] == ["no-anchor"]
    archive = shutil.make_archive(str(tmp_path / "trust"), "gztar", notary_repo.trust_dir)
    code, doc2, _ = _verify(run_cli, archive, "--gun", GUN)
    assert code == 0
    assert [r["file"] for r in doc2["roles"]] == [r["file"] for r in doc["roles"]]


def test_trust_dir_without_gun_is_usage_error(notary_repo: NotaryRepo, run_cli: Any) -> None:
    code, out, err = run_cli("verify", str(notary_repo.trust_dir))
    assert code == 2
    assert out == ""
    assert "is a Notary trust directory: pass --gun GUN" in err
    assert GUN in err  # the hint lists the cached repositories


def test_root_rotation_from_trusted_old_root(notary_repo: NotaryRepo, run_cli: Any) -> None:
    old_root = notary_repo.before_rotation / "root.json"
    code, doc, _ = _verify(run_cli, str(notary_repo.metadata), "--root", str(old_root))
    assert code == 0, doc["findings"]
    assert [r["version"] for r in doc["roles"] if r["role"] == "root"] == [1, 2]


def _notary_accepts(repo: NotaryRepo, tmp_path: Path, pinning: dict[str, Any]) -> bool:
    """Does the real client bootstrap GUN with these trust_pinning settings (no cache)?"""
    config = _pins(tmp_path, {"trust_pinning": pinning}, "notary-config.json")
    fresh = NotaryClient(repo.client.server, tmp_path / "fresh-trust")
    proc = fresh.run("list", GUN, config=config, check=False)
    return proc.returncode == 0


def _pin_cases(repo: NotaryRepo, ca_file: str) -> dict[str, tuple[dict[str, Any], bool]]:
    good, wrong = list(repo.cert_ids), ["0" * 64]
    return {
        "exact-correct": ({"certs": {GUN: good}}, True),
        "exact-wrong": ({"certs": {GUN: wrong}}, False),
        "wildcard-correct": ({"certs": {"example.com/*": good}}, True),
        "wildcard-wrong": ({"certs": {"example.com/*": wrong}}, False),
        "exact-wrong-beats-wildcard": ({"certs": {GUN: wrong, "example.com/*": good}}, False),
        "canonical-id-is-not-a-cert-id": ({"certs": {GUN: list(repo.root_key_ids)}}, False),
        "longest-wildcard-wins": (
            {"certs": {"example.com/*": good, "example.com/acme/*": wrong}},
            False,
        ),
        "unrelated-ca": ({"ca": {"example.com/": ca_file}}, False),
    }


@pytest.mark.parametrize(
    "case",
    [
        "exact-correct",
        "exact-wrong",
        "wildcard-correct",
        "wildcard-wrong",
        "exact-wrong-beats-wildcard",
        "canonical-id-is-not-a-cert-id",
        "longest-wildcard-wins",
        "unrelated-ca",
    ],
)
def test_pins_agree_with_real_notary_client(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path, case: str
) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(
        _self_signed("Unrelated CA", ca_key).public_bytes(serialization.Encoding.PEM)
    )
    pinning, expected = _pin_cases(notary_repo, str(ca_file))[case]
    assert _notary_accepts(notary_repo, tmp_path, pinning) is expected  # the oracle
    pins = _pins(tmp_path, {"trust_pinning": pinning})
    code, doc, _ = _verify(run_cli, str(notary_repo.metadata), "--pins", str(pins), "--gun", GUN)
    assert doc["valid"] is expected
    assert code == (0 if expected else 1)
    if not expected:
        assert _codes(doc) == {"pin-mismatch"}


def _tampered(repo: NotaryRepo, tmp_path: Path) -> Path:
    dest = tmp_path / "metadata"
    shutil.copytree(repo.metadata, dest)
    return dest


def _flip_signed_byte(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    raw = path.read_bytes()
    # change one character of the signed expiry, keeping the file length
    old = doc["signed"]["expires"]
    new = old[:-2] + ("1" if old[-2] != "1" else "2") + old[-1]
    path.write_bytes(raw.replace(old.encode(), new.encode(), 1))


def test_tampered_targets_fails_hash_and_signature(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    meta = _tampered(notary_repo, tmp_path)
    _flip_signed_byte(meta / "targets.json")
    code, doc, _ = _verify(run_cli, str(meta), "--gun", GUN)
    assert code == 1
    assert _codes(doc) == {"hash-mismatch", "threshold-not-met"}
    assert {f["role"] for f in doc["findings"] if f["severity"] == "error"} == {"targets"}


def test_tampered_root_signature_and_missing_roles(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    meta = _tampered(notary_repo, tmp_path)
    root = json.loads((meta / "root.json").read_bytes())
    for sig in root["signatures"]:
        sig["sig"] = "A" + sig["sig"][1:] if sig["sig"][0] != "A" else "B" + sig["sig"][1:]
    (meta / "root.json").write_text(json.dumps(root))
    (meta / "targets" / "releases.json").unlink()
    code, doc, _ = _verify(run_cli, str(meta), "--gun", GUN)
    assert code == 1
    errors = {(f["code"], f["role"]) for f in doc["findings"] if f["severity"] == "error"}
    assert errors == {
        ("threshold-not-met", "root"),
        ("hash-mismatch", "root"),  # snapshot records root.json's hashes
        ("length-mismatch", "root"),
        ("missing-role", "targets/releases"),
    }


def test_expiry_and_certificate_validity(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    code, doc, _ = _verify(run_cli, str(notary_repo.metadata), "--gun", GUN, "--at", "2040-01-01")
    assert code == 1
    expired = {f["role"] for f in doc["findings"] if f["code"] == "expired"}
    assert expired == {"root", "timestamp", "snapshot", "targets", "targets/releases"}
    assert "certificate-invalid" in _codes(doc)  # the 10-year root certificate has expired


def test_certificate_cn_must_match_gun(notary_repo: NotaryRepo, run_cli: Any) -> None:
    other = "example.com/other/app"
    code, doc, _ = _verify(run_cli, str(notary_repo.metadata), "--gun", other)
    assert code == 1
    assert _codes(doc) == {"certificate-invalid"}
    assert any(GUN in f["message"] and other in f["message"] for f in doc["findings"])


def test_rollback_against_previous(notary_repo: NotaryRepo, run_cli: Any) -> None:
    code, doc, _ = _verify(
        run_cli, str(notary_repo.early), "--gun", GUN, "--previous", str(notary_repo.metadata)
    )
    assert code == 1
    assert _codes(doc) == {"rollback"}
    rolled = {f["role"] for f in doc["findings"] if f["code"] == "rollback"}
    assert {"root", "timestamp", "snapshot", "targets"} <= rolled


def test_path_outside_delegation_written_by_real_notary(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    """A target published while the delegation had all paths, then paths narrowed."""
    gun = "example.com/acme/narrowed"
    client = NotaryClient(notary_repo.client.server, tmp_path / "trust")
    client.run("init", gun)
    pem = notary_repo.workdir / "releases.pem"
    client.run("delegation", "add", "-p", gun, "targets/releases", str(pem), "--all-paths")
    client.run(
        "key", "import", str(notary_repo.workdir / "releases.key"), "--role", "targets/releases"
    )
    target = tmp_path / "x.txt"
    target.write_text("x")
    client.run("add", "-p", gun, "outside/x", str(target), "--roles", "targets/releases")
    client.run("delegation", "remove", gun, "targets/releases", "--all-paths", stdin="y\n")
    client.run("delegation", "add", "-p", gun, "targets/releases", "--paths", "releases/")
    client.run("list", gun, check=False)
    meta = tmp_path / "trust" / "tuf" / gun / "metadata"
    code, doc, _ = _verify(run_cli, str(meta))
    assert code == 1
    findings = [f for f in doc["findings"] if f["severity"] == "error"]
    assert [(f["code"], f["role"]) for f in findings] == [
        ("path-not-delegated", "targets/releases")
    ]
    assert "'outside/x'" in findings[0]["message"]


def _notary_files(repo: NotaryRepo) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo.metadata)): p.read_bytes() for p in repo.metadata.rglob("*.json")
    }


def test_notary_field_mutations_never_valid(notary_repo: NotaryRepo) -> None:
    """hypothesis over the real client's files: a changed signed field is never valid."""
    from datetime import UTC, datetime

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from test_verify_fuzz import _json, _paths, _set, _signed

    from trustkeep.core.verify import MetadataBundle
    from trustkeep.core.verify.notary import verify_notary

    original = _notary_files(notary_repo)
    now = datetime.now(UTC)
    base = verify_notary(MetadataBundle(original, source="n", gun=GUN), at=now)
    assert base.valid

    @settings(
        max_examples=80,
        deadline=3000,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        files = dict(original)
        name = data.draw(st.sampled_from(sorted(files)))
        doc = json.loads(files[name])
        path = data.draw(st.sampled_from(_paths(doc)))
        files[name] = json.dumps(_set(doc, path, data.draw(_json))).encode()
        report = verify_notary(MetadataBundle(files, source="n", gun=GUN), at=now)
        if _signed(files[name]) != _signed(original[name]):
            assert not report.valid, f"{name}: {path} changed, still valid"

    check()


def _ca_issued(cn: str, key: ec.EllipticCurvePrivateKey, ca: Any, ca_key: Any, eku: Any) -> Any:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def test_ca_pinning_agrees_with_real_client(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path
) -> None:
    """CA-issued roots: a serverAuth leaf passes CA pinning, a codeSigning-only leaf does not."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from trustkeep.core.keyids import notary_canonical_id
    from trustkeep.core.pem_keys import dump_notary_pem

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Verify Test CA")])
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    results = {}
    ekus = {"srv": ExtendedKeyUsageOID.SERVER_AUTH, "code": ExtendedKeyUsageOID.CODE_SIGNING}
    for label, eku in ekus.items():
        gun = f"example.com/verify-ca-{label}"
        private = ec.generate_private_key(ec.SECP256R1())
        canonical = notary_canonical_id(private.public_key())
        assert canonical is not None
        key_file, cert_file = tmp_path / f"{label}.key", tmp_path / f"{label}.crt"
        key_file.write_bytes(
            dump_notary_pem(private, b"root-pass-123", role="root", gun=None, keyid=canonical)
        )
        leaf = _ca_issued(gun, private, ca, ca_key, eku)
        cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        client = NotaryClient(notary_repo.client.server, tmp_path / f"trust-{label}")
        client.run("init", gun, "--rootkey", str(key_file), "--rootcert", str(cert_file), "-p")
        client.run("list", gun)  # caches the timestamp
        pinning = {"ca": {"example.com/verify-ca-": str(ca_file)}, "disable_tofu": True}
        config = _pins(tmp_path, {"trust_pinning": pinning}, f"ca-{label}.json")
        fresh = NotaryClient(notary_repo.client.server, tmp_path / f"fresh-{label}")
        client_ok = fresh.run("list", gun, config=config, check=False).returncode == 0
        meta = tmp_path / f"trust-{label}" / "tuf" / gun / "metadata"
        code, doc, _ = _verify(run_cli, str(meta), "--pins", str(config), "--gun", gun)
        assert doc["anchor"]["mechanism"] == "ca (example.com/verify-ca-)"
        results[label] = (client_ok, code == 0)
        if code:
            assert _codes(doc) == {"pin-mismatch"}
    assert results == {"srv": (True, True), "code": (False, False)}
