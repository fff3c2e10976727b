"""Fixtures of the client tests: a simulated repository on 127.0.0.1 and two clients."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from client_support import Clients
from simulator import Repository, Server


@pytest.fixture
def repo() -> Repository:
    return Repository.create()


@pytest.fixture
def server(repo: Repository) -> Iterator[Server]:
    s = Server(repo)
    yield s
    s.close()


@pytest.fixture
def clients(tmp_path: Path, repo: Repository, server: Server) -> Clients:
    return Clients(tmp_path, repo, server)
