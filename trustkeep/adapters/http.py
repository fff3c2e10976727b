"""HTTP GET for the TUF client: urllib3, verbatim URLs, bounded reads, no retries.

A URL is used as given: the request target is everything after the host, sent as
written (percent-escapes are not decoded and ``..`` segments are not resolved;
urllib3 only escapes characters that are invalid in a request line). Nothing is
retried and redirects are not followed, so every request the client makes is one
request on the wire. A body longer than the caller's limit is refused after
reading one byte more than the limit, so endless data ends there.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError

from trustkeep import __version__
from trustkeep.adapters._bounded_read import read_bounded
from trustkeep.errors import TrustkeepError

__all__ = ["FetchError", "Fetcher", "HTTPStatusError", "Progress", "TooLarge", "join_url"]

#: progress(url, bytes so far, total bytes or None)
Progress = Callable[[str, int, int | None], None]


class FetchError(TrustkeepError):
    """The network failed: connection, timeout, an HTTP error status (exit 3)."""

    exit_code = 3

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url


class HTTPStatusError(FetchError):
    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"server answered HTTP {status}")
        self.status = status


class TooLarge(FetchError):
    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, f"more than {limit} bytes")
        self.limit = limit


def join_url(base: str, name: str) -> str:
    """``base`` + ``/`` + ``name``, verbatim (no decoding, no normalising)."""
    return base + name if base.endswith("/") else f"{base}/{name}"


class Fetcher:
    """``fetch(url, limit=...)`` → the body; one connection pool per host."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        total_timeout: float = 600.0,
    ) -> None:
        self._manager = urllib3.PoolManager(
            headers={"User-Agent": f"trustkeep/{__version__}"}, retries=False
        )
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._total = total_timeout
        self.requests: list[str] = []

    def close(self) -> None:
        """Close the pooled connections."""
        self._manager.clear()

    def fetch(self, url: str, *, limit: int, progress: Progress | None = None) -> bytes:
        """GET ``url``; the body when the status is 200 and it is at most ``limit`` bytes."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "not an http:// or https:// URL")
        target = url[len(f"{parts.scheme}://{parts.netloc}") :] or "/"
        self.requests.append(url)
        try:
            pool = self._manager.connection_from_host(
                parts.hostname, parts.port, scheme=parts.scheme
            )
            response = pool.urlopen(
                "GET",
                target,
                retries=False,
                redirect=False,
                preload_content=False,
                decode_content=False,  # the bytes as sent: a Content-Encoding is not undone
                timeout=self._timeout,
                assert_same_host=False,
            )
        except (HTTPError, ValueError, OSError) as e:
            raise FetchError(url, _reason(e)) from e
        try:
            if response.status != 200:
                raise HTTPStatusError(url, response.status)
            data = self._read(url, response, limit, progress)
        except BaseException:
            response.close()  # a connection with a body left unread is never reused
            raise
        response.release_conn()
        return data

    def _read(
        self,
        url: str,
        response: urllib3.BaseHTTPResponse,
        limit: int,
        progress: Progress | None,
    ) -> bytes:
        try:
            return read_bounded(
                response,
                limit=limit,
                seconds=self._total,
                too_large=lambda _declared: TooLarge(url, limit),
                too_slow=lambda: FetchError(url, f"download took longer than {self._total:.0f} s"),
                decode_content=False,
                progress=None if progress is None else lambda n, total: progress(url, n, total),
            )
        except (HTTPError, OSError) as e:
            raise FetchError(url, _reason(e)) from e


def _reason(error: Exception) -> str:
    """The cause in one line, without urllib3's connection-object prefix."""
    reason = getattr(error, "reason", None) or error
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return text.rsplit("): ", 1)[-1][:200]
