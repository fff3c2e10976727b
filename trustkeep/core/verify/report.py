"""The verification report: findings, per-role results, and the whole report.

``Report.to_dict()`` is the ``--json`` document of PRODUCT.md ("Verification
report") minus the ``"schema"`` field the CLI adds. Every check exists in two
forms: the report (a result object for a UI) and :func:`require_valid` (a gate
that raises :class:`~trustkeep.errors.TrustFailure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from trustkeep.errors import TrustFailure

__all__ = [
    "CODES",
    "Anchor",
    "Finding",
    "Format",
    "Report",
    "RoleResult",
    "Severity",
    "require_valid",
]

Severity = Literal["error", "warning"]
Format = Literal["tuf", "notary"]

#: The stable finding codes of PRODUCT.md; nothing else is ever reported.
CODES: Final = frozenset(
    {
        "malformed",
        "missing-role",
        "threshold-not-met",
        "root-rotation-invalid",
        "expired",
        "rollback",
        "version-mismatch",
        "hash-mismatch",
        "length-mismatch",
        "pin-mismatch",
        "certificate-invalid",
        "keyid-mismatch",
        "path-not-delegated",
        "no-anchor",
    }
)


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity``, stable ``code``, the ``role`` concerned (or None), a message."""

    severity: Severity
    code: str
    role: str | None
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")
        if self.severity not in ("error", "warning"):
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "role": self.role,
            "message": self.message,
        }


@dataclass(frozen=True, kw_only=True)
class RoleResult:
    """One verified metadata file in the chain (each root version is its own entry)."""

    role: str
    file: str | None
    version: int | None
    expires: str | None
    signatures: int
    threshold: int | None
    delegated_by: str | None = None
    valid: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "file": self.file,
            "version": self.version,
            "expires": self.expires,
            "signatures": self.signatures,
            "threshold": self.threshold,
            "delegated_by": self.delegated_by,
            "valid": self.valid,
        }


@dataclass(frozen=True, kw_only=True)
class Anchor:
    """What the chain was verified from.

    ``kind`` is ``"root"`` (a trusted root file), ``"pins"`` (trust pins for a
    GUN; ``mechanism`` says which rule decided) or ``"none"`` (the chain's own
    first root, with a ``no-anchor`` warning).
    """

    kind: Literal["root", "pins", "none"]
    source: str | None = None
    version: int | None = None
    gun: str | None = None
    mechanism: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "source": self.source,
            "version": self.version,
            "gun": self.gun,
            "mechanism": self.mechanism,
        }


@dataclass(frozen=True, kw_only=True)
class Report:
    """The verdict: ``valid`` exactly when no finding is an error."""

    format: Format
    anchor: Anchor
    roles: Sequence[RoleResult] = ()
    findings: Sequence[Finding] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def codes(self) -> set[str]:
        """The set of error codes (handy for tests and gates)."""
        return {f.code for f in self.findings if f.severity == "error"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "format": self.format,
            "anchor": self.anchor.to_dict(),
            "roles": [r.to_dict() for r in self.roles],
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Report:
        """Rebuild a report from :meth:`to_dict` output (e.g. a stored CI result)."""
        anchor = document["anchor"]
        return cls(
            format=document["format"],
            anchor=Anchor(
                kind=anchor["type"],
                source=anchor.get("source"),
                version=anchor.get("version"),
                gun=anchor.get("gun"),
                mechanism=anchor.get("mechanism"),
            ),
            roles=tuple(RoleResult(**r) for r in document["roles"]),
            findings=tuple(Finding(**f) for f in document["findings"]),
        )


def require_valid(report: Report) -> Report:
    """The gate form: return ``report`` when valid, else raise TrustFailure naming the errors."""
    errors = report.errors
    if not errors:
        return report
    first = errors[0]
    where = f" ({first.role})" if first.role else ""
    more = f"; and {len(errors) - 1} more error(s)" if len(errors) > 1 else ""
    raise TrustFailure(f"verification failed: {first.code}{where}: {first.message}{more}")
