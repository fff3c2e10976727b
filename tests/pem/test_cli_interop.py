"""CLI level: `trustkeep key import --notary-dir` of real trust dirs, and
`trustkeep key export --format notary` accepted by `notary key import` and `notary init`."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from pem_support import (
    ROLE_PASSPHRASES,
    TrustDir,
    make_pre_04_layout,
    notary_key_list,
    notary_run,
    require_notary,
)

from trustkeep.core.keyids import notary_canonical_id
from trustkeep.core.pem_keys import load_private_pem, pem_headers

pytestmark = pytest.mark.interop

STORE_PASS = "store-pass-0123"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh trustkeep home; passphrases for the store and Notary's roles in the env."""
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", STORE_PASS)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", STORE_PASS)
    for role, var in (
        ("root", "NOTARY_ROOT_PASSPHRASE"),
        ("targets", "NOTARY_TARGETS_PASSPHRASE"),
        ("snapshot", "NOTARY_SNAPSHOT_PASSPHRASE"),
    ):
        monkeypatch.setenv(var, ROLE_PASSPHRASES[role])
    return tmp_path / "home"


def listed_keys(run_cli, home: Path) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("--home", str(home), "key", "list", "--json")
    assert code == 0, err
    keys: list[dict[str, object]] = json.loads(out)["keys"]
    return keys


def imported_by_canonical_id(run_cli, home: Path) -> dict[object, tuple[object, object]]:  # type: ignore[no-untyped-def]
    out = {}
    for k in listed_keys(run_cli, home):
        labels = k["labels"]
        assert isinstance(labels, dict)
        out[k["notary_canonical_id"]] = (labels.get("role"), labels.get("gun", ""))
    return out


