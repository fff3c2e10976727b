"""Why the client refused a file: one error per check, each with its finding code.

The codes are the verification report's (PRODUCT.md), so ``trustkeep pull`` and
``trustkeep verify`` speak the same language about the same problem.
"""

from __future__ import annotations

from trustkeep.errors import TrustFailure

__all__ = ["ClientError", "EqualVersion"]


class ClientError(TrustFailure):
    """A file failed a check of the TUF client workflow (spec §5.3): exit 1."""

    def __init__(self, code: str, role: str | None, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.role = role


class EqualVersion(ClientError):
    """A new timestamp has the trusted version: keep the trusted one (not a failure)."""

    def __init__(self, role: str, version: int) -> None:
        super().__init__("rollback", role, f"{role} v{version} is the version already trusted")
        self.version = version
