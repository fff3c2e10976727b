"""trustkeep's TUF client engine (spec §5.3): pure, bytes in, verified objects out.

:class:`TrustedState` holds the trusted root, timestamp, snapshot, targets and
delegated roles and makes every check; :func:`find_target` walks delegations;
the names files have on a server come from :mod:`.search`. The I/O shell is
``trustkeep.service.pull``.
"""

from __future__ import annotations

from trustkeep.core.client.checks import (
    Loaded,
    check_length_and_hashes,
    check_threshold,
    load,
    signature_valid,
)
from trustkeep.core.client.errors import ClientError, EqualVersion
from trustkeep.core.client.search import (
    MAX_ROLES,
    Found,
    find_target,
    metadata_path,
    target_file_name,
    target_path,
)
from trustkeep.core.client.trusted import TrustedState

__all__ = [
    "MAX_ROLES",
    "ClientError",
    "EqualVersion",
    "Found",
    "Loaded",
    "TrustedState",
    "check_length_and_hashes",
    "check_threshold",
    "find_target",
    "load",
    "metadata_path",
    "signature_valid",
    "target_file_name",
    "target_path",
]
