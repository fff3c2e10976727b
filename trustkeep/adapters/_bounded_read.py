"""One bounded read of an HTTP body, shared by the TUF fetcher and the Notary client.

The body is read as it arrives (``read1``), never more than one byte past ``limit``:
endless data stops there, a declared ``Content-Length`` over the limit stops before
any read, and a server dripping bytes stops at the deadline. The caller says which
error each case raises, so each adapter keeps its own error types and messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import urllib3

    from trustkeep.errors import TrustkeepError

__all__ = ["read_bounded"]

_CHUNK = 64 * 1024


def read_bounded(
    response: urllib3.BaseHTTPResponse,
    *,
    limit: int,
    seconds: float,
    too_large: Callable[[int | None], TrustkeepError],
    too_slow: Callable[[], TrustkeepError],
    decode_content: bool | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    """The body, at most ``limit`` bytes, within ``seconds``.

    ``too_large(declared)`` gets the declared length when the header already says too
    much, else None; ``progress(size, declared)`` is called after each chunk.
    """
    declared = _content_length(response)
    if declared is not None and declared > limit:
        raise too_large(declared)
    end = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(min(_CHUNK, limit + 1 - size), decode_content=decode_content):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large(None)
        if time.monotonic() > end:
            raise too_slow()
        if progress is not None:
            progress(size, declared)
    return b"".join(chunks)


def _content_length(response: urllib3.BaseHTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.strip().isdigit() else None
