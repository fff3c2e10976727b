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
from pathlib import Path

from trustkeep.adapters.metadata_source import read_input_file
from trustkeep.errors import TrustkeepError

__all__ = ["MAX_HINT_BYTES", "MAX_HINT_KEYS", "role_keyids"]

#: a root.json larger than this gives no hint (the command's own reading judges it)
MAX_HINT_BYTES = 4 * 1024 * 1024
#: at most this many keyids are taken from one role
MAX_HINT_KEYS = 32


def role_keyids(directory: Path, role: str) -> tuple[str, ...]:
    """The keyids ``directory/root.json`` lists for ``role``; () when it cannot tell.

    Read as every input is (non-blocking, a regular file only, bounded); a symbolic link
    gives no hint."""
    path = directory / "root.json"
    try:
        if path.is_symlink():
            return ()
        data = read_input_file(path, what="root", limit=MAX_HINT_BYTES)
        keyids = json.loads(data)["signed"]["roles"][role]["keyids"]
    except (TrustkeepError, OSError, ValueError, TypeError, KeyError, RecursionError):
        return ()
    if not isinstance(keyids, list):
        return ()
    return tuple(k for k in keyids[:MAX_HINT_KEYS] if isinstance(k, str))
