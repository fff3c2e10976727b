"""State shared by one verification run: findings, role results, common checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol

from trustkeep.core.verify._envelope import Envelope, Malformed, digest, parse_envelope
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import Finding, RoleResult, Severity

__all__ = ["Run"]

#: path-not-delegated findings listed one by one per role before they are summarised
PATH_FINDINGS_PER_ROLE = 20


class RootHeader(Protocol):
    """What TUF and Notary root headers share for the report."""

    @property
    def version(self) -> int: ...

    @property
    def expires_text(self) -> str: ...


class Run:
    """Mutable accumulator for one verification (internal; the outputs are frozen)."""

    def __init__(
        self, bundle: MetadataBundle, *, at: datetime, previous: MetadataBundle | None
    ) -> None:
        self.bundle = bundle
        self.at = at
        self.previous = previous
        self.findings: list[Finding] = []
        self.roles: list[RoleResult] = []

    # findings -----------------------------------------------------------
    def add(self, severity: Severity, code: str, role: str | None, message: str) -> None:
        self.findings.append(Finding(severity, code, role, message))

    def error(self, code: str, role: str | None, message: str) -> None:
        self.add("error", code, role, message)

    def warning(self, code: str, role: str | None, message: str) -> None:
        self.add("warning", code, role, message)

    def mark(self) -> int:
        return len(self.findings)

    def clean_since(self, mark: int, role: str) -> bool:
        """No error finding for ``role`` was added after ``mark``."""
        return not any(f.severity == "error" and f.role == role for f in self.findings[mark:])

    # loading ------------------------------------------------------------
    def first_present(self, names: Iterable[str]) -> str | None:
        for name in names:
            if name in self.bundle.files:
                return name
        return None

    def latest_versioned(self, filename: str) -> str | None:
        """The highest ``N.<filename>`` present (when no parent says which version to use)."""
        best: tuple[int, str] | None = None
        for name in self.bundle.files:
            head, dot, rest = name.partition(".")
            ok = dot and rest == filename and head.isdigit() and len(head) < 13
            if ok and (best is None or int(head) > best[0]):
                best = (int(head), name)
        return best[1] if best else None

    def load(
        self,
        name: str,
        role: str,
        *,
        files: Mapping[str, bytes] | None = None,
    ) -> Envelope | None:
        """Parse ``name``; a parse problem becomes a ``malformed`` finding for ``role``."""
        raw = (self.bundle.files if files is None else files).get(name)
        if raw is None:
            return None
        try:
            return parse_envelope(raw, name=name)
        except Malformed as e:
            self.error("malformed", role, str(e))
            return None

    # common checks ------------------------------------------------------
    def check_file(
        self,
        raw: bytes,
        *,
        role: str,
        name: str,
        length: int | None,
        hashes: Mapping[str, str] | None,
        recorded_by: str,
        decode: Callable[[str], bytes | None],
    ) -> None:
        """Length and hashes of ``raw`` against what ``recorded_by`` recorded for it."""
        if length is not None and len(raw) != length:
            self.error(
                "length-mismatch",
                role,
                f"{name} is {len(raw)} bytes, {recorded_by} records {length}",
            )
        for algorithm, expected in (hashes or {}).items():
            observed = digest(algorithm, raw)
            wanted = decode(expected)
            if observed is None:
                self.error(
                    "hash-mismatch",
                    role,
                    f"{name}: {recorded_by} records a {algorithm[:20]!r} hash, "
                    "an unsupported algorithm",
                )
            elif wanted is None or not hmac.compare_digest(observed, wanted):
                self.error(
                    "hash-mismatch",
                    role,
                    f"{name}: {algorithm} differs from the hash {recorded_by} records",
                )

    def check_expiry(self, role: str, name: str, expires: datetime, text: str) -> None:
        if self.at >= expires:
            self.error("expired", role, f"{name} expired at {text} (reference time {self._at()})")

    def _at(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def record_root(
        self, name: str, header: RootHeader, *, threshold: int, valid: int, mark: int
    ) -> None:
        """One root version's line of the report: clean when no root error since ``mark``."""
        self.roles.append(
            RoleResult(
                role="root",
                file=name,
                version=header.version,
                expires=header.expires_text,
                signatures=valid,
                threshold=threshold,
                valid=self.clean_since(mark, "root"),
            )
        )

    def check_threshold(self, role: str, name: str, valid: int, threshold: int, by: str) -> None:
        if valid < threshold:
            self.error(
                "threshold-not-met",
                role,
                f"{name}: {valid} valid signature(s) from {by}'s keys for {role}, "
                f"threshold {threshold}",
            )
