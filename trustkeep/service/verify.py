"""VerifyService: read the inputs (adapters), then run the pure verifier (core)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from trustkeep.adapters.metadata_source import read_input_file, read_metadata
from trustkeep.adapters.process_pool import MIN_WORK_BYTES, parallel_map
from trustkeep.core.progress import Progress, no_progress
from trustkeep.core.verify import MetadataBundle, Report, detect_format, require_valid
from trustkeep.core.verify.tuf import verify_tuf
from trustkeep.errors import InputError

if TYPE_CHECKING:  # Notary only: x509 and the pin rules load when Notary metadata is verified
    from trustkeep.core.verify.notary import PinAnchor

__all__ = [
    "EVIDENCE_MANIFEST",
    "VerifyRequest",
    "VerifyResult",
    "VerifyService",
    "parse_reference_time",
]

#: the manifest of an evidence archive (``notary pull --out``), at the top of it
EVIDENCE_MANIFEST = "manifest.json"


def parse_reference_time(text: str) -> datetime:
    """ISO 8601 (``2030-01-01``, ``2030-01-01T12:00:00Z``, offsets); naive means UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise InputError(
            f"--at {text!r} is not an ISO 8601 time", hint="e.g. 2030-01-01T00:00:00Z"
        ) from e
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_trusted_root_shape(path: Path, data: bytes) -> None:
    """The trust anchor is configuration: a file that is not root metadata is exit 2.

    Only the envelope is checked here (JSON object, ``signed`` of type root, a
    ``signatures`` list); signatures, keys and expiry are the verifier's findings.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(f"{path}: trusted root starts with a byte order mark (UTF-8 JSON only)")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: trusted root is not UTF-8 (UTF-8 JSON only)") from e
    except (ValueError, RecursionError) as e:
        raise InputError(f"{path}: trusted root is not valid JSON: {e}") from e
    signed = doc.get("signed") if isinstance(doc, dict) else None
    if not isinstance(signed, dict) or not isinstance(doc.get("signatures"), list):
        raise InputError(f"{path}: trusted root is not signed metadata (no signed/signatures)")
    if signed.get("_type") not in ("root", "Root"):
        raise InputError(f"{path}: trusted root has _type {signed.get('_type')!r}, not root")


@dataclass(frozen=True, kw_only=True)
class VerifyRequest:
    directory: Path
    root: Path | None = None
    pins: Path | None = None
    gun: str | None = None
    previous: Path | None = None
    at: datetime | None = None
    format: Literal["tuf", "notary"] | None = None
    jobs: int | None = None  # worker processes; None = by work and free cores, 1 = in-process


@dataclass(frozen=True)
class VerifyResult:
    report: Report
    notes: tuple[str, ...]  # input diagnostics (skipped files) for stderr


class VerifyService:
    """``verify(request)`` → result object; ``require(request)`` → raises TrustFailure.

    ``progress`` hears ``("verifying roles", done, total)`` for each level of the
    delegation tree (the CLI draws a bar when that runs over two seconds).
    """

    def __init__(self, progress: Progress = no_progress) -> None:
        self.progress = progress

    def _level_done(self, done: int, total: int) -> None:
        self.progress("verifying roles", done, total)

    def verify(self, request: VerifyRequest) -> VerifyResult:
        if request.root is not None and request.pins is not None:
            raise InputError("give one trust anchor: --root FILE or --pins FILE --gun GUN")
        at = request.at or datetime.now(UTC)
        # a large directory's delegated files are read by the workers that check them
        bundle = read_metadata(request.directory, gun=request.gun, defer_bytes=MIN_WORK_BYTES)
        previous = read_metadata(request.previous, gun=request.gun) if request.previous else None
        fmt = request.format or detect_format(bundle)
        if fmt != "tuf" and bundle.on_demand:  # Notary's checks read files more than once
            bundle = replace(bundle, files=dict(bundle.files))
        trusted = read_input_file(request.root, what="trusted root") if request.root else None
        if request.root is not None and trusted is not None:
            _check_trusted_root_shape(request.root, trusted)
        source = str(request.root) if request.root else None
        if fmt == "tuf":
            if request.pins is not None:
                raise InputError(
                    "--pins applies to Notary metadata; a TUF repository is anchored with --root"
                )
            report = verify_tuf(
                bundle,
                at=at,
                trusted_root=trusted,
                trusted_root_source=source,
                previous=previous,
                mapper=partial(parallel_map, max_workers=request.jobs, progress=self._level_done),
            )
        else:
            from trustkeep.core.verify.notary import verify_notary

            gun = request.gun or bundle.gun
            pins = self._pin_anchor(request.pins, gun, at) if request.pins else None
            report = verify_notary(
                bundle,
                at=at,
                gun=gun,
                trusted_root=trusted,
                trusted_root_source=source,
                pins=pins,
                previous=previous,
            )
        notes = bundle.notes + (previous.notes if previous else ())
        return VerifyResult(report, notes)

    @staticmethod
    def retrieval_time(source: Path, gun: str | None = None) -> datetime | None:
        """When the evidence archive at ``source`` was pulled (None for anything else);
        with ``gun``, its files must be the ones the manifest lists (TrustFailure).

        A plain metadata directory (no manifest) is answered without loading the
        evidence code (archives, tar): ``verify`` start-up does not pay for it."""
        if source.is_dir() and not (source / EVIDENCE_MANIFEST).is_file():
            return None
        if not source.is_dir() and not source.is_file():
            return None
        from trustkeep.service._evidence import evidence_time

        return evidence_time(source, gun)

    def require(self, request: VerifyRequest) -> Report:
        """The gate: the report when valid, else TrustFailure (exit 1) naming the errors."""
        return require_valid(self.verify(request).report)

    def verify_bundle(self, bundle: MetadataBundle, *, at: datetime) -> Report:
        """Verify metadata already in memory from its own first root (for other services)."""
        if detect_format(bundle) == "tuf":
            return verify_tuf(bundle, at=at)
        from trustkeep.core.verify.notary import verify_notary

        return verify_notary(bundle, at=at)

    def _pin_anchor(self, path: Path, gun: str | None, at: datetime) -> PinAnchor:
        from trustkeep.adapters.pin_sources import trust_pin
        from trustkeep.core.pinning import decide, parse_pins
        from trustkeep.core.verify.notary import PinAnchor

        if not gun:
            raise InputError(
                "--pins needs --gun GUN (the repository name the pins are looked up for)"
            )
        raw = read_input_file(path, what="pin file")
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError) as e:
            raise InputError(f"{path}: pin file is not valid JSON: {str(e)[:100]}") from e
        if not isinstance(document, dict):
            raise InputError(f"{path}: pin file is not a JSON object")
        decision = decide(parse_pins(document, source=str(path)), gun)
        pin = trust_pin(decision)
        mechanism = decision.mechanism
        if decision.entry:
            mechanism = f"{mechanism} ({decision.entry})"
        return PinAnchor(source=str(path), gun=gun, mechanism=mechanism, pin=pin)
