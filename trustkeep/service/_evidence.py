"""Evidence archives once written: their manifest, and verified reading for other commands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trustkeep.adapters.metadata_source import read_input_file, read_metadata
from trustkeep.core.verify import Report
from trustkeep.errors import InputError, TrustFailure
from trustkeep.service.verify import (
    EVIDENCE_MANIFEST,
    VerifyRequest,
    VerifyService,
    parse_reference_time,
)

if TYPE_CHECKING:  # loaded by load_verified: `verify` of an archive does not need it
    from trustkeep.core.migration import NotaryRepo

__all__ = [
    "MANIFEST",
    "MANIFEST_KIND",
    "VerifiedNotary",
    "evidence_time",
    "load_verified",
    "read_manifest",
]

MANIFEST = EVIDENCE_MANIFEST
MANIFEST_KIND = "trustkeep-notary-evidence"


def read_manifest(source: Path) -> dict[str, Any] | None:
    """The evidence manifest of a pulled archive (directory or tarball); None if absent."""
    import tarfile  # archives only: plain directories do not pay for it

    raw: bytes | None = None
    if source.is_dir() and (source / MANIFEST).is_file():
        raw = read_input_file(source / MANIFEST, what="evidence manifest")
    elif source.is_file() and tarfile.is_tarfile(source):
        try:
            with tarfile.open(source, mode="r:*") as tar:
                member = tar.getmember(MANIFEST)
                f = tar.extractfile(member) if member.isreg() else None
                raw = f.read(16 * 1024 * 1024) if f is not None else None
        except KeyError:
            return None
        except (tarfile.TarError, OSError) as e:
            raise InputError(f"{source}: not a readable archive ({type(e).__name__})") from e
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise InputError(f"{source}: {MANIFEST} is not valid JSON") from e
    if not isinstance(doc, dict) or doc.get("kind") != MANIFEST_KIND:
        raise InputError(f"{source}: {MANIFEST} is not a trustkeep evidence manifest")
    return doc


@dataclass(frozen=True)
class VerifiedNotary:
    """Notary metadata that verified as of ``at``: the parsed repository and the report."""

    source: Path
    gun: str
    at: datetime
    repo: NotaryRepo
    report: Report
    manifest: dict[str, Any] | None


def load_verified(
    verify: VerifyService, source: Path, *, gun: str, at: datetime | None = None
) -> VerifiedNotary:
    """Verify an evidence archive, trust dir or Notary cache (TrustFailure when invalid).

    The reference time is ``at``, else the archive's retrieval time, else now: an
    archive keeps verifying years after its timestamp expired.
    """
    manifest = read_manifest(source)
    if at is None and manifest is not None:
        at = parse_reference_time(str(manifest.get("retrieved_at", "")))
    when = at or datetime.now(UTC)
    report = verify.verify(VerifyRequest(directory=source, gun=gun, at=when, format="notary"))
    if not report.report.valid:
        first = "; ".join(f"{f.code}: {f.message}" for f in report.report.errors[:3])
        raise TrustFailure(
            f"{source}: the Notary metadata of {gun} does not verify as of "
            f"{when.isoformat()} ({first})",
            hint=f"see trustkeep verify {source} --gun {gun} --at {when.isoformat()}",
        )
    bundle = read_metadata(source, gun=gun)
    _check_manifest(manifest, source, gun, bundle.files)
    from trustkeep.core.migration import read_notary_repo

    try:
        repo = read_notary_repo(bundle.files)
    except ValueError as e:  # Malformed: the verifier passed it, so this is defensive
        raise InputError(f"{source}: {e}") from e
    return VerifiedNotary(source, gun, when, repo, report.report, manifest)


def evidence_time(source: Path, gun: str | None) -> datetime | None:
    """The retrieval time of the evidence archive at ``source`` (None for anything else),
    after checking that GUN's files are the ones its manifest lists (TrustFailure if not)."""
    try:
        manifest = read_manifest(source)
        when = parse_reference_time(str(manifest["retrieved_at"])) if manifest else None
    except (InputError, KeyError):
        return None
    if manifest is None or when is None:
        return None
    listed = [e.get("gun") for e in manifest.get("repositories") or [] if isinstance(e, dict)]
    if gun is not None and gun in listed:
        _check_manifest(manifest, source, gun, read_metadata(source, gun=gun).files)
    return when


def _check_manifest(
    manifest: dict[str, Any] | None, source: Path, gun: str, files: Mapping[str, bytes]
) -> None:
    """An archive's files must be the ones its manifest lists (catches a damaged copy)."""
    entries = manifest.get("repositories") if manifest is not None else None
    entry = next((e for e in entries or [] if isinstance(e, dict) and e.get("gun") == gun), None)
    if entry is None or not isinstance(entry.get("files"), dict):
        return
    prefix = f"tuf/{gun}/metadata/"
    listed = {k.removeprefix(prefix): v for k, v in entry["files"].items()}
    for name in sorted(set(listed) | set(files)):
        data = files.get(name)
        if data is None or hashlib.sha256(data).hexdigest() != listed.get(name):
            raise TrustFailure(
                f"{source}: {prefix}{name} is not the file its {MANIFEST} lists "
                "(missing, added or changed since it was pulled)"
            )
