"""Pins against the real Notary client and server: the client is the oracle.

Repositories are created with the real ``notary`` binary: two GUNs sharing one root
key, one with its own key, one whose root was rotated. A FRESH client (new trust
dir, nothing cached) configured with what trustkeep exports must accept exactly
what ``trustkeep pin check`` accepts.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from notary_env import NotaryClient, NotaryServer
from pin_certs import CODE_SIGNING, SERVER_AUTH, make_cert

from trustkeep.core.keyids import notary_canonical_id
from trustkeep.core.pem_keys import dump_notary_pem

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("pins-notary")]

RunCli = Callable[..., tuple[int, str, str]]


@dataclass(frozen=True)
class World:
    server: NotaryServer
    base: Path
    prefix: str  # "pins.example/<random>/"
    shared: Path  # trust dir: one + two share a root key
    own: Path  # trust dir: "own" with its own root key
    rot: Path  # trust dir: "rot", root rotated (cache updated)
    pre_rotation_root: Path

    def gun(self, name: str) -> str:
        return self.prefix + name

    def fresh_list(self, gun: str, config: Path) -> tuple[int, str]:
        """``notary list GUN`` from a new, empty trust dir with ``-c config``."""
        fresh = self.base / f"fresh-{uuid.uuid4().hex[:8]}"
        proc = NotaryClient(self.server, fresh).run("list", gun, config=config, check=False)
        shutil.rmtree(fresh, ignore_errors=True)
        return proc.returncode, proc.stdout + proc.stderr


def _root_json(trust_dir: Path, gun: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (trust_dir / "tuf" / gun / "metadata" / "root.json").read_text()
    )
    return doc


def _notary_root_key_ids(client: NotaryClient) -> set[str]:
    out = client.run("key", "list", with_server=False).stdout
    return set(re.findall(r"^root\s+([0-9a-f]{64})\s", out, flags=re.M))


@pytest.fixture(scope="module")
def world(notary: NotaryServer, tmp_path_factory: pytest.TempPathFactory) -> World:
    base = tmp_path_factory.mktemp("pins-interop")
    prefix = f"pins.example/{uuid.uuid4().hex[:8]}/"
    w = World(
        server=notary,
        base=base,
        prefix=prefix,
        shared=base / "shared",
        own=base / "own",
        rot=base / "rot",
        pre_rotation_root=base / "pre-rotation-root.json",
    )
    shared = NotaryClient(notary, w.shared)
    shared.run("init", w.gun("one"), "-p")
    shared.run("init", w.gun("two"), "-p")  # notary reuses the root key in the trust dir
    NotaryClient(notary, w.own).run("init", w.gun("own"), "-p")
    rot = NotaryClient(notary, w.rot)
    rot.run("init", w.gun("rot"), "-p")
    shutil.copy(w.rot / "tuf" / w.gun("rot") / "metadata" / "root.json", w.pre_rotation_root)
    rot.run("key", "rotate", w.gun("rot"), "root", stdin="yes\n")
    rot.run("list", w.gun("rot"))  # refresh the cached root
    return w


def _export(run_cli: RunCli, out: Path, *args: str) -> dict[str, Any]:
    code, stdout, err = run_cli("pin", "export", *args)
    assert code == 0, err
    out.write_text(stdout)
    doc: dict[str, Any] = json.loads(stdout)
    return doc


def test_ids_equal_what_notary_reports(world: World, run_cli: RunCli) -> None:
    code, out, err = run_cli(
        "notary", "ids", str(world.shared), str(world.own), str(world.rot), "--json"
    )
    assert code == 0, err
    repos = {r["gun"]: r for r in json.loads(out)["repositories"]}
    assert set(repos) == {world.gun(n) for n in ("one", "two", "own", "rot")}
    for name, trust_dir in (("one", world.shared), ("two", world.shared), ("own", world.own)):
        gun = world.gun(name)
        root_keyids = _root_json(trust_dir, gun)["signed"]["roles"]["root"]["keyids"]
        assert repos[gun]["cert_ids"] == root_keyids
        notary_ids = _notary_root_key_ids(NotaryClient(world.server, trust_dir))
        assert set(repos[gun]["canonical_ids"]) == notary_ids
    one, two, own = (repos[world.gun(n)] for n in ("one", "two", "own"))
    assert one["canonical_ids"] == two["canonical_ids"]  # one root key ...
    assert one["cert_ids"] != two["cert_ids"]  # ... two certificates (CN = GUN)
    assert own["canonical_ids"] != one["canonical_ids"]
    # after rotation: the new certificate, and the new key among notary's root keys
    rot = repos[world.gun("rot")]
    assert (
        rot["cert_ids"]
        == _root_json(world.rot, world.gun("rot"))["signed"]["roles"]["root"]["keyids"]
    )
    assert set(rot["canonical_ids"]) < _notary_root_key_ids(NotaryClient(world.server, world.rot))


def test_fresh_client_accepts_exported_notary_pins(
    world: World, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    doc = _export(
        run_cli, config, "--format", "notary", "--from", str(world.shared), "--from", str(world.own)
    )
    assert doc["trust_pinning"]["disable_tofu"] is True
    assert set(doc["trust_pinning"]["certs"]) == {world.gun(n) for n in ("one", "two", "own")}
    for name in ("one", "two", "own"):
        code, output = world.fresh_list(world.gun(name), config)
        assert code == 0, output
        code, out, err = run_cli(
            "pin", "check", "--notary-config", str(config), "--gun", world.gun(name),
            "--from", str(world.shared if name != "own" else world.own), "--json",
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out)["mechanism"] == "cert-ids"
    # a repository no pin covers: TOFU is disabled, so the client refuses, and so do we
    code, output = world.fresh_list(world.gun("rot"), config)
    assert code == 1 and "invalid trust pinning specified" in output
    code, out, _ = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", world.gun("rot"),
        "--from", str(world.rot),
    )  # fmt: skip
    assert code == 1
    assert "no pin applies and trust on first use is disabled" in out


def test_pin_for_the_wrong_repository_is_rejected(
    world: World, run_cli: RunCli, tmp_path: Path
) -> None:
    """two's certificate pinned for one (same root key!): client and pin check reject."""
    two_ids = _export(
        run_cli, tmp_path / "two.json", "--format", "notary", "--from",
        str(world.shared / "tuf" / world.gun("two") / "metadata" / "root.json"),
    )["trust_pinning"]["certs"][world.gun("two")]  # fmt: skip
    config = tmp_path / "wrong.json"
    config.write_text(
        json.dumps({"trust_pinning": {"certs": {world.gun("one"): two_ids}, "disable_tofu": True}})
    )
    code, output = world.fresh_list(world.gun("one"), config)
    assert code == 1 and "unable to match any certificates" in output
    code, out, err = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", world.gun("one"),
        "--from", str(world.shared),
    )  # fmt: skip
    assert code == 1, err
    assert out.startswith(f"{world.gun('one')}: REJECTED (cert-ids entry '{world.gun('one')}')")
    # the canonical ID of the shared key does not satisfy a certs pin either
    code, out, _ = run_cli("notary", "ids", str(world.shared), "--json")
    canonical = json.loads(out)["repositories"][0]["canonical_ids"]
    config.write_text(
        json.dumps(
            {"trust_pinning": {"certs": {world.gun("one"): canonical}, "disable_tofu": True}}
        )
    )
    assert world.fresh_list(world.gun("one"), config)[0] == 1
    code, _, _ = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", world.gun("one"),
        "--from", str(world.shared),
    )  # fmt: skip
    assert code == 1


