"""Byte mutations of served metadata: trustkeep and python-tuf's ``Updater`` give one verdict.

Each example edits one byte (replace, delete, insert) of one file the repository
serves, then runs both clients from a fresh metadata directory (``Clients.both``
asserts the same verdict and the same trusted versions on disk).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from client_support import Clients
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulator import Repository, Server
from verify.tufrepo import mutate_bytes

FILES = ["2.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json", "1.A.json"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    repo = Repository.create()
    repo.delegate("targets", "A")
    repo.add_target("A", b"data", "file")
    repo.bump_root()
    repo.publish_all()
    repo.md["snapshot"].signed.version = 1
    repo.md["timestamp"].signed.version = 1
    repo.publish_snapshot()  # snapshot v1 and timestamp v1 listing the roles above
    server = Server(repo)
    yield repo, server, tmp_path_factory
    server.close()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_one_byte_edit_gives_the_same_verdict(served, data) -> None:  # type: ignore[no-untyped-def]
    repo, server, factory = served
    name = data.draw(st.sampled_from(FILES))
    original = repo.metadata(name)
    assert original is not None
    repo.raw[name] = mutate_bytes(data, original)
    try:
        clients = Clients(Path(factory.mktemp("fuzz")), repo, server)
        clients.both("file")
    finally:
        del repo.raw[name]


def test_the_unedited_repository_is_accepted(served) -> None:  # type: ignore[no-untyped-def]
    repo, server, factory = served
    out = Clients(Path(factory.mktemp("plain")), repo, server).both("file")
    assert out.ok and out.versions["A.json"] == 1 and out.versions["root.json"] == 2
