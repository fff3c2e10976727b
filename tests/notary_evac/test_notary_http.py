"""The Notary HTTP adapter against a small local server: limits, challenges, refusals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trustkeep.adapters.notary_http import Challenge, NetworkError, NotaryHTTP, parse_challenge
from trustkeep.errors import InputError

Answer = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def serve(answer: Answer) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            answer(self)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that stops reading early (size limit) is expected here

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _reply(status: int, body: bytes, **headers: str) -> Answer:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        if "Content_Length" not in headers and "Transfer_Encoding" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if headers.get("Transfer_Encoding") == "chunked":
            h.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        else:
            h.wfile.write(body)

    return answer


CHALLENGES = {
    "docker-hub": (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"',
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/alpine:pull",
            },
        ),
    ),
    "basic": ('Basic realm="notary"', Challenge("basic", {"realm": "notary"})),
    "spaces-and-escapes": (
        'Bearer  realm = "https://a/t" , scope="x:\\"y\\":pull"',
        Challenge("bearer", {"realm": "https://a/t", "scope": 'x:"y":pull'}),
    ),
    "garbage": ("Bearer realm", None),
    "empty": ("", None),
}


@pytest.mark.parametrize(("header", "expected"), CHALLENGES.values(), ids=CHALLENGES.keys())
def test_parse_challenge(header: str, expected: Challenge | None) -> None:
    assert parse_challenge(header) == expected


def test_bodies_over_the_limit_are_refused() -> None:
    with serve(_reply(200, b"x" * 2000)) as url:
        http = NotaryHTTP(url)
        assert http.get("v2/g/_trust/tuf/root.json", limit=2000) == b"x" * 2000
        with pytest.raises(NetworkError, match="2000 bytes, more than the 1000 allowed"):
            http.get("v2/g/_trust/tuf/root.json", limit=1000)
    with (
        serve(_reply(200, b"y" * 3000, Transfer_Encoding="chunked")) as url,
        pytest.raises(NetworkError, match="more than the 1000 bytes allowed"),
    ):
        NotaryHTTP(url).get("v2/g/_trust/tuf/root.json", limit=1000)


def test_status_answers() -> None:
    with serve(_reply(404, b"{}")) as url:
        assert NotaryHTTP(url).get("v2/g/_trust/tuf/root.json", limit=100) is None
    with (
        serve(_reply(500, b"boom")) as url,
        pytest.raises(NetworkError, match="the server answered HTTP 500"),
    ):
        NotaryHTTP(url).get("v2/g/_trust/tuf/root.json", limit=100)
    with (
        serve(_reply(401, b"{}")) as url,
        pytest.raises(NetworkError, match=r"refused an anonymous client \(401\)"),
    ):
        NotaryHTTP(url).get("v2/g/_trust/tuf/root.json", limit=100)


def test_a_password_is_never_sent_to_a_plain_http_realm_elsewhere() -> None:
    asked: list[str] = []
    challenge = 'Bearer realm="http://192.0.2.1/token",service="s",scope="repository:g:pull"'
    with serve(_reply(401, b"{}", WWW_Authenticate=challenge)) as url:
        http = NotaryHTTP(url, username="alice", password=lambda name: asked.append(name) or "pw")
        with pytest.raises(NetworkError, match="not HTTPS: refusing to send a password"):
            http.get("v2/g/_trust/tuf/root.json", limit=100)
    assert asked == []  # not even asked for


def test_server_url_must_be_http_or_https() -> None:
    for bad in ("ftp://x", "notary.example.com", "https://x/?q=1"):
        with pytest.raises(InputError):
            NotaryHTTP(bad)