def test_pre_rotation_certificate_is_rejected(
    world: World, run_cli: RunCli, tmp_path: Path
) -> None:
    pre = tmp_path / "pre.json"
    post = tmp_path / "post.json"
    _export(run_cli, pre, "--format", "notary", "--from", str(world.pre_rotation_root))
    _export(run_cli, post, "--format", "notary", "--from", str(world.rot))
    gun = world.gun("rot")
    code, output = world.fresh_list(gun, pre)
    assert code == 1 and "unable to match any certificates" in output
    assert world.fresh_list(gun, post)[0] == 0
    check = ("pin", "check", "--gun", gun, "--from", str(world.rot))
    assert run_cli(*check, "--notary-config", str(pre))[0] == 1
    assert run_cli(*check, "--notary-config", str(post))[0] == 0


def test_wildcard_pins(world: World, run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "wild.json"
    glob = world.prefix + "*"
    doc = _export(run_cli, config, "--format", "notary", "--from", str(world.shared), "--gun", glob)
    assert list(doc["trust_pinning"]["certs"]) == [glob]
    assert len(doc["trust_pinning"]["certs"][glob]) == 2
    for name in ("one", "two"):
        assert world.fresh_list(world.gun(name), config)[0] == 0
        code, out, _ = run_cli(
            "pin", "check", "--notary-config", str(config), "--gun", world.gun(name),
            "--from", str(world.shared), "--json",
        )  # fmt: skip
        assert code == 0
        assert json.loads(out)["mechanism"] == "cert-ids-wildcard"
    # own is under the prefix too but its certificate is not in the wildcard entry
    assert world.fresh_list(world.gun("own"), config)[0] == 1
    assert (
        run_cli(
            "pin",
            "check",
            "--notary-config",
            str(config),
            "--gun",
            world.gun("own"),
            "--from",
            str(world.own),
        )[0]
        == 1
    )
    # Docker: the glob pins the canonical ID of the shared root key
    code, out, _ = run_cli("pin", "export", "--from", str(world.shared), "--gun", glob)
    assert code == 0
    shared_keys = _notary_root_key_ids(NotaryClient(world.server, world.shared))
    assert json.loads(out)["content-trust"]["trust-pinning"] == {
        "root-keys": {glob: sorted(shared_keys)}
    }


def test_certs_key_without_star_is_ignored(world: World, run_cli: RunCli, tmp_path: Path) -> None:
    """A certs key without '*' is silently ignored by the client (TOFU): we say so."""
    config = tmp_path / "nostar.json"
    config.write_text(json.dumps({"trust_pinning": {"certs": {world.prefix: ["0" * 64]}}}))
    assert world.fresh_list(world.gun("one"), config)[0] == 0  # TOFU accepted it
    code, out, err = run_cli(
        "pin", "check", "--notary-config", str(config), "--gun", world.gun("one"),
        "--from", str(world.shared), "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["mechanism"] == "tofu"
    assert "no pin applies; trust on first use accepts any root" in err
    # apply warns about that key, and about the root cached in the given trust dir
    code, _, err = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(world.shared),
        "--gun", world.gun("one"), "--trust-dir", str(world.shared),
    )  # fmt: skip
    assert code == 0, err
    assert f"certs key '{world.prefix}' has no '*'" in err
    cached = world.shared / "tuf" / world.gun("one") / "metadata" / "root.json"
    assert f"{world.gun('one')}: {cached} is cached" in err
    assert world.fresh_list(world.gun("one"), config)[0] == 0


def test_apply_into_an_existing_notary_config(
    world: World, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    head = f'{{\n  "remote_server": {{"url": "{world.server.url}"}},\n  "trust_pinning": {{'
    original = head + '"disable_tofu": true}\n}\n'
    config.write_text(original)
    assert world.fresh_list(world.gun("own"), config)[0] == 1  # no pin, TOFU off
    code, out, _ = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(world.own), "--dry-run"
    )
    assert code == 0 and out.startswith(f"--- {config}\n+++ {config}\n")
    assert config.read_text() == original
    code, out, err = run_cli(
        "pin", "apply", "--notary-config", str(config), "--from", str(world.own)
    )
    assert code == 0, err
    assert out == f"updated {config} (previous version in {config}.bak)\n"
    assert (tmp_path / "config.json.bak").read_text() == original
    text = config.read_text()
    assert text.startswith(head)
    assert world.fresh_list(world.gun("own"), config)[0] == 0


def test_notary_cert_makes_a_trustkeep_key_the_root(
    world: World, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins computed before publication; then `notary init --rootkey --rootcert`."""
    home = tmp_path / "home"
    # the exported key file is read by notary with NOTARY_ROOT_PASSPHRASE
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "root-pass-123")
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "root-pass-123")
    code, out, err = run_cli(
        "--home", str(home), "key", "generate", "--type", "ecdsa-p256", "--name", "root1", "--json"
    )
    assert code == 0, err
    canonical = json.loads(out)["key"]["notary_canonical_id"]
    key_pem, cert_pem = tmp_path / "root.key", tmp_path / "root.crt"
    code, _, err = run_cli(
        "--home", str(home), "key", "export", "root1", "--format", "notary", "-o", str(key_pem)
    )
    assert code == 0, err
    gun = world.gun("tk")
    code, out, err = run_cli(
        "--home", str(home), "notary", "cert", "root1", "--gun", gun, "--out", str(cert_pem),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    cert_doc = json.loads(out)
    assert cert_doc["canonical_id"] == canonical
    # pins before the repository exists: Notary (certificate) and Docker (key)
    notary_pins = tmp_path / "notary.json"
    _export(run_cli, notary_pins, "--format", "notary", "--from", str(cert_pem))
    code, out, _ = run_cli("--home", str(home), "pin", "export", "--from", "root1", "--gun", gun)
    assert json.loads(out)["content-trust"]["trust-pinning"]["root-keys"] == {gun: [canonical]}
    # now create the repository with the real client
    trust = tmp_path / "trust"
    client = NotaryClient(world.server, trust)
    client.run("init", gun, "--rootkey", str(key_pem), "--rootcert", str(cert_pem), "-p")
    root = _root_json(trust, gun)["signed"]
    assert root["roles"]["root"]["keyids"] == [cert_doc["cert_id"]]
    assert _notary_root_key_ids(client) == {canonical}
    assert world.fresh_list(gun, notary_pins)[0] == 0
    # the certificate notary made itself has the same extensions as ours
    own_root = _root_json(world.own, world.gun("own"))["signed"]
    keyid = own_root["roles"]["root"]["keyids"][0]
    theirs = x509.load_pem_x509_certificate(
        base64.b64decode(own_root["keys"][keyid]["keyval"]["public"])
    )
    ours = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    assert [(e.oid, e.critical, e.value) for e in ours.extensions] == [
        (e.oid, e.critical, e.value) for e in theirs.extensions
    ]
    assert theirs.signature_algorithm_oid == ours.signature_algorithm_oid
    assert (theirs.not_valid_after_utc - theirs.not_valid_before_utc) == (
        ours.not_valid_after_utc - ours.not_valid_before_utc
    )


def test_ca_pinning_matches_the_client(world: World, run_cli: RunCli, tmp_path: Path) -> None:
    """A CA-issued root: serverAuth leaf passes CA pinning; codeSigning-only fails (observed)."""
    ca_cert, ca_key = make_cert("Pins Test CA", ca=True, days=3650)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(Encoding.PEM))
    results = {}
    for label, eku in (("srv", SERVER_AUTH), ("code", CODE_SIGNING)):
        gun = world.gun(f"ca-{label}")
        private = ec.generate_private_key(ec.SECP256R1())
        canonical = notary_canonical_id(private.public_key())
        assert canonical is not None
        key_file = tmp_path / f"{label}.key"
        key_file.write_bytes(
            dump_notary_pem(private, b"root-pass-123", role="root", gun=None, keyid=canonical)
        )
        leaf, _ = make_cert(gun, key=private, issuer=(ca_cert, ca_key), eku=eku, days=3650)
        cert_file = tmp_path / f"{label}.crt"
        cert_file.write_bytes(leaf.public_bytes(Encoding.PEM))
        trust = tmp_path / f"trust-{label}"
        client = NotaryClient(world.server, trust)
        client.run("init", gun, "--rootkey", str(key_file), "--rootcert", str(cert_file), "-p")
        config = tmp_path / f"ca-{label}.json"
        code, _, err = run_cli(
            "pin", "apply", "--notary-config", str(config), "--from", str(trust),
            "--gun", gun, "--ca", f"{world.prefix}ca-={ca_file}",
        )  # fmt: skip
        assert code == 0, err
        client_code = world.fresh_list(gun, config)[0]
        tk_code, out, _ = run_cli(
            "pin", "check", "--notary-config", str(config), "--gun", gun, "--from", str(trust),
            "--json",
        )  # fmt: skip
        doc = json.loads(out)
        assert (doc["mechanism"], doc["entry"]) == ("cert-ids", gun)  # apply pinned the cert
        config.write_text(
            json.dumps(
                {
                    "trust_pinning": {
                        "ca": {world.prefix + "ca-": str(ca_file)},
                        "disable_tofu": True,
                    }
                }
            )
        )
        client_code = world.fresh_list(gun, config)[0]
        tk_code, out, _ = run_cli(
            "pin", "check", "--notary-config", str(config), "--gun", gun, "--from", str(trust),
            "--json",
        )  # fmt: skip
        assert json.loads(out)["mechanism"] == "ca"
        results[label] = (client_code, tk_code)
    assert results == {"srv": (0, 0), "code": (1, 1)}


def test_daemon_json_from_a_trust_dir(world: World, run_cli: RunCli, tmp_path: Path) -> None:
    """Every GUN of a trust dir into a daemon.json; IDs are the ones notary reports."""
    daemon = tmp_path / "daemon.json"
    original = '{\n    "log-driver": "journald",\n    "live-restore": true\n}\n'
    daemon.write_text(original)
    code, out, err = run_cli(
        "pin", "apply", "--daemon-json", str(daemon), "--from", str(world.shared), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["created"] is False
    text = daemon.read_text()
    assert text.startswith('{\n    "log-driver": "journald",\n    "live-restore": true,\n    "con')
    pinning = json.loads(text)["content-trust"]["trust-pinning"]
    shared_keys = sorted(_notary_root_key_ids(NotaryClient(world.server, world.shared)))
    for name in ("one", "two"):
        gun = world.gun(name)
        assert pinning["root-keys"][gun] == shared_keys
        root_keyids = _root_json(world.shared, gun)["signed"]["roles"]["root"]["keyids"]
        assert pinning["cert-ids"][gun] == root_keyids
        # pin check from the client's metadata cache of that GUN agrees
        cache = world.shared / "tuf" / gun / "metadata"
        code, out, _ = run_cli(
            "pin", "check", "--daemon-json", str(daemon), "--gun", gun, "--from", str(cache)
        )
        assert (code, out) == (0, f"{gun}: accepted (cert-ids entry '{gun}')\n")
    # one's cache checked against two's pin: rejected
    code, out, _ = run_cli(
        "pin", "check", "--daemon-json", str(daemon), "--gun", world.gun("two"),
        "--from", str(world.shared / "tuf" / world.gun("one") / "metadata"),
    )  # fmt: skip
    assert code == 1
    assert "root certificate CN" in out


def test_cached_root_warning_follows_the_config_trust_dir(
    world: World, run_cli: RunCli, tmp_path: Path
) -> None:
    """A Notary config's relative trust_dir is resolved from the config's directory."""
    trust = tmp_path / "trust"
    shutil.copytree(world.own, trust)
    config = tmp_path / "config.json"
    config.write_text('{"trust_dir": "trust"}')
    code, _, err = run_cli("pin", "apply", "--notary-config", str(config), "--from", str(trust))
    assert code == 0
    cached = trust / "tuf" / world.gun("own") / "metadata" / "root.json"
    assert f"{world.gun('own')}: {cached} is cached" in err
    # and the client indeed ignores a (wrong) pin while that root is cached
    config.write_text(
        json.dumps(
            {"trust_dir": "trust", "trust_pinning": {"certs": {world.gun("own"): ["0" * 64]}}}
        )
    )
    proc = NotaryClient(world.server, trust).run(
        "list", world.gun("own"), config=config, check=False
    )
    assert proc.returncode == 0, proc.stderr
