"""State shared by one verification run: findings, role results, common checks, caches."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from trustkeep.core.rolenames import versioned_name
from trustkeep.core.verify._envelope import Envelope, Malformed, digest, parse_envelope
from trustkeep.core.verify.bundle import MetadataBundle
from trustkeep.core.verify.report import (
    Anchor,
    Finding,
    Format,
    Report,
    RoleResult,
    Severity,
    Value,
    settle_chain,
)

__all__ = ["Run"]

#: path-not-delegated findings listed one by one per role before they are summarised
PATH_FINDINGS_PER_ROLE = 20


class RootHeader(Protocol):
    """What TUF and Notary root headers share for the report."""

    @property
    def version(self) -> int: ...

    @property
    def expires_text(self) -> str: ...


def time_text(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """Mutable accumulator for one verification (internal; the outputs are frozen).

    Caches that speed up a run (the index of versioned file names) live here,
    never in module state: each run starts empty.
    """

    def __init__(
        self,
        bundle: MetadataBundle,
        *,
        at: datetime,
        previous: MetadataBundle | None,
        fast_decoder: Any = None,
    ) -> None:
        self.bundle = bundle
        self.at = at
        self.previous = previous
        self.fast_decoder = fast_decoder  # parse_envelope's fast path (same results), or None
        self.findings: list[Finding] = []
        self.roles: list[RoleResult] = []
        self._versioned: dict[str, tuple[int, str]] | None = None

    # findings -----------------------------------------------------------
    def add(
        self,
        severity: Severity,
        code: str,
        role: str | None,
        message: str,
        *,
        file: str | None = None,
        keyid: str | None = None,
        expected: Value = None,
        found: Value = None,
    ) -> None:
        self.findings.append(
            Finding(
                severity,
                code,
                role,
                message,
                file=file,
                keyid=keyid,
                expected=expected,
                found=found,
            )
        )

    def error(
        self,
        code: str,
        role: str | None,
        message: str,
        *,
        file: str | None = None,
        keyid: str | None = None,
        expected: Value = None,
        found: Value = None,
    ) -> None:
        self.add(
            "error", code, role, message, file=file, keyid=keyid, expected=expected, found=found
        )

    def warning(
        self,
        code: str,
        role: str | None,
        message: str,
        *,
        file: str | None = None,
        keyid: str | None = None,
        expected: Value = None,
        found: Value = None,
    ) -> None:
        self.add(
            "warning", code, role, message, file=file, keyid=keyid, expected=expected, found=found
        )

    def mark(self) -> int:
        return len(self.findings)

    def clean_since(self, mark: int, role: str) -> bool:
        """No error finding for ``role`` was added after ``mark``."""
        return not any(f.severity == "error" and f.role == role for f in self.findings[mark:])

    def report(self, format: Format, anchor: Anchor) -> Report:
        """The frozen report: roles below a broken link are marked unverified."""
        return Report(
            format=format,
            anchor=anchor,
            roles=settle_chain(self.roles, self.findings),
            findings=tuple(self.findings),
            reference_time=time_text(self.at),
        )

    # loading ------------------------------------------------------------
    def first_present(self, names: Iterable[str]) -> str | None:
        for name in names:
            if name in self.bundle.files:
                return name
        return None

    def latest_versioned(self, filename: str) -> str | None:
        """The highest ``N.<filename>`` present (when no parent says which version to use).

        One pass over the file names per run builds the index (no scan per role).
        """
        if self._versioned is None:
            index: dict[str, tuple[int, str]] = {}
            for name in self.bundle.files:
                parsed = versioned_name(name)
                if parsed is not None:
                    version, base = parsed
                    best = index.get(base)
                    if best is None or version > best[0]:
                        index[base] = (version, name)
            self._versioned = index
        best = self._versioned.get(filename)
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
            return parse_envelope(raw, name=name, fast=self.fast_decoder)
        except Malformed as e:
            self.error("malformed", role, str(e), file=name)
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
        decode: Callable[[str], bytes | None] | None = None,
    ) -> dict[str, bytes]:
        """Length and hashes of ``raw`` against what ``recorded_by`` recorded for it; the
        digests computed, by algorithm.

        ``decode=None`` (TUF): each hash is compared as the lowercase hex string it
        is, as python-tuf compares ``hexdigest()`` (uppercase or spaced hex differs).
        Notary passes its base64 decoder: digests are compared as bytes, as Go does.
        """
        if length is not None and len(raw) != length:
            self.error(
                "length-mismatch",
                role,
                f"{name} is {len(raw)} bytes, {recorded_by} records {length}",
                file=name,
                expected=length,
                found=len(raw),
            )
        seen: dict[str, bytes] = {}
        for algorithm, expected in (hashes or {}).items():
            shown = expected[:128] if isinstance(expected, str) else repr(expected)[:128]
            observed = digest(algorithm, raw)
            if observed is None:
                self.error(
                    "hash-mismatch",
                    role,
                    f"{name}: {recorded_by} records a {algorithm[:20]!r} hash, "
                    "an unsupported algorithm",
                    file=name,
                    expected=f"{algorithm[:20]}:{shown}",
                )
                continue
            seen[algorithm] = observed
            if decode is None:
                same = observed.hex() == expected
            else:
                wanted = decode(expected)
                same = wanted is not None and hmac.compare_digest(observed, wanted)
            if not same:
                self.error(
                    "hash-mismatch",
                    role,
                    f"{name}: {algorithm} differs from the hash {recorded_by} records",
                    file=name,
                    expected=f"{algorithm}:{shown}",
                    found=f"{algorithm}:{observed.hex()}",
                )
        return seen

    def check_expiry(self, role: str, name: str, expires: datetime, text: str) -> None:
        if self.at >= expires:
            self.error(
                "expired",
                role,
                f"{name} expired at {text} (reference time {time_text(self.at)})",
                file=name,
                expected=f"after {time_text(self.at)}",
                found=text,
            )

    def record_root(
        self,
        name: str,
        header: RootHeader,
        *,
        threshold: int,
        valid: int,
        mark: int,
        keyids: Sequence[str] = (),
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
                keyids=tuple(keyids),
            )
        )

    def check_threshold(self, role: str, name: str, valid: int, threshold: int, by: str) -> None:
        if valid < threshold:
            self.error(
                "threshold-not-met",
                role,
                f"{name}: {valid} valid signature(s) from {by}'s keys for {role}, "
                f"threshold {threshold}",
                file=name,
                expected=threshold,
                found=valid,
            )
