"""Pure operations on TUF repository metadata (python-tuf's Metadata API): no I/O, no clock."""

from __future__ import annotations

from trustkeep.core.tuf_repo import (
    delegation,
    expiry,
    online,
    pubkeys,
    rootops,
    state,
    status,
    targetsops,
)

__all__ = [
    "delegation",
    "expiry",
    "online",
    "pubkeys",
    "rootops",
    "state",
    "status",
    "targetsops",
]