def test_import_notary_dir(run_cli, home: Path, initialized_trust_dir: TrustDir) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(
        "--home",
        str(home),
        "key",
        "import",
        "--notary-dir",
        str(initialized_trust_dir.path),
        "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == 1
    assert len(doc["keys"]) == 3 and all(k["added"] for k in doc["keys"])
    assert imported_by_canonical_id(run_cli, home) == notary_key_list(initialized_trust_dir.path)
    # again: nothing new
    code, out, err = run_cli(
        "--home",
        str(home),
        "key",
        "import",
        "--notary-dir",
        str(initialized_trust_dir.path),
        "--json",
    )
    assert code == 0, err
    assert not any(k["added"] for k in json.loads(out)["keys"])


def test_import_pre_04_notary_dir(  # type: ignore[no-untyped-def]
    run_cli, home: Path, initialized_trust_dir: TrustDir, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy-trust"
    roles = make_pre_04_layout(initialized_trust_dir.path, legacy, strip_headers=True)
    code, _out, err = run_cli("--home", str(home), "key", "import", "--notary-dir", str(legacy))
    assert code == 0, err
    gun = initialized_trust_dir.gun
    assert imported_by_canonical_id(run_cli, home) == {
        keyid: (role, "" if role == "root" else gun) for keyid, role in roles.items()
    }


def test_import_notary_dir_wrong_passphrase_changes_nothing(  # type: ignore[no-untyped-def]
    run_cli, home: Path, initialized_trust_dir: TrustDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTARY_SNAPSHOT_PASSPHRASE", "not-it")
    code, out, err = run_cli(
        "--home", str(home), "key", "import", "--notary-dir", str(initialized_trust_dir.path)
    )
    assert code == 3
    assert out == ""
    assert "wrong passphrase for " in err and ".key" in err
    assert "Traceback" not in err and "not-it" not in err
    assert listed_keys(run_cli, home) == []


def test_import_not_a_trust_dir(run_cli, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("--home", str(home), "key", "import", "--notary-dir", str(tmp_path))
    assert code == 2
    assert "not a Notary or Docker trust directory" in err
    assert out == ""


def test_import_single_notary_key_file(  # type: ignore[no-untyped-def]
    run_cli, home: Path, generated_trust_dir: TrustDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = next(
        f
        for f in sorted((generated_trust_dir.path / "private").glob("*.key"))
        if pem_headers(f.read_bytes())["role"] == "root"
    )
    monkeypatch.setenv("ROOTPW", ROLE_PASSPHRASES["root"])
    code, out, err = run_cli(
        "--home", str(home), "key", "import", str(file), "--passphrase-env", "ROOTPW", "--json"
    )
    assert code == 0, err
    (key,) = json.loads(out)["keys"]
    assert key["notary_canonical_id"] == file.stem
    assert key["labels"] == {"role": "root"}


def test_import_notary_key_export_bundle(  # type: ignore[no-untyped-def]
    run_cli, home: Path, initialized_trust_dir: TrustDir, tmp_path: Path
) -> None:
    """`notary key export` writes every key into one file; `key import FILE` takes them all,
    each with its role's passphrase from the NOTARY_*_PASSPHRASE variables."""
    bundle = tmp_path / "bundle.pem"
    notary_run(initialized_trust_dir.path, "key", "export", "-o", str(bundle))
    code, out, err = run_cli("--home", str(home), "key", "import", str(bundle), "--json")
    assert code == 0, err
    assert len(json.loads(out)["keys"]) == 3
    assert imported_by_canonical_id(run_cli, home) == notary_key_list(initialized_trust_dir.path)


def generate(run_cli, home: Path, key_type: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("--home", str(home), "key", "generate", "--type", key_type, "--json")
    assert code == 0, err
    key: dict[str, object] = json.loads(out)["key"]
    return key


@pytest.mark.parametrize(
    ("role", "gun"), [("targets", "example.com/cli/app"), ("targets/rel", None)]
)
def test_export_notary_accepted_by_notary_key_import(  # type: ignore[no-untyped-def]
    run_cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str, gun: str | None
) -> None:
    require_notary()
    key = generate(run_cli, home, "ecdsa-p256")
    out_file = tmp_path / "export.key"
    args = ["--home", str(home), "key", "export", str(key["keyid"]), "--format", "notary"]
    args += ["--role", role, "-o", str(out_file)] + (["--gun", gun] if gun else [])
    passphrase = "export-pass-1"
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", passphrase)
    code, _out, err = run_cli(*args)
    assert code == 0, err
    assert out_file.stat().st_mode & 0o777 == 0o600
    trust = tmp_path / "trust"
    notary_run(trust, "key", "import", str(out_file))
    keyid = str(key["notary_canonical_id"])
    assert notary_key_list(trust) == {keyid: (role, gun or "")}
    env_var = "NOTARY_TARGETS_PASSPHRASE" if role == "targets" else "NOTARY_DELEGATION_PASSPHRASE"
    notary_run(trust, "key", "passwd", keyid, env={env_var: passphrase})  # notary decrypts it
    stored = (trust / "private" / f"{keyid}.key").read_bytes()
    loaded = load_private_pem(stored, passphrase.encode(), source="stored")
    assert notary_canonical_id(loaded.private_key.public_key()) == keyid  # type: ignore[arg-type]


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "rsa-3072"])
def test_export_notary_then_notary_init_rootkey(  # type: ignore[no-untyped-def]
    run_cli, home: Path, tmp_path: Path, notary, monkeypatch: pytest.MonkeyPatch, key_type: str
) -> None:
    key = generate(run_cli, home, key_type)
    rootkey = tmp_path / "root.key"
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", ROLE_PASSPHRASES["root"])
    code, out, err = run_cli(
        "--home", str(home), "key", "export", str(key["keyid"]), "--format", "notary", "--json"
    )
    assert code == 0, err
    rootkey.write_text(json.loads(out)["pem"])
    trust = tmp_path / "trust"
    gun = f"example.com/cli/{key_type}"
    notary_run(trust, "init", gun, "--rootkey", str(rootkey), server_url=notary.url)
    notary_run(trust, "publish", gun, server_url=notary.url)
    signed = json.loads((trust / "tuf" / gun / "metadata" / "root.json").read_text())["signed"]
    (root_id,) = signed["roles"]["root"]["keyids"]
    cert = x509.load_pem_x509_certificate(
        base64.b64decode(signed["keys"][root_id]["keyval"]["public"])
    )
    assert notary_canonical_id(cert.public_key()) == key["notary_canonical_id"]  # type: ignore[arg-type]
    # and the round trip: the trust dir notary now holds imports back as the same key
    shutil.rmtree(trust / "tuf")
    code, out, err = run_cli(
        "--home", str(home), "key", "import", "--notary-dir", str(trust), "--json"
    )
    assert code == 0, err
    keys = json.loads(out)["keys"]
    assert len(keys) == 3  # root (ours), targets, snapshot
    (ours,) = [k for k in keys if k["keyid"] == key["keyid"]]
    assert ours["added"] is False
    assert Path(ours["path"]).name == f"{key['notary_canonical_id']}.key"
