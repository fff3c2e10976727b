"""Offline verification of TUF and Notary metadata chains (pure: bytes in, a Report out)."""

from __future__ import annotations

from trustkeep.core.verify.bundle import MetadataBundle, detect_format
from trustkeep.core.verify.report import (
    CODES,
    Anchor,
    Finding,
    Report,
    RoleResult,
    require_valid,
)
from trustkeep.core.verify.tuf import verify_tuf

__all__ = [
    "CODES",
    "Anchor",
    "Finding",
    "MetadataBundle",
    "Report",
    "RoleResult",
    "detect_format",
    "require_valid",
    "verify_tuf",
]
