"""Which keys a repository's root.json names for a role, read as plain JSON: a hint.

A command that signs with online keys (``timestamp``, ``snapshot``) starts their key
derivation before it loads python-tuf and the repository code; this is how it learns
which keys to start. Nothing here is trusted: the root the command then loads and
verifies decides who signs, and a key named here in vain is only unlocked in vain.
Anything unreadable, too large or malformed gives no hint, never an error: the
command's own reading reports it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

__all__ = ["MAX_HINT_BYTES", "MAX_HINT_KEYS", "role_keyids"]

#: a root.json larger than this gives no hint (the command's own reading judges it)
MAX_HINT_BYTES = 4 * 1024 * 1024
#: at most this many keyids are taken from one role
MAX_HINT_KEYS = 32


def role_keyids(directory: Path, role: str) -> tuple[str, ...]:
    """The keyids ``directory/root.json`` lists for ``role``; () when it cannot tell."""
    try:  # O_NONBLOCK: a FIFO must not wait for a writer
        fd = os.open(directory / "root.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ()
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_HINT_BYTES:
            return ()
        data = os.read(fd, info.st_size + 1)
    except OSError:
        return ()
    finally:
        os.close(fd)
    if len(data) > MAX_HINT_BYTES:
        return ()
    try:
        keyids = json.loads(data)["signed"]["roles"][role]["keyids"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return ()
    if not isinstance(keyids, list):
        return ()
    return tuple(k for k in keyids[:MAX_HINT_KEYS] if isinstance(k, str))
