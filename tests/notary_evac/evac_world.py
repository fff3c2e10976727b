"""The repositories the evacuation tests pull: names, what the fixtures hand out, and the
real notary client's publishing steps (the fixtures themselves are in conftest.py)."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))

from evac_support import TestCA, TokenService
from notary_env import NotaryClient, NotaryServer
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


def target(files: Path, name: str, text: str) -> Path:
    path = files / name
    path.write_text(text)
    return path


def publish_a(client: NotaryClient, work: Path, files: Path) -> tuple[Path, Path, str]:
    client.run("init", GUN_A)
    client.run("publish", GUN_A)
    client.run("init", GUN_B)  # before the rotation: GUN_B keeps GUN_A's first root key
    client.run("publish", GUN_B)
    client.run("add", "-p", GUN_A, "v1", str(target(files, "v1", "app v1\n")))
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
    v2 = target(files, "v2", "app v2\n")
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


def root_key_file(client: NotaryClient, gun: str) -> Path:
    root = json.loads((client.trust_dir / "tuf" / gun / "metadata" / "root.json").read_text())
    keyid = root["signed"]["roles"]["root"]["keyids"][0]
    pem = base64.b64decode(root["signed"]["keys"][keyid]["keyval"]["public"])
    canonical = notary_canonical_id(x509.load_pem_x509_certificate(pem).public_key())  # type: ignore[arg-type]
    path = client.trust_dir / "private" / f"{canonical}.key"
    assert path.is_file(), f"no private key file for root {canonical}"
    return path
