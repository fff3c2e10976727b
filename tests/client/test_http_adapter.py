"""The HTTP adapter: verbatim URLs, one request per fetch, bounded bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simulator import ENDLESS, Repository, Server

from trustkeep.adapters.http import Fetcher, FetchError, HTTPStatusError, TooLarge, join_url


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(read_timeout=0.3)
    yield f
    f.close()


@pytest.mark.parametrize(
    "tail",
    ["a%2fb/../c%5B1%5D/x.json", "./x/%2E%2E/y.json", "q%3Fr%23s.json", "caf%C3%A9.json"],
)
def test_url_is_sent_verbatim(server: Server, fetcher: Fetcher, tail: str) -> None:
    with pytest.raises(HTTPStatusError) as e:
        fetcher.fetch(join_url(server.url + "/base%20dir/", tail), limit=100)
    assert e.value.status == 404
    # urllib3 writes percent-escapes in upper case; nothing is decoded or resolved
    assert server.requests == [f"/base%20dir/{tail}".replace("%2f", "%2F")]


def test_join_url_adds_one_slash() -> None:
    assert join_url("http://h/m", "1.root.json") == "http://h/m/1.root.json"
    assert join_url("http://h/m/", "1.root.json") == "http://h/m/1.root.json"


def test_body_limit_and_endless_data(repo: Repository, server: Server, fetcher: Fetcher) -> None:
    repo.raw["small.json"] = b"x" * 100
    repo.raw["endless.json"] = ENDLESS
    assert fetcher.fetch(f"{server.metadata_url}/small.json", limit=100) == b"x" * 100
    with pytest.raises(TooLarge):
        fetcher.fetch(f"{server.metadata_url}/small.json", limit=99)
    with pytest.raises(TooLarge):
        fetcher.fetch(f"{server.metadata_url}/endless.json", limit=1_000_000)
    assert len(server.requests) == 3  # no retries


def test_not_http_is_refused(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not an http"):
        fetcher.fetch("file:///etc/passwd", limit=10)


def test_a_silent_server_times_out(fetcher: Fetcher) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        port = listener.getsockname()[1]
        with pytest.raises(FetchError, match="timed out") as e:
            fetcher.fetch(f"http://127.0.0.1:{port}/timestamp.json", limit=10)
    assert e.value.exit_code == 3
    assert str(e.value).startswith(f"http://127.0.0.1:{port}/timestamp.json: ")
