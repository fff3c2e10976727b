"""`trustkeep pin` and `trustkeep notary` through main(argv): exit codes, stdout, stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pin_certs import notary_root
from securesystemslib.signer import CryptoSigner
from test_pins_files import DAEMON_JSON
from tuf.api.metadata import Metadata, Root

RunCli = Callable[..., tuple[int, str, str]]
GUN = "registry.example.com/acme/app"


@pytest.fixture
def root_file(tmp_path: Path) -> tuple[Path, str, str]:
    raw, cert_id, canonical = notary_root(GUN)
    path = tmp_path / "root.json"
    path.write_bytes(raw)
    return path, cert_id, canonical


def _tuf_root_chain(directory: Path, *, break_chain: bool = False) -> list[bytes]:
    """1.root.json and 2.root.json (root key rotated), written by python-tuf."""
    directory.mkdir()
    old, new = CryptoSigner.generate_ed25519(), CryptoSigner.generate_ed25519()
    root = Metadata(Root(expires=datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)))
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.signed.add_key(old.public_key, role)
    root.sign(old)
    first = root.to_bytes()
    root.signed.version = 2
    root.signed.revoke_key(old.public_key.keyid, "root")
    root.signed.add_key(new.public_key, "root")
    root.signatures.clear()
    root.sign(new, append=True)
    if not break_chain:
        root.sign(old, append=True)
    second = root.to_bytes()
    (directory / "1.root.json").write_bytes(first)
    (directory / "2.root.json").write_bytes(second)
    return [first, second]


# ---------------------------------------------------------------- export


def test_export_docker_plain_and_json(run_cli: RunCli, root_file: tuple[Path, str, str]) -> None:
    path, cert_id, canonical = root_file
    code, out, err = run_cli("pin", "export", "--from", str(path))
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "content-trust": {
            "trust-pinning": {"root-keys": {GUN: [canonical]}, "cert-ids": {GUN: [cert_id]}},
            "mode": "enforced",
        }
    }
    code, out, _ = run_cli(
        "pin", "export", "--from", str(path), "--gun", "registry.example.com/acme/*",
        "--mode", "permissive", "--no-official-library-images", "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "schema": 1,
        "format": "docker",
        "sources": [str(path)],
        "pins": [
            {
                "gun": "registry.example.com/acme/*",
                "cert_ids": [cert_id],
                "canonical_ids": [canonical],
                "source": str(path),
            }
        ],
        "block": {
            "content-trust": {
                "trust-pinning": {
                    "root-keys": {"registry.example.com/acme/*": [canonical]},
                    "official-library-images": False,
                },
                "mode": "permissive",
            }
        },
    }


def test_export_notary(run_cli: RunCli, root_file: tuple[Path, str, str]) -> None:
    path, cert_id, _ = root_file
    code, out, _ = run_cli(
        "pin", "export", "--format", "notary", "--from", str(path), "--allow-tofu",
        "--ca", "other.example/=/etc/notary/ca.pem",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out) == {
        "trust_pinning": {
            "certs": {GUN: [cert_id]},
            "ca": {"other.example/": "/etc/notary/ca.pem"},
            "disable_tofu": False,
        }
    }


def test_export_tuf_is_the_original_bytes(run_cli: RunCli, tmp_path: Path) -> None:
    first, second = _tuf_root_chain(tmp_path / "metadata")
    code, out, _ = run_cli("pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata"))
    assert code == 0
    assert out.encode() == second
    code, out, _ = run_cli(
        "pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata" / "1.root.json")
    )
    assert out.encode() == first
    code, out, _ = run_cli(
        "pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata"), "--json"
    )
    assert json.loads(out)["root"].encode() == second


def test_export_refuses_a_broken_root_chain(run_cli: RunCli, tmp_path: Path) -> None:
    _tuf_root_chain(tmp_path / "metadata", break_chain=True)
    code, out, err = run_cli(
        "pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata")
    )
    assert (code, out) == (1, "")
    assert "2.root.json: not signed by a threshold of the previous root" in err


def test_export_refuses_a_tampered_notary_root(run_cli: RunCli, tmp_path: Path) -> None:
    raw, _, _ = notary_root(GUN)
    doc = json.loads(raw)
    doc["signed"]["version"] = 2
    path = tmp_path / "root.json"
    path.write_text(json.dumps(doc))
    code, out, err = run_cli("pin", "export", "--from", str(path))
    assert (code, out) == (1, "")
    assert err == (
        f"trustkeep: error: {path}: 0 signature(s) from usable root certificates, threshold 1\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "no-such-key-or-file"], "no-such-key-or-file"),
        (["--format", "xml", "--from", "x"], "Invalid value for '--format'"),
        (["--from", "{root}", "--gun", "other.example/x"], "the root certificate is for"),
        (["--from", "{root}", "--gun", "a/*/b"], "a prefix ending in one '*'"),
        (["--from", "{garbage}"], "not valid JSON"),
        (["--from", "{tuf}"], "is a TUF root: Docker and Notary pins need a Notary root"),
        (["--format", "tuf", "--from", "{tuf}", "--from", "{tuf}"], "exactly one root.json"),
        (["--format", "notary", "--from", "{root}", "--ca", "nopath"], "expected GUN_PREFIX="),
    ],
)
def test_export_input_errors(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str], args: list[str], message: str
) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    _tuf_root_chain(tmp_path / "tuf")
    subst = {
        "{root}": str(root_file[0]),
        "{garbage}": str(garbage),
        "{tuf}": str(tmp_path / "tuf" / "1.root.json"),
    }
    argv = [subst.get(a, a) for a in args]
    code, out, err = run_cli("--home", str(tmp_path / "home"), "pin", "export", *argv)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- apply


def test_apply_daemon_json_changes_nothing_else(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    path, cert_id, canonical = root_file
    daemon = tmp_path / "daemon.json"
    daemon.write_text(DAEMON_JSON)
    code, out, err = run_cli("pin", "apply", "--daemon-json", str(daemon), "--from", str(path))
    assert code == 0
    assert out == f"updated {daemon} (previous version in {daemon}.bak)\n"
    assert "content-trust mode is permissive: pins are not enforced" in err
    assert (tmp_path / "daemon.json.bak").read_bytes() == DAEMON_JSON.encode()
    new = daemon.read_text()
    # byte-level: everything outside the trust-pinning object is as it was
    start = DAEMON_JSON.index('"trust-pinning"')
    end = DAEMON_JSON.index('"features"')
    assert new[:start] == DAEMON_JSON[:start]
    assert new[new.index('"features"') :] == DAEMON_JSON[end:]
    pinning = json.loads(new)["content-trust"]["trust-pinning"]
    assert pinning["cert-ids"] == {GUN: [cert_id]}
    assert pinning["root-keys"][GUN] == [canonical]
    assert len(pinning["root-keys"]) == 2  # the existing entry is still there
    # again: nothing to do, nothing written
    (tmp_path / "daemon.json.bak").unlink()
    code, out, _ = run_cli("pin", "apply", "--daemon-json", str(daemon), "--from", str(path))
    assert (code, out) == (0, f"{daemon}: already up to date\n")
    assert not (tmp_path / "daemon.json.bak").exists()


def test_apply_dry_run_and_json(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    path = root_file[0]
    daemon = tmp_path / "daemon.json"
    daemon.write_text('{\n  "debug": true\n}\n')
    code, out, _ = run_cli(
        "pin", "apply", "--daemon-json", str(daemon), "--from", str(path), "--dry-run"
    )
    assert code == 0
    assert out.startswith(f"--- {daemon}\n+++ {daemon}\n@@ ")
    assert '-  "debug": true\n+  "debug": true,\n+  "content-trust": {\n' in out
    assert daemon.read_text() == '{\n  "debug": true\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json", "root.json"]
    code, out, _ = run_cli(
        "pin", "apply", "--daemon-json", str(daemon), "--from", str(path), "--json"
    )
    doc = json.loads(out)
    assert doc["schema"] == 1 and doc["changed"] and not doc["dry_run"] and not doc["created"]
    assert doc["backup"] == f"{daemon}.bak"
    assert json.loads(daemon.read_text())["content-trust"]["mode"] == "enforced"


def test_apply_creates_a_missing_file(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    config = tmp_path / "notary" / "config.json"
    code, out, err = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(root_file[0]),
        "--disable-tofu", "--ca", "other.example/=relative/ca.pem",
    )  # fmt: skip
    assert code == 0, err
    assert out == f"created {config}\n"
    assert "ca path 'relative/ca.pem' for 'other.example/' is relative" in err
    assert json.loads(config.read_text()) == {
        "trust_pinning": {
            "certs": {GUN: [root_file[1]]},
            "ca": {"other.example/": "relative/ca.pem"},
            "disable_tofu": True,
        }
    }
    assert not (tmp_path / "notary" / "config.json.bak").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "debug": true,\n}\n', "invalid JSON at line 3 column 1"),
        ('{"content-trust": {"trust-pinning": {"library-images": true}}}', "library-images"),
        ('{"content-trust": "on"}', "'content-trust' is not a JSON object"),
    ],
)
def test_apply_refuses_bad_files_untouched(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str], content: str, message: str
) -> None:
    daemon = tmp_path / "daemon.json"
    daemon.write_text(content)
    code, out, err = run_cli(
        "pin", "apply", "--daemon-json", str(daemon), "--from", str(root_file[0])
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"trustkeep: error: {daemon}: ")
    assert message in err
    assert daemon.read_text() == content
    assert not (tmp_path / "daemon.json.bak").exists()


def test_apply_warns_when_another_entry_decides(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    path, cert_id, _ = root_file
    config = tmp_path / "config.json"
    code, _, err = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(path),
        "--gun", "registry.example.com/*",
    )  # fmt: skip
    assert code == 0 and err == ""
    existing = json.loads(config.read_text())
    existing["trust_pinning"]["certs"][GUN] = ["0" * 64]  # an exact key beats any wildcard
    existing["trust_pinning"]["certs"]["registry.example.com/acme/"] = ["0" * 64]
    config.write_text(json.dumps(existing, indent=2))
    code, _, err = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(path),
        "--gun", "registry.example.com/*",
    )  # fmt: skip
    assert code == 0
    assert "certs key 'registry.example.com/acme/' has no '*'" in err
    # the exact entry (wrong ID) still decides: pin check says so and rejects
    code, out, _ = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", GUN, "--from", str(path)
    )
    assert code == 1
    assert out.startswith(f"{GUN}: REJECTED (cert-ids entry '{GUN}')\n")
    # writing the exact entry fixes it
    code, _, _ = run_cli("pin", "apply", "--notary-config", str(config), "--from", str(path))
    code, out, _ = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", GUN, "--from", str(path)
    )
    assert (code, out) == (0, f"{GUN}: accepted (cert-ids entry '{GUN}')\n")
    assert cert_id in config.read_text()


# ---------------------------------------------------------------- check


def _daemon(tmp_path: Path, pinning: dict[str, Any]) -> Path:
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({"content-trust": {"mode": "enforced", "trust-pinning": pinning}}))
    return daemon


def test_check_daemon_json(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    path, cert_id, canonical = root_file
    daemon = _daemon(tmp_path, {"root-keys": {"registry.example.com/*": [canonical]}})
    code, out, _ = run_cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", GUN, "--from", str(path), "--json"
    )
    assert code == 0
    assert json.loads(out) == {
        "schema": 1,
        "gun": GUN,
        "accepted": True,
        "mechanism": "root-keys",
        "entry": "registry.example.com/*",
        "pinned_ids": [canonical],
        "ca_path": None,
        "root": {"source": str(path), "cert_ids": [cert_id], "canonical_ids": [canonical]},
        "problems": [],
    }
    # the certificate ID under root-keys is the classic mix-up: rejected
    daemon = _daemon(tmp_path, {"root-keys": {"registry.example.com/*": [cert_id]}})
    code, out, _ = run_cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", GUN, "--from", str(path)
    )
    assert code == 1
    assert "canonical key ID" in out and "is not pinned by root-keys entry" in out
    # cert-ids beat root-keys
    daemon = _daemon(
        tmp_path,
        {"root-keys": {"registry.example.com/*": [canonical]}, "cert-ids": {GUN: ["0" * 64]}},
    )
    code, out, _ = run_cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", GUN, "--from", str(path)
    )
    assert code == 1 and "(cert-ids entry" in out


def test_check_expired_and_tofu(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]
) -> None:
    path, cert_id, _ = root_file
    daemon = _daemon(tmp_path, {"cert-ids": {GUN: [cert_id]}})
    check = ("pin", "check", "--daemon-json", str(daemon), "--gun", GUN, "--from", str(path))
    assert run_cli(*check)[0] == 0
    code, out, _ = run_cli(*check, "--at", "2040-01-01T00:00:00Z")
    assert code == 1 and "is not valid at 2040-01-01" in out
    code, _, err = run_cli(*check, "--at", "yesterday")
    assert code == 2 and "--at 'yesterday': not an ISO 8601 time" in err
    other = tmp_path / "other.json"
    other.write_bytes(notary_root("other.example/x")[0])
    code, out, err = run_cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", "other.example/x",
        "--from", str(other),
    )  # fmt: skip
    assert (code, out) == (0, "other.example/x: accepted (tofu)\n")
    assert "no pin applies; trust on first use accepts any root" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give exactly one of --daemon-json PATH or --notary-config PATH"),
        (["--daemon-json", "a", "--notary-config", "b"], "give exactly one of"),
        (["--daemon-json", "{missing}"], "no such file"),
    ],
)
def test_check_usage_errors(
    run_cli: RunCli,
    tmp_path: Path,
    root_file: tuple[Path, str, str],
    extra: list[str],
    message: str,
) -> None:
    argv = [a.replace("{missing}", str(tmp_path / "nope.json")) for a in extra]
    code, _, err = run_cli("pin", "check", *argv, "--gun", GUN, "--from", str(root_file[0]))
    assert code == 2 and message in err


# ---------------------------------------------------------------- notary cert / ids


def test_notary_cert_and_ids(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "a-passphrase-1")
    home = ["--home", str(tmp_path / "home")]
    code, out, _ = run_cli(
        *home, "key", "generate", "--type", "ecdsa-p256", "--name", "r", "--json"
    )
    canonical = json.loads(out)["key"]["notary_canonical_id"]
    code, out, err = run_cli(*home, "notary", "cert", "r", "--gun", GUN)
    assert code == 0
    assert out.startswith("-----BEGIN CERTIFICATE-----\n")
    assert f"canonical ID:   {canonical}\n" in err
    cert = tmp_path / "root.crt"
    code, out, _ = run_cli(
        *home, "notary", "cert", "r", "--gun", GUN, "--days", "30", "--out", str(cert), "--json"
    )
    doc = json.loads(out)
    assert doc["canonical_id"] == canonical and doc["path"] == str(cert)
    assert cert.read_text() == doc["pem"]
    code, out, _ = run_cli(*home, "notary", "ids", str(cert), "--json")
    assert json.loads(out)["repositories"] == [
        {
            "gun": GUN,
            "cert_ids": [doc["cert_id"]],
            "canonical_ids": [canonical],
            "source": str(cert),
        }
    ]
    code, out, _ = run_cli(*home, "notary", "ids", "r", "--gun", "x.example/*")
    assert (code, out) == (0, f"x.example/*\n  canonical ID    {canonical}\n")
    code, _, err = run_cli(*home, "notary", "ids", "r")
    assert code == 2 and "a key pins nothing by itself: give --gun GUN" in err
    code, _, err = run_cli(
        *home, "pin", "export", "--format", "notary", "--from", "r", "--gun", GUN
    )
    assert code == 2 and "Notary pins certificates, not keys" in err
    assert "hint: create the certificate with `trustkeep notary cert KEY --gun GUN`" in err


def test_notary_cert_refusals(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "a-passphrase-1")
    home = ["--home", str(tmp_path / "home")]
    run_cli(*home, "key", "generate", "--type", "ed25519", "--name", "ed")
    run_cli(*home, "key", "generate", "--type", "ecdsa-p256", "--name", "ec")
    code, out, err = run_cli(*home, "notary", "cert", "ed", "--gun", GUN)
    assert (code, out) == (2, "") and "is ed25519: use an ECDSA P-256 key" in err
    code, _, err = run_cli(*home, "notary", "cert", "ec", "--gun", GUN, "--days", "0")
    assert code == 2 and "--days 0: must be between 1 and 36500" in err
    code, _, err = run_cli(*home, "notary", "cert", "ec", "--gun", "bad gun")
    assert code == 2 and "whitespace" in err
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "wrong-passphrase")
    code, _, err = run_cli(
        *home, "notary", "cert", "ec", "--gun", GUN, "--out", str(tmp_path / "c.pem")
    )
    assert code == 3 and "wrong passphrase" in err and "wrong-passphrase" not in err
    assert not (tmp_path / "c.pem").exists()


def test_export_tuf_chain_variants(run_cli: RunCli, tmp_path: Path) -> None:
    first, second = _tuf_root_chain(tmp_path / "md")
    # root.json beside the versioned files: the newest wins once verified
    (tmp_path / "md" / "root.json").write_bytes(second)
    code, out, _ = run_cli("pin", "export", "--format", "tuf", "--from", str(tmp_path / "md"))
    assert (code, out.encode()) == (0, second)
    # only root.json: trusted by its own signatures
    only = tmp_path / "only"
    only.mkdir()
    (only / "root.json").write_bytes(first)
    code, out, _ = run_cli("pin", "export", "--format", "tuf", "--from", str(only))
    assert (code, out.encode()) == (0, first)
    # a gap in the versions is refused
    (tmp_path / "md" / "root.json").unlink()
    (tmp_path / "md" / "2.root.json").rename(tmp_path / "md" / "3.root.json")
    code, _, err = run_cli("pin", "export", "--format", "tuf", "--from", str(tmp_path / "md"))
    assert (
        code == 1 and "root chain does not verify: root v3 (3.root.json) is present but v2" in err
    )


def test_hostile_inputs(run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    code, _, err = run_cli("pin", "export", "--from", str(deep))
    assert code == 2 and "Traceback" not in err
    code, _, err = run_cli("pin", "apply", "--daemon-json", str(deep), "--from", str(root_file[0]))
    assert code == 2 and "nested too deeply" in err
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    code, _, err = run_cli("pin", "export", "--from", str(empty_dir))
    assert code == 2 and "no root.json or N.root.json" in err
