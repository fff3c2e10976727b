"""``notary pull`` against hostile or wrong servers: one clear line, the right exit code,
nothing written, no traceback. The server is a small local one answering per path."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from test_notary_http import serve

from trustkeep.adapters.notary_http import NetworkError, NotaryHTTP

GUN = "registry.example.com/acme/app"
Files = dict[str, bytes]  # path after /_trust/tuf/ -> body


def _entry(body: bytes) -> dict[str, Any]:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return {"length": len(body), "hashes": {"sha256": digest}}


def _repo(snapshot_meta: dict[str, Any] | None = None, *, root_version: int = 1) -> Files:
    """Unsigned Notary-shaped files: pull fetches everything before it verifies."""
    root = json.dumps({"signed": {"_type": "Root", "version": root_version}, "signatures": []})
    files = {"root.json": root.encode()}
    if snapshot_meta is not None:
        snapshot = json.dumps({"signed": {"_type": "Snapshot", "meta": snapshot_meta}}).encode()
        files[f"snapshot.{hashlib.sha256(snapshot).hexdigest()}.json"] = snapshot
        ts = {"signed": {"_type": "Timestamp", "meta": {"snapshot": _entry(snapshot)}}}
        files["timestamp.json"] = json.dumps(ts).encode()
    return files


def _answer(files: Files, content_type: str = "application/json") -> Callable[[Any], None]:
    def answer(h: BaseHTTPRequestHandler) -> None:
        body = files.get(h.path.partition("/_trust/tuf/")[2])
        h.send_response(200 if body is not None else 404)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body or b"")))
        h.end_headers()
        h.wfile.write(body or b"")

    return answer


def _loop(h: BaseHTTPRequestHandler) -> None:
    """A token for every ask, and a 401 for every token."""
    port = h.server.server_address[1]
    if h.path.startswith("/token"):
        body = b'{"token": "t0ken"}'
        h.send_response(200)
    else:
        body = b""
        h.send_response(401)
        realm = (
            f'Bearer realm="http://127.0.0.1:{port}/token",service="s",scope="repository:g:pull"'
        )
        h.send_header("WWW-Authenticate", realm)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


ROLE = _entry(b"x")
HOSTILE: dict[str, tuple[Callable[[Any], None], int, str]] = {
    "web-page": (
        _answer({"root.json": b"<html>Welcome to nginx</html>"}, "text/html"),
        3,
        "root.json from the server is not JSON",
    ),
    "root-chain-of-10000": (
        _answer(_repo(root_version=10_000)),
        3,
        "the server's root is v10000: more than the 1000 root versions allowed",
    ),
    "role-name-traversal": (
        _answer(_repo({"targets/../../x": ROLE, "targets": ROLE})),
        3,
        "snapshot.json from the server lists a bad role name: role name 'targets/../../x'",
    ),
    "role-name-absolute": (
        _answer(_repo({"/etc/cron.d/x": ROLE})),
        3,
        "snapshot.json from the server lists a bad role name: role name '/etc/cron.d/x'",
    ),
    "100k-roles": (
        _answer(_repo({f"targets/r{i}": ROLE for i in range(100_000)})),
        3,
        "snapshot.json from the server lists 100000 roles, more than the 10001 roles allowed",
    ),
    "redirect-elsewhere": (
        lambda h: (
            h.send_response(302),
            h.send_header("Location", "http://192.0.2.1/v2/x"),
            h.send_header("Content-Length", "0"),
            h.end_headers(),
        ),
        3,
        "the server redirects (HTTP 302) to http://192.0.2.1/v2/x; trustkeep does not follow",
    ),
    "401-loop": (
        lambda h: _loop(h),
        3,
        "the server refused an anonymous client (401)",
    ),
    "token-realm-file": (
        lambda h: (
            h.send_response(401),
            h.send_header("WWW-Authenticate", 'Bearer realm="file:///etc/passwd",service="s"'),
            h.send_header("Content-Length", "0"),
            h.end_headers(),
        ),
        3,
        "the token realm 'file:///etc/passwd' is not an http(s) URL",
    ),
}


@pytest.mark.parametrize(("answer", "code", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_give_one_line_and_write_nothing(
    answer: Callable[[Any], None], code: int, message: str, run_cli: Any, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with serve(answer) as url:
        got, out, err = run_cli("notary", "pull", "--server", url, GUN, str(work / "out"))
    assert got == code
    assert out == "nothing written: no GUN verified (" + str(work / "out") + " not created)\n"
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err and "t0ken" not in out + err  # no token printed
    assert list(work.iterdir()) == []  # no OUT, no staging directory left


@pytest.mark.parametrize("gun", ["a/../../x", "/etc/passwd", "a/./b", "a//b", "a/"])
def test_guns_that_would_leave_out_are_refused(gun: str, run_cli: Any, tmp_path: Path) -> None:
    with serve(_answer(_repo())) as url:
        got, _, err = run_cli("notary", "pull", "--server", url, gun, str(tmp_path / "out"))
    assert got == 2 and f"{gun!r} is not a GUN" in err
    assert not (tmp_path / "out").exists()


def test_redirects_are_not_followed() -> None:
    hits: list[str] = []

    def elsewhere(h: BaseHTTPRequestHandler) -> None:
        hits.append(h.path)
        _answer(_repo())(h)

    with serve(elsewhere) as other:

        def redirect(h: BaseHTTPRequestHandler) -> None:
            h.send_response(307)
            h.send_header("Location", other + h.path)
            h.send_header("Content-Length", "0")
            h.end_headers()

        with serve(redirect) as url, pytest.raises(NetworkError, match=r"redirects \(HTTP 307\)"):
            NotaryHTTP(url).get(f"v2/{GUN}/_trust/tuf/root.json", limit=1000)
    assert hits == []


def test_an_unreachable_token_service_is_named(tmp_path: Path) -> None:
    with serve(_answer({})) as closed:
        pass  # the port is free again: nothing listens there
    challenge = f'Bearer realm="{closed}/token",service="s",scope="repository:g:pull"'

    def ask(h: BaseHTTPRequestHandler) -> None:
        h.send_response(401)
        h.send_header("WWW-Authenticate", challenge)
        h.send_header("Content-Length", "0")
        h.end_headers()

    with serve(ask) as url, pytest.raises(NetworkError) as e:
        NotaryHTTP(url, timeout=5).get(f"v2/{GUN}/_trust/tuf/root.json", limit=1000)
    assert e.value.message.startswith(f"token service {closed}/token: cannot connect")


def test_a_server_dripping_bytes_is_stopped_by_the_deadline() -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.05)

    with serve(drip) as url, pytest.raises(NetworkError, match=r"did not end within 0.3 s"):
        NotaryHTTP(url, deadline=0.3).get(f"v2/{GUN}/_trust/tuf/root.json", limit=1000)
