"""Fixtures for tests/verify: generated TUF repositories and a real Notary repository."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).parent))

from notary_env import NotaryClient, NotaryServer

GUN = "example.com/acme/app"


@dataclass(frozen=True)
class NotaryRepo:
    """A repository published by the real notary client, with what notary itself reports."""

    client: NotaryClient
    gun: str
    trust_dir: Path
    metadata: Path  # <trust_dir>/tuf/<GUN>/metadata after rotation + list
    before_rotation: Path  # copy of the cache before `key rotate GUN root`
    early: Path  # copy of the cache after the first publish (older versions)
    cert_ids: tuple[str, ...]  # root role keyids of the final root.json
    root_key_ids: tuple[str, ...]  # `notary key list` root keys (canonical IDs)
    releases_key: ec.EllipticCurvePrivateKey
    workdir: Path


def _self_signed(cn: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def _copy_cache(client: NotaryClient, gun: str, dest: Path) -> Path:
    shutil.copytree(client.trust_dir / "tuf" / gun / "metadata", dest)
    return dest


@pytest.fixture(scope="session")
def notary_repo(
    notary: NotaryServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NotaryRepo]:
    work = tmp_path_factory.mktemp("verify-notary")
    client = NotaryClient(notary, work / "trust")
    client.run("init", GUN)
    client.run("publish", GUN)
    target = work / "hello.txt"
    target.write_text("hello\n")
    client.run("add", "-p", GUN, "v1", str(target))
    early = _copy_cache(client, GUN, work / "early")
    releases_key = ec.generate_private_key(ec.SECP256R1())
    cert = _self_signed("releases", releases_key)
    (work / "releases.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (work / "releases.key").write_bytes(
        releases_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    client.run(
        "delegation",
        "add",
        "-p",
        GUN,
        "targets/releases",
        str(work / "releases.pem"),
        "--all-paths",
    )
    client.run("key", "import", str(work / "releases.key"), "--role", "targets/releases")
    client.run("add", "-p", GUN, "v2", str(target), "--roles", "targets/releases")
    before = _copy_cache(client, GUN, work / "before-rotation")
    client.run("key", "rotate", GUN, "root", stdin="yes\n")
    client.run("list", GUN)
    metadata = client.trust_dir / "tuf" / GUN / "metadata"
    root = json.loads((metadata / "root.json").read_bytes())
    cert_ids = tuple(root["signed"]["roles"]["root"]["keyids"])
    listing = client.run("key", "list").stdout
    root_key_ids = tuple(
        line.split()[1] for line in listing.splitlines() if line.startswith("root ")
    )
    yield NotaryRepo(
        client,
        GUN,
        client.trust_dir,
        metadata,
        before,
        early,
        cert_ids,
        root_key_ids,
        releases_key,
        work,
    )
