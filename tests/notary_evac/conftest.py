"""Real Notary repositories to evacuate, published once per session by the real client.

``evac`` (plain HTTP): GUN_A with files as targets, a ``targets/releases`` delegation and
a root rotation; GUN_B with one target and ``targets/ops`` for the path prefix ``ops/``.
``evac_https``: a notary-server on HTTPS with a certificate from a test CA.
``evac_token``: a notary-server with ``auth: token`` and the test suite's token service;
GUN_PUBLIC is pullable anonymously, GUN_PRIVATE only by alice.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from evac_support import TestCA, token_service
from evac_world import (
    GUN_A,
    GUN_B,
    GUN_PRIVATE,
    GUN_PUBLIC,
    EvacWorld,
    HttpsWorld,
    TokenWorld,
    publish_a,
    root_key_file,
    target,
)
from notary_env import PASSPHRASES, NotaryClient, NotaryServer, have_notary, notary_server


@pytest.fixture(scope="session")
def evac(notary: NotaryServer, tmp_path_factory: pytest.TempPathFactory) -> EvacWorld:
    work = tmp_path_factory.mktemp("evac")
    files = work / "files"
    files.mkdir()
    client = NotaryClient(notary, work / "trust")
    before, releases_key, keyid = publish_a(client, work, files)
    client.run("add", "-p", GUN_B, "tool", str(target(files, "tool", "tool 1\n")))
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
    deploy = target(files, "ops/deploy.sh", "echo deploy\n")
    client.run("add", "-p", GUN_B, "ops/deploy.sh", str(deploy), "--roles", "targets/ops")
    return EvacWorld(
        notary, client, work, files, before, releases_key, keyid, root_key_file(client, GUN_A)
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


@pytest.fixture(scope="module")  # its token service is a thread: gone after the module
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
