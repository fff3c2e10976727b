"""Real Notary repositories to evacuate, published once per session by the real client.

``evac`` (plain HTTP): GUN_A with files as targets, a ``targets/releases`` delegation and
a root rotation; GUN_B with one target. ``evac_https``: a notary-server on HTTPS with a
certificate from a test CA. ``evac_token``: a notary-server with ``auth: token`` and the
test suite's token service; GUN_PUBLIC is pullable anonymously, GUN_PRIVATE only by alice.
"""

from __future__ import annotations

import base64
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))

from evac_support import TestCA, TokenService, token_service
from notary_env import PASSPHRASES, NotaryClient, NotaryServer, have_notary, notary_server
from verify_support import _self_signed

from trustkeep.core.keyids import notary_canonical_id

GUN_A = "example.com/evac/app"
GUN_B = "example.com/evac/tools"
GUN_PUBLIC = "example.com/evac/public"
GUN_PRIVATE = "example.com/evac/private"


@dataclass(frozen=True)
class EvacWorld:
    server: NotaryServer
    client: NotaryClient
    work: Path
    files: Path  # target files by target name (v1, v2, tool)
    before_rotation: Path  # a trust dir copy holding GUN_A's cache before the root rotation
    releases_key: Path  # unencrypted PKCS#8 of the targets/releases key
    releases_keyid: str  # its Notary key ID in GUN_A's targets delegations
    root_key_file: Path  # GUN_A's current Notary root key file (encrypted, in the trust dir)


@dataclass(frozen=True)
class HttpsWorld:
    server: NotaryServer
    ca: TestCA
    gun: str


@dataclass(frozen=True)
class TokenWorld:
    server: NotaryServer
    tokens: TokenService


def _target(files: Path, name: str, text: str) -> Path:
    path = files / name
    path.write_text(text)
    return path


def _publish_a(client: NotaryClient, work: Path, files: Path) -> tuple[Path, Path, str]:
    client.run("init", GUN_A)
    client.run("publish", GUN_A)
    client.run("init", GUN_B)  # before the rotation: GUN_B keeps GUN_A's first root key
    client.run("publish", GUN_B)
    client.run("add", "-p", GUN_A, "v1", str(_target(files, "v1", "app v1\n")))
    key = ec.generate_private_key(ec.SECP256R1())
    (work / "releases.pem").write_bytes(
        _self_signed("releases", key).public_bytes(serialization.Encoding.PEM)
    )
    releases_key = work / "releases.key"
    releases_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    client.run(
        "delegation",
        "add",
        "-p",
        GUN_A,
        "targets/releases",
        str(work / "releases.pem"),
        "--all-paths",
    )
    client.run("key", "import", str(releases_key), "--role", "targets/releases")
    v2 = _target(files, "v2", "app v2\n")
    client.run("add", "-p", GUN_A, "v2", str(v2), "--roles", "targets/releases")
    before = work / "before-rotation"
    shutil.copytree(client.trust_dir / "tuf", before / "tuf")
    client.run("key", "rotate", GUN_A, "root", stdin="yes\n")
    client.run("list", GUN_A)
    targets = json.loads(
        (client.trust_dir / "tuf" / GUN_A / "metadata" / "targets.json").read_text()
    )
    keyid = targets["signed"]["delegations"]["roles"][0]["keyids"][0]
    return before, releases_key, keyid


def _root_key_file(client: NotaryClient, gun: str) -> Path:
    root = json.loads((client.trust_dir / "tuf" / gun / "metadata" / "root.json").read_text())
    keyid = root["signed"]["roles"]["root"]["keyids"][0]
    pem = base64.b64decode(root["signed"]["keys"][keyid]["keyval"]["public"])
    canonical = notary_canonical_id(x509.load_pem_x509_certificate(pem).public_key())  # type: ignore[arg-type]
    path = client.trust_dir / "private" / f"{canonical}.key"
    assert path.is_file(), f"no private key file for root {canonical}"
    return path


@pytest.fixture(scope="session")
def evac(notary: NotaryServer, tmp_path_factory: pytest.TempPathFactory) -> EvacWorld:
    work = tmp_path_factory.mktemp("evac")
    files = work / "files"
    files.mkdir()
    client = NotaryClient(notary, work / "trust")
    before, releases_key, keyid = _publish_a(client, work, files)
    client.run("add", "-p", GUN_B, "tool", str(_target(files, "tool", "tool 1\n")))
    # a delegation limited to a path prefix (the releases key, already imported)
    client.run(
        "delegation",
        "add",
        "-p",
        GUN_B,
        "targets/ops",
        str(work / "releases.pem"),
        "--paths",
        "ops/",
    )
    (files / "ops").mkdir()
    deploy = _target(files, "ops/deploy.sh", "echo deploy\n")
    client.run("add", "-p", GUN_B, "ops/deploy.sh", str(deploy), "--roles", "targets/ops")
    return EvacWorld(
        notary, client, work, files, before, releases_key, keyid, _root_key_file(client, GUN_A)
    )


def _need_notary() -> None:
    if not have_notary():
        pytest.skip("notary binaries not installed (run tests/run.sh)")


@pytest.fixture(scope="session")
def evac_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsWorld]:
    _need_notary()
    work = tmp_path_factory.mktemp("evac-https")
    ca = TestCA.create(work / "pki")
    with notary_server(work / "server", tls=(ca.server_cert, ca.server_key)) as server:
        client = NotaryClient(server, work / "trust")
        gun = "example.com/evac/secure"
        client.run("--tlscacert", str(ca.ca_pem), "init", gun)
        client.run("--tlscacert", str(ca.ca_pem), "publish", gun)
        yield HttpsWorld(server, ca, gun)


@pytest.fixture(scope="session")
def evac_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenWorld]:
    _need_notary()
    work = tmp_path_factory.mktemp("evac-token")
    ca = TestCA.create(work / "pki")
    with (
        token_service(ca, public={GUN_PUBLIC}) as tokens,
        notary_server(work / "server", extra=tokens.auth_config()) as server,
    ):
        login = base64.b64encode(f"{tokens.user}:{tokens.password}".encode()).decode()
        client = NotaryClient(server, work / "trust", {**PASSPHRASES, "NOTARY_AUTH": login})
        for gun in (GUN_PUBLIC, GUN_PRIVATE):
            client.run("init", gun)
            client.run("publish", gun)
        tokens.requests.clear()
        yield TokenWorld(server, tokens)
