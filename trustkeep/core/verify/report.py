"""The verification report: findings, per-role results, and the whole report.

``Report.to_dict()`` is the ``--json`` document of PRODUCT.md ("Verification
report") minus the ``"schema"`` field the CLI adds. Every check exists in two
forms: the report (a result object for a UI) and :func:`require_valid` (a gate
that raises :class:`~trustkeep.errors.TrustFailure`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    "Value",
    "require_valid",
    "settle_chain",
]

Severity = Literal["error", "warning"]
Format = Literal["tuf", "notary"]
#: a structured value of a finding (a version, a count, a hash as ``algorithm:hex``, a time)
Value = int | str | None

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
    """One problem: ``severity``, stable ``code``, the ``role`` concerned (or None), a message.

    Beside the message, structured fields a program can read without parsing text:
    ``file`` (the metadata file), ``keyid``, and ``expected`` / ``found`` (a version,
    a signature count against its threshold, a length, ``algorithm:hex`` hashes, an
    expiry against the reference time). Each is None where it does not apply.
    """

    severity: Severity
    code: str
    role: str | None
    message: str
    file: str | None = None
    keyid: str | None = None
    expected: Value = None
    found: Value = None

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
            "file": self.file,
            "keyid": self.keyid,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass(frozen=True, kw_only=True)
class RoleResult:
    """One metadata file in the chain (each root version is its own entry).

    ``valid``: the file's own checks passed. ``verified``: it is valid *and* everything
    it was checked against is verified (the root chain, the role that delegates it,
    the snapshot/timestamp that record it); otherwise ``unverified_reason`` says which
    link is broken. ``keyids`` are the keys whose signatures counted toward ``threshold``.
    """

    role: str
    file: str | None
    version: int | None
    expires: str | None
    signatures: int
    threshold: int | None
    delegated_by: str | None = None
    valid: bool = True
    keyids: tuple[str, ...] = ()
    verified: bool = True
    unverified_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "file": self.file,
            "version": self.version,
            "expires": self.expires,
            "signatures": self.signatures,
            "threshold": self.threshold,
            "keyids": list(self.keyids),
            "delegated_by": self.delegated_by,
            "valid": self.valid,
            "verified": self.verified,
            "unverified_reason": self.unverified_reason,
        }


_TOP = ("timestamp", "snapshot", "targets")


def _root_break(roles: Sequence[RoleResult], findings: Sequence[Finding]) -> str | None:
    bad = [r for r in roles if r.role == "root" and not r.valid]
    if bad:
        return f"root v{bad[0].version} ({bad[0].file}) failed: its keys are not trusted"
    failed = next((f for f in findings if f.severity == "error" and f.role == "root"), None)
    if failed is not None:
        return f"the root chain failed ({failed.code}): its keys are not trusted"
    if not any(r.role == "root" for r in roles):
        return "no trusted root"
    return None


def settle_chain(
    roles: Sequence[RoleResult], findings: Sequence[Finding]
) -> tuple[RoleResult, ...]:
    """Mark each role ``verified`` only when every link above it verified.

    A role hangs on the root whose keys it was checked with (timestamp, snapshot,
    targets), on the role that delegates it, and on the file that records its
    hash and version (timestamp records snapshot; snapshot records targets and
    delegated roles). ``roles`` lists every role after the roles it hangs on (the
    order both verifiers check them in). Shared by the TUF and the Notary verifiers.
    """
    root_break = _root_break(roles, findings)
    by_name: dict[str, RoleResult] = {}
    out: list[RoleResult] = []
    bad_root: RoleResult | None = None  # the first root version that is not verified
    for r in roles:
        reason: str | None = None
        if r.role == "root":
            if not r.valid:
                reason = "its own checks failed"
            elif bad_root is not None:
                reason = f"root v{bad_root.version} before it failed"
        else:
            reason = root_break
            links = [r.delegated_by or "root"]
            if r.role == "snapshot":
                links.append("timestamp")
            elif r.role != "timestamp":
                links.append("snapshot")
            for link in links:
                if reason is None and link != "root":
                    above = by_name.get(link)
                    if above is None:
                        reason = f"{link} is missing or could not be checked"
                    elif not above.verified:
                        reason = f"{link} is not verified"
            if reason is None and not r.valid:
                reason = "its own checks failed"
        if reason is None and r.verified and r.unverified_reason is None:
            settled = r  # already says so (most roles): no copy
        else:
            settled = replace(r, verified=reason is None, unverified_reason=reason)
        out.append(settled)
        by_name.setdefault(r.role, settled)
        if r.role == "root" and bad_root is None and not settled.verified:
            bad_root = settled
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class Anchor:
    """What the chain was verified from.

    ``kind`` is ``"root"`` (a trusted root file), ``"pins"`` (trust pins for a
    GUN; ``mechanism`` says which rule decided), ``"previous"`` (the newest root of
    ``--previous``, trusted state as a client's cache is) or ``"none"`` (the
    chain's own first root, with a ``no-anchor`` warning).
    """

    kind: Literal["root", "pins", "previous", "none"]
    source: str | None = None
    version: int | None = None
    gun: str | None = None
    mechanism: str | None = None
    sha256: str | None = None  # of the anchor root file as read

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "source": self.source,
            "version": self.version,
            "gun": self.gun,
            "mechanism": self.mechanism,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, kw_only=True)
class Report:
    """The verdict: ``valid`` exactly when no finding is an error."""

    format: Format
    anchor: Anchor
    roles: Sequence[RoleResult] = ()
    findings: Sequence[Finding] = field(default_factory=tuple)
    reference_time: str | None = None  # the time expiry was checked against (UTC)

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
            "reference_time": self.reference_time,
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
                sha256=anchor.get("sha256"),
            ),
            roles=tuple(
                RoleResult(**{**r, "keyids": tuple(r.get("keyids", ()))}) for r in document["roles"]
            ),
            findings=tuple(Finding(**f) for f in document["findings"]),
            reference_time=document.get("reference_time"),
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
