"""HTTP for a Notary server: GET with size limits, TLS with a CA bundle, Bearer tokens.

A Notary server (and Docker Hub's) answers an unauthenticated request with
``401`` and ``WWW-Authenticate: Bearer realm="…",service="…",scope="…"``. The client
asks the realm for a token (anonymously, or with HTTP Basic credentials) and repeats
the request with ``Authorization: Bearer <token>``. Credentials are only ever sent
over HTTPS, or to a loopback address; a token is only sent back to the server that
asked for it. Foreign errors become :class:`~trustkeep.errors.TrustkeepError`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from trustkeep.adapters._bounded_read import read_bounded
from trustkeep.errors import InputError, StorageError, TrustkeepError

if TYPE_CHECKING:  # urllib3 is imported by the first NotaryHTTP: `verify` never loads it
    import urllib3

__all__ = ["Challenge", "NetworkError", "NotaryHTTP", "ResponseTooLarge", "parse_challenge"]

_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TOKEN_BYTES = 1024 * 1024
_PARAM = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?')


class NetworkError(TrustkeepError):
    """The server could not be reached or did not answer as a Notary server does (exit 3)."""

    exit_code = 3


class ResponseTooLarge(NetworkError):
    """The answer is longer than the caller allowed; nothing past the limit was read."""


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header: the scheme and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="https://auth/token",service="s",scope="repository:x:pull"`` → Challenge."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.end() == pos:
            return None
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = m.end()
    return Challenge(scheme.lower(), params)


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class NotaryHTTP:
    """GET files from one Notary server: ``get(path, limit=...)`` → bytes, or None on 404."""

    def __init__(
        self,
        server: str,
        *,
        ca_bundle: Path | None = None,
        username: str | None = None,
        password: Callable[[str], str] | None = None,
        timeout: float = 30.0,
        deadline: float = 600.0,
    ) -> None:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"--server {server!r} is not an http(s) URL", hint="e.g. https://notary.example.com"
            )
        if parts.query or parts.fragment:
            raise InputError(f"--server {server!r}: a server URL has no query or fragment")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.username = username
        self.deadline = deadline  # seconds for one whole answer: a server dripping bytes stops
        self._password = password
        self._tokens: dict[str, str] = {}
        self._basic: str | None = None
        self._login: str | None = None
        kwargs: dict[str, object] = {}
        if ca_bundle is not None:
            if not ca_bundle.is_file():
                raise InputError(f"{ca_bundle}: CA bundle not found")
            kwargs["ca_certs"] = str(ca_bundle)
        import urllib3

        self._pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=urllib3.Retry(total=3, connect=2, read=1, status=0, redirect=False),
            **kwargs,  # type: ignore[arg-type]
        )

    def close(self) -> None:
        """Close the pooled connections (the object is not used afterwards)."""
        self._pool.clear()

    def url(self, path: str) -> str:
        return f"{self.base}/{quote(path, safe='/:@._-')}"

    def get(self, path: str, *, limit: int) -> bytes | None:
        """The body of ``GET <server>/<path>`` (at most ``limit`` bytes); None for a 404."""
        url = self.url(path)
        status, body, challenge = self._get(url, limit, self._auth_header(url))
        if status == 401 and challenge is not None:
            status, body, challenge = self._get(url, limit, self._authorize(url, challenge))
        location = challenge.params.get("location") if challenge is not None else None
        if status == 404:
            return None
        if status in _REDIRECTS:
            raise NetworkError(
                f"{url}: the server redirects (HTTP {status}) to {location or '?'}; "
                "trustkeep does not follow redirects for trust data",
                hint="give the notary server's own URL with --server",
            )
        if status == 401:
            who = f"user {self.username}" if self.username else "an anonymous client"
            raise NetworkError(
                f"{url}: the server refused {who} (401)",
                hint="give --username (password in TRUSTKEEP_NOTARY_PASSWORD) if it needs a login",
            )
        if status != 200:
            raise NetworkError(f"{url}: the server answered HTTP {status}")
        return body

    def _auth_header(self, url: str) -> dict[str, str]:
        scope_token = self._tokens.get(self._scope_key(url))
        if scope_token:
            return {"Authorization": f"Bearer {scope_token}"}
        if self._basic:
            return {"Authorization": f"Basic {self._basic}"}
        return {}

    @staticmethod
    def _scope_key(url: str) -> str:
        path = urlsplit(url).path
        return path.split("/_trust/", 1)[0]

    def _get(
        self, url: str, limit: int, headers: dict[str, str]
    ) -> tuple[int, bytes, Challenge | None]:
        from urllib3.exceptions import HTTPError, MaxRetryError, SSLError

        try:
            response = self._pool.request(
                "GET", url, headers={"Accept": "application/json", **headers}, preload_content=False
            )
        except HTTPError as e:
            cause = e.reason if isinstance(e, MaxRetryError) else e
            if isinstance(cause, SSLError):
                raise NetworkError(
                    f"{url}: TLS verification failed",
                    hint="give the server's CA certificate with --tlscacert PEM",
                ) from e
            raise NetworkError(f"{url}: cannot connect ({type(cause).__name__})") from e
        try:
            challenge = None
            if response.status == 401:
                header = response.headers.get("WWW-Authenticate", "")
                challenge = parse_challenge(header) if header else None
            elif response.status in _REDIRECTS:  # the target, for the message only
                target = response.headers.get("Location", "")[:200]
                challenge = Challenge("redirect", {"location": target})
            if response.status != 200:
                response.read(_CHUNK)
                return response.status, b"", challenge
            return 200, self._read(response, url, limit, self.deadline), None
        except HTTPError as e:
            raise NetworkError(f"{url}: the connection failed ({type(e).__name__})") from e
        finally:
            response.release_conn()

    @staticmethod
    def _read(response: urllib3.BaseHTTPResponse, url: str, limit: int, deadline: float) -> bytes:
        def too_large(declared: int | None) -> TrustkeepError:
            if declared is not None:
                return ResponseTooLarge(f"{url}: {declared} bytes, more than the {limit} allowed")
            return ResponseTooLarge(f"{url}: more than the {limit} bytes allowed")

        return read_bounded(
            response,
            limit=limit,
            seconds=deadline,
            too_large=too_large,
            too_slow=lambda: NetworkError(f"{url}: the answer did not end within {deadline:g} s"),
        )

    def _credentials(self, realm: str) -> str | None:
        """``user:password`` in base64 for the realm, when a username was given."""
        if self.username is None:
            return None
        parts = urlsplit(realm)
        if parts.scheme != "https" and not _is_loopback(parts.hostname):
            raise NetworkError(
                f"the token service {realm} is not HTTPS: refusing to send a password to it"
            )
        if self._password is None:
            raise InputError("--username needs a password (TRUSTKEEP_NOTARY_PASSWORD)")
        if self._login is None:  # asked once per run, whatever the number of tokens
            secret = self._password(f"password for {self.username} at {parts.hostname}")
            self._login = base64.b64encode(f"{self.username}:{secret}".encode()).decode("ascii")
        return self._login

    def _authorize(self, url: str, challenge: Challenge) -> dict[str, str]:
        if challenge.scheme == "basic":
            self._basic = self._credentials(self.base)
            if self._basic is None:
                return {}
            return {"Authorization": f"Basic {self._basic}"}
        realm = challenge.params.get("realm", "")
        if challenge.scheme != "bearer":
            raise NetworkError(f"{url}: unsupported authentication challenge {challenge.scheme!r}")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"{url}: the token realm {realm[:200]!r} is not an http(s) URL")
        query: dict[str, str] = {
            k: challenge.params[k] for k in ("service", "scope") if k in challenge.params
        }
        if self.username:
            query["account"] = self.username
        token_url = f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}"
        headers: dict[str, str] = {}
        basic = self._credentials(realm)
        if basic is not None:
            headers["Authorization"] = f"Basic {basic}"
        try:
            status, body, _ = self._get(token_url, _TOKEN_BYTES, headers)
        except NetworkError as e:
            raise NetworkError(
                f"token service {realm}: {e.message.partition(': ')[2]}", hint=e.hint
            ) from e
        if status != 200:
            raise NetworkError(
                f"token service {realm}: HTTP {status} for scope {query.get('scope', '-')!r}",
                hint="check --username and TRUSTKEEP_NOTARY_PASSWORD" if basic else None,
            )
        token = self._token_from(body, realm)
        self._tokens[self._scope_key(url)] = token
        return {"Authorization": f"Bearer {token}"}

    @staticmethod
    def _token_from(body: bytes, realm: str) -> str:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise NetworkError(f"token service {realm}: the answer is not JSON") from e
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise NetworkError(f"token service {realm}: the answer holds no token")
        return token


def read_ca_bundle(path: Path) -> Path:
    """Check that ``path`` is a readable PEM file before a connection uses it."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise StorageError(f"{path}: cannot read the CA bundle: {e.strerror}") from e
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise InputError(f"{path}: not a PEM certificate bundle")
    return path
