"""``trustkeep migrate notary``: python-tuf's client over the migrated repository is the oracle."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from evac_world import GUN_A, GUN_B, EvacWorld
from tuf.api.metadata import Metadata, Root, Targets

sys.path.insert(0, str(Path(__file__).parents[1] / "repo"))

from repo_oracle import fetch_target

from trustkeep.cli import main

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary_evac")]

PASS = "migrate-pass-123"


@dataclass(frozen=True)
class Migration:
    home: Path
    out: Path  # evidence archive with GUN_A and GUN_B
    dir_a: Path  # GUN_A migrated with --keep-root-key
    report_a: dict[str, Any]
    dir_b: Path  # GUN_B migrated; its Notary root key is not in the store
    report_b: dict[str, Any]
    at: str


def _cli(*args: str) -> tuple[int, dict[str, Any]]:
    from io import StringIO
    from unittest.mock import patch

    buffer = StringIO()
    with patch("sys.stdout", buffer):
        code = main([*args, "--json"])
    text = buffer.getvalue()
    return code, json.loads(text) if text.strip() else {}


@pytest.fixture(scope="module")
def migration(evac: EvacWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migration]:
    work = tmp_path_factory.mktemp("migrate")
    home = work / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUSTKEEP_PASSPHRASE", PASS)
        mp.setenv("TRUSTKEEP_NEW_PASSPHRASE", PASS)
        mp.setenv("NOTARY_ROOT_PASSPHRASE", evac.client.env()["NOTARY_ROOT_PASSPHRASE"])
        h = ("--home", str(home))
        for name, kind in (("root1", "ed25519"), ("tgt", "ecdsa-p256")):
            assert _cli(*h, "key", "generate", "--type", kind, "--name", name)[0] == 0
        assert _cli(*h, "key", "import", str(evac.releases_key), "--name", "releases")[0] == 0
        assert _cli(*h, "key", "import", str(evac.root_key_file), "--name", "notary-root")[0] == 0
        out = work / "evidence"
        code, pulled = _cli("notary", "pull", "--server", evac.server.url, GUN_A, GUN_B, str(out))
        assert code == 0, pulled
        at = pulled["retrieved_at"]
        common = ("--root-key", "root1", "--targets-key", "tgt")
        code, report_a = _cli(
            *h,
            "migrate",
            "notary",
            str(out),
            "--gun",
            GUN_A,
            "--to",
            str(work / "tuf-a"),
            *common,
            "--keep-root-key",
        )
        assert code == 0, report_a
        code, report_b = _cli(
            *h, "migrate", "notary", str(out), "--gun", GUN_B, "--to", str(work / "tuf-b"), *common
        )
        assert code == 0, report_b
        yield Migration(home, out, work / "tuf-a", report_a, work / "tuf-b", report_b, at)


def test_python_tuf_downloads_and_verifies_every_target(
    migration: Migration, evac: EvacWorld, tmp_path: Path
) -> None:
    for name in ("v1", "v2"):
        data = fetch_target(migration.dir_a, tmp_path / f"client-{name}", name, evac.files)
        assert data == (evac.files / name).read_bytes()
    data = fetch_target(migration.dir_b, tmp_path / "client-tool", "tool", evac.files)
    assert data == b"tool 1\n"
    data = fetch_target(migration.dir_b, tmp_path / "client-ops", "ops/deploy.sh", evac.files)
    assert data == b"echo deploy\n"


def test_a_path_prefix_becomes_patterns_and_the_narrowing_is_reported(
    migration: Migration,
) -> None:
    top = Metadata[Targets].from_file(str(migration.dir_b / "targets.json")).signed
    role = top.delegations.roles["targets/ops"]  # type: ignore[union-attr]
    assert role.paths == ["ops/*", "ops/*/*", "ops/*/*/*", "ops/*/*/*/*"]
    assert role.is_delegated_path("ops/deploy.sh")
    assert not role.is_delegated_path("tool")
    [ops] = [r for r in migration.report_b["carried"] if r["role"] == "targets/ops"]
    assert ops["paths"]["notary_paths"] == ["ops/"]
    assert ops["paths"]["narrowed"] == [
        "names starting with 'ops/' and holding more than 3 '/' after it can no longer be "
        "signed by targets/ops"
    ]
    assert ops["paths"]["widened"] == []
    assert (ops["targets"], ops["complete"]) == (1, True)


def test_human_report_says_what_was_carried_and_how(
    migration: Migration, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASS)
    code, out, err = run_cli(
        "--home",
        str(migration.home),
        "migrate",
        "notary",
        str(migration.out),
        "--gun",
        GUN_B,
        "--to",
        str(tmp_path / "b"),
        "--root-key",
        "root1",
        "--targets-key",
        "tgt",
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"migrated {GUN_B} (Notary root v1) → {tmp_path / 'b'}"
    assert "  targets/ops: 1 target(s), threshold 1, signed" in lines
    assert "    Notary paths ['ops/'] → ops/*, ops/*/*, ops/*/*/*, ops/*/*/*/*" in lines
    assert any(line.startswith("    narrows: names starting with 'ops/'") for line in lines)
    assert lines[-1].endswith("(the Notary root key is not in the store: not signed by it)")


def test_targets_keep_names_lengths_hashes_and_roles(migration: Migration, evac: EvacWorld) -> None:
    top = Metadata[Targets].from_file(str(migration.dir_a / "targets.json")).signed
    releases = Metadata[Targets].from_file(str(migration.dir_a / "targets%2Freleases.json")).signed
    assert sorted(top.targets) == ["v1"]
    assert sorted(releases.targets) == ["v2"]
    for name, t in (("v1", top.targets["v1"]), ("v2", releases.targets["v2"])):
        data = (evac.files / name).read_bytes()
        assert t.length == len(data)
        assert t.hashes["sha256"] == hashlib.sha256(data).hexdigest()
        assert t.hashes["sha512"] == hashlib.sha512(data).hexdigest()
    role = top.delegations.roles["targets/releases"]  # type: ignore[union-attr]
    assert role.paths is None
    assert role.path_hash_prefixes == list("0123456789abcdef")  # Notary's "" = every name
    assert role.terminating is False
    [carried] = [r for r in migration.report_a["carried"] if r["role"] == "targets/releases"]
    assert carried["complete"] is True
    assert carried["paths"]["exact"] is True
    [key] = carried["keys"]
    assert key["notary_keyid"] == evac.releases_keyid
    assert key["how"].startswith("ecdsa-x509 certificate → its public key (ecdsa-sha2-nistp256)")
    assert role.keyids == [key["tuf_keyid"]]
    assert migration.report_a["not_carried"] == []


def test_keep_root_key_makes_the_notary_root_key_a_tuf_root_key(
    migration: Migration, evac: EvacWorld
) -> None:
    root = Metadata[Root].from_file(str(migration.dir_a / "1.root.json")).signed
    keyids = root.roles["root"].keyids
    assert len(keyids) == 2
    assert migration.report_a["kept_notary_root_key"] in keyids
    notary_root = json.loads((migration.out / "tuf" / GUN_A / "metadata" / "root.json").read_text())
    cert_id = notary_root["signed"]["roles"]["root"]["keyids"][0]
    cert_pem = base64.b64decode(notary_root["signed"]["keys"][cert_id]["keyval"]["public"])
    public = x509.load_pem_x509_certificate(cert_pem).public_key()
    kept = root.keys[migration.report_a["kept_notary_root_key"]]
    assert kept.keyval["public"].encode() == public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert migration.report_a["statement_signed_by_notary_root"] is True
    # GUN_B's root key is the one GUN_A rotated away from: not imported
    assert migration.report_b["statement_signed_by_notary_root"] is False


def _verify(run_cli: Any, directory: Path, source: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run_cli(
        "verify", str(directory), "--migrated-from", str(source), *extra, "--json"
    )
    return code, json.loads(out)


def test_verify_migrated_from_accepts_the_statement(migration: Migration, run_cli: Any) -> None:
    code, doc = _verify(run_cli, migration.dir_a, migration.out)
    assert code == 0, (doc["migration"]["problems"], doc["findings"])
    m = doc["migration"]
    assert (m["valid"], m["gun"], m["problems"]) == (True, GUN_A, [])
    assert (m["tuf_root_signatures"], m["tuf_root_threshold"]) == (2, 1)
    assert len(m["notary_root_signed_by"]) == 1
    code, human, _ = run_cli("verify", str(migration.dir_a), "--migrated-from", str(migration.out))
    assert code == 0
    assert "migration statement: VALID" in human.splitlines()
    code, doc = _verify(run_cli, migration.dir_b, migration.out)
    assert code == 0
    assert doc["migration"]["warnings"] == [
        "not signed by the retiring Notary root key (it was not in the store)"
    ]


def test_statement_for_another_gun_is_refused(
    migration: Migration, run_cli: Any, tmp_path: Path
) -> None:
    code, doc = _verify(run_cli, migration.dir_a, migration.out, "--gun", GUN_B)
    assert code == 1
    assert f"the statement is for {GUN_A!r}, not {GUN_B!r}" in doc["migration"]["problems"]
    swapped = tmp_path / "swapped"
    shutil.copytree(migration.dir_a, swapped)
    shutil.copy(migration.dir_b / "migration" / "statement.json", swapped / "migration")
    code, doc = _verify(run_cli, swapped, migration.out)
    assert code == 1
    # the TUF chain itself is fine, the statement is not: the run's verdict says invalid
    assert (doc["valid"], doc["migration"]["valid"]) == (False, False)
    assert [f for f in doc["findings"] if f["severity"] == "error"] == []
    assert doc["migration"]["gun"] == GUN_B
    assert doc["migration"]["problems"] == [  # root1 signed both: the TUF root hash tells
        "the statement's tuf_root sha256 is not that of the TUF repository's first root "
        "(1.root.json)",
    ]


def test_statement_against_another_notary_root_is_refused(
    migration: Migration, evac: EvacWorld, run_cli: Any
) -> None:
    code, doc = _verify(run_cli, migration.dir_a, evac.before_rotation)
    assert code == 1
    problems = doc["migration"]["problems"]
    assert problems[0] == (
        "the statement's notary_root sha256 is not that of the last verified Notary root"
    )
    current = json.loads((migration.out / "tuf" / GUN_A / "metadata" / "root.json").read_text())
    signer = current["signed"]["roles"]["root"]["keyids"][0]  # the rotated-in key: not in v1
    assert problems[1:] == [f"Notary signature by {signer[:16]}: not a key of that root"]


def test_delegation_key_not_in_store_leaves_the_role_waiting(
    migration: Migration, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASS)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", PASS)
    home = ("--home", str(tmp_path / "home"))
    for name in ("r", "t"):
        assert run_cli(*home, "key", "generate", "--type", "ed25519", "--name", name)[0] == 0
    code, out, _ = run_cli(
        *home,
        "migrate",
        "notary",
        str(migration.out),
        "--gun",
        GUN_A,
        "--to",
        str(tmp_path / "tuf"),
        "--root-key",
        "r",
        "--targets-key",
        "t",
        "--json",
    )
    assert code == 1
    doc = json.loads(out)
    [releases] = [r for r in doc["carried"] if r["role"] == "targets/releases"]
    assert (releases["complete"], releases["signatures"]) == (False, 0)
    assert releases["waiting_for"] == [releases["keys"][0]["tuf_keyid"]]
    before = {p: p.read_bytes() for p in (tmp_path / "tuf").rglob("*") if p.is_file()}
    code, out, err = run_cli(
        *home,
        "migrate",
        "notary",
        str(migration.out),
        "--gun",
        GUN_A,
        "--to",
        str(tmp_path / "tuf"),
        "--root-key",
        "r",
        "--targets-key",
        "t",
    )
    assert code == 2  # the directory holds a repository now: never overwritten
    assert err == (
        f"trustkeep: error: {tmp_path / 'tuf'}: already holds a repository; "
        "migrate into a new directory\n"
    )
    assert {p: p.read_bytes() for p in (tmp_path / "tuf").rglob("*") if p.is_file()} == before


def test_the_printed_steps_finish_a_waiting_role(
    migration: Migration,
    evac: EvacWorld,
    run_cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASS)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", PASS)
    home = ("--home", str(tmp_path / "home"))
    for name in ("r", "t"):
        assert run_cli(*home, "key", "generate", "--type", "ed25519", "--name", name)[0] == 0
    tuf = tmp_path / "tuf"
    args = ("--gun", GUN_A, "--to", str(tuf), "--root-key", "r", "--targets-key", "t")
    code, out, _ = run_cli(*home, "migrate", "notary", str(migration.out), *args)
    assert code == 1
    canonical = evac.client.trust_dir / "private"
    [key_file] = [p.name for p in canonical.iterdir() if p.read_bytes().count(b"targets/releases")]
    assert f"    to sign: trustkeep key import FILE (Notary's private/{key_file}), then\n" in out
    sign = f"      trustkeep sign {tuf / 'staged' / 'targets%2Freleases.json'} --key KEY\n"
    assert sign in out
    publish = f"  once every role is signed: trustkeep publish {tuf}\n"
    assert publish in out
    assert not (tuf / "root.json").exists()  # nothing under-signed is published
    assert run_cli(*home, "key", "import", str(evac.releases_key), "--name", "rel")[0] == 0
    assert run_cli(*home, *sign.split()[1:-1], "rel")[0] == 0
    code, out, err = run_cli(*home, *publish.split(": ", 1)[1].split()[1:])
    assert code == 0, (out, err)
    assert run_cli(*home, "verify", str(tuf), "--migrated-from", str(migration.out))[0] == 0


def test_migrate_refuses_notary_data_that_does_not_verify(
    migration: Migration, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(migration.out, bad)
    targets = bad / "tuf" / GUN_A / "metadata" / "targets.json"
    targets.write_bytes(targets.read_bytes().replace(b'"v1"', b'"v9"'))
    code, _, err = run_cli(
        "--home",
        str(migration.home),
        "migrate",
        "notary",
        str(bad),
        "--gun",
        GUN_A,
        "--to",
        str(tmp_path / "tuf"),
        "--root-key",
        "root1",
        "--targets-key",
        "tgt",
    )
    assert code == 1
    assert f"the Notary metadata of {GUN_A} does not verify" in err
    assert not (tmp_path / "tuf").exists()


def test_status_of_the_migrated_repository(migration: Migration, run_cli: Any) -> None:
    code, out, err = run_cli("status", str(migration.dir_a), "--json")
    assert code == 0, err
    doc = json.loads(out)
    text = json.dumps(doc)
    for role in ("root", "targets", "targets/releases", "snapshot", "timestamp"):
        assert f'"{role}"' in text


def test_keep_root_key_with_keys_imported_from_the_notary_dir(
    migration: Migration,
    evac: EvacWorld,
    run_cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README step: `key import --notary-dir` brings every key, the rotated-out root too;
    --keep-root-key keeps only the current Notary root's key."""
    for var, value in evac.client.env().items():
        if var.startswith("NOTARY_") and var.endswith("_PASSPHRASE"):
            monkeypatch.setenv(var, value)
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASS)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", PASS)
    home = ("--home", str(tmp_path / "home"))
    code, _, err = run_cli(*home, "key", "import", "--notary-dir", str(evac.client.trust_dir))
    assert code == 0, err
    for name in ("r", "t"):
        assert run_cli(*home, "key", "generate", "--type", "ed25519", "--name", name)[0] == 0
    tuf = tmp_path / "tuf"
    args = ("--gun", GUN_A, "--to", str(tuf), "--root-key", "r", "--targets-key", "t")
    code, out, err = run_cli(
        *home, "migrate", "notary", str(migration.out), *args, "--keep-root-key", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["complete"] and doc["statement_signed_by_notary_root"]
    assert doc["kept_notary_root_key"] == migration.report_a["kept_notary_root_key"]
    assert len(doc["root_keys"]) == 2
    code, out, _ = run_cli("verify", str(tuf), "--migrated-from", str(migration.out), "--json")
    assert code == 0 and json.loads(out)["migration"]["valid"]


@pytest.mark.parametrize("where", ["the-archive", "inside-the-archive", "a-non-empty-dir"])
def test_migrate_never_writes_into_the_evidence_or_a_used_directory(
    where: str, migration: Migration, run_cli: Any, tmp_path: Path
) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(migration.out, evidence)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine\n")
    to, message = {
        "the-archive": (evidence, "is not empty"),
        "inside-the-archive": (evidence / "tuf-repo", f"is inside {evidence}"),
        "a-non-empty-dir": (tmp_path / "used", "is not empty"),
    }[where]
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, _, err = run_cli(
        "--home",
        str(migration.home),
        "migrate",
        "notary",
        str(evidence),
        "--gun",
        GUN_A,
        "--to",
        str(to),
        "--root-key",
        "root1",
        "--targets-key",
        "tgt",
    )
    assert code == 2 and message in err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not (evidence / "tuf-repo").exists()
