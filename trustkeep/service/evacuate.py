"""EvacuateService: a GUN's complete trust data from a notary server, as verified evidence.

``pull`` fetches every root version (``/<v>.root.json``), timestamp, snapshot by the
hash timestamp records, targets and every delegated role by the hashes snapshot
records, all size-bounded. The files are laid out in a private staging directory in
Notary's cache layout (``tuf/<GUN>/metadata/``) and verified there by the same
:class:`VerifyService` call ``trustkeep verify OUT --gun GUN`` makes later — once from
the anchor (pins, the trust dir's cached root, or none) and once from root v1, so every
root version is checked. Only GUNs that verified are moved into OUT, with a manifest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trustkeep import __version__
from trustkeep.adapters.atomic import atomic_write
from trustkeep.adapters.metadata_source import read_input_file
from trustkeep.adapters.notary_http import (
    NetworkError,
    NotaryHTTP,
    ResponseTooLarge,
    read_ca_bundle,
)
from trustkeep.core.rolenames import validate_notary_role_name
from trustkeep.core.secrets import SecretsHandler
from trustkeep.core.verify import Finding, Report
from trustkeep.errors import InputError, StorageError, TrustFailure, TrustkeepError
from trustkeep.service._evidence import (
    MANIFEST,
    MANIFEST_KIND,
    VerifiedNotary,
    load_verified,
    read_manifest,
)
from trustkeep.service.verify import VerifyRequest, VerifyService

__all__ = [
    "MANIFEST",
    "PULL_LIMITS",
    "EvacuateService",
    "GunPull",
    "PullLimits",
    "PullResult",
    "VerifiedNotary",
    "load_verified",
    "read_manifest",
]


@dataclass(frozen=True)
class PullLimits:
    """Bounds on what one GUN may make trustkeep download."""

    root_bytes: int = 5 * 1024 * 1024
    timestamp_bytes: int = 1024 * 1024
    role_bytes: int = 64 * 1024 * 1024
    total_bytes: int = 512 * 1024 * 1024
    root_versions: int = 1000
    delegations: int = 10_000


PULL_LIMITS = PullLimits()


@dataclass(frozen=True)
class GunPull:
    """One GUN's outcome: verified (and written) or refused, with the verification report."""

    gun: str
    valid: bool
    report: Report | None
    files: dict[str, str] = field(default_factory=dict)  # archive path -> sha256
    root_versions: tuple[int, ...] = ()
    error: TrustkeepError | None = None
    skipped: tuple[str, ...] = ()  # fetched but outside what verification checked: not kept

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "gun": self.gun,
            "valid": self.valid,
            "written": self.valid,
            "root_versions": list(self.root_versions),
            "files": len(self.files),
            "skipped": list(self.skipped),
            "verification": self.report.to_dict() if self.report else None,
        }
        if self.error is not None:
            doc["error"] = {
                "message": self.error.message,
                "hint": self.error.hint,
                "exit_code": self.error.exit_code,
            }
        return doc


@dataclass(frozen=True)
class PullResult:
    out: Path
    server: str
    retrieved_at: datetime
    archive: bool
    repositories: tuple[GunPull, ...]

    @property
    def written(self) -> bool:
        return any(r.valid for r in self.repositories)

    @property
    def exit_code(self) -> int:
        codes = [r.error.exit_code if r.error else 1 for r in self.repositories if not r.valid]
        return max(codes, default=0)


def _b64hex(value: Any) -> str | None:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _not_notary(name: str, what: str) -> NetworkError:
    """A server answer that is not Notary metadata at all (exit 3: the wrong server, a
    proxy's error page, or a hostile server; nothing was verified or written)."""
    return NetworkError(
        f"{name} from the server {what}",
        hint="check that --server is the notary server (not a registry or a web page)",
    )


def _json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError, UnicodeDecodeError) as e:
        raise _not_notary(name, "is not JSON") from e


def _meta(raw: bytes, name: str) -> dict[str, Any]:
    doc = _json(raw, name)
    signed = doc.get("signed") if isinstance(doc, dict) else None
    meta = signed.get("meta") if isinstance(signed, dict) else None
    if not isinstance(meta, dict):
        raise _not_notary(name, "has no signed.meta")
    return meta


def _version(raw: bytes, name: str) -> int:
    doc = _json(raw, name)
    signed = doc.get("signed") if isinstance(doc, dict) else None
    version = signed.get("version") if isinstance(signed, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _not_notary(name, "is not signed root metadata with a positive version")
    return version


class _Fetch:
    """The downloads of one GUN, counted against the limits."""

    def __init__(self, http: NotaryHTTP, gun: str, limits: PullLimits) -> None:
        self.http, self.gun, self.limits = http, gun, limits
        self.total = 0

    def get(self, name: str, limit: int, *, required: bool = True) -> bytes | None:
        limit = min(limit, self.limits.total_bytes - self.total)
        data = self.http.get(f"v2/{self.gun}/_trust/tuf/{name}", limit=limit)
        if data is None and required:
            raise InputError(
                f"{self.http.base}: no {name} for {self.gun}",
                hint="check the GUN (e.g. registry.example.com/org/app) and --server",
            )
        self.total += len(data or b"")
        return data

    def by_hash(self, role: str, entry: Any) -> bytes | None:
        """``<role>.<sha256>.json`` within the recorded length (None when not recorded)."""
        if not isinstance(entry, dict):
            return None
        digest = _b64hex((entry.get("hashes") or {}).get("sha256"))
        length = entry.get("length")
        if digest is None or not isinstance(length, int) or length < 0:
            return None
        if length > self.limits.role_bytes:
            raise NetworkError(
                f"{self.gun}: {role} is {length} bytes, more than the "
                f"{self.limits.role_bytes} bytes allowed"
            )
        if length > self.limits.total_bytes - self.total:
            raise NetworkError(
                f"{self.gun}: with {role} ({length} bytes) the GUN's files are more than the "
                f"{self.limits.total_bytes} bytes allowed in all"
            )
        try:
            return self.get(f"{role}.{digest}.json", length)
        except ResponseTooLarge as e:
            raise TrustFailure(
                f"{self.gun}: the server sent more for {role} than the {length} bytes recorded "
                "for it (length-mismatch)"
            ) from e

    def all(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        root = self.get("root.json", self.limits.root_bytes)
        assert root is not None
        current = _version(root, "root.json")
        if current > self.limits.root_versions:
            raise NetworkError(
                f"{self.gun}: the server's root is v{current}: more than the "
                f"{self.limits.root_versions} root versions allowed"
            )
        files["root.json"] = root
        for v in range(1, current):
            data = self.get(f"{v}.root.json", self.limits.root_bytes, required=False)
            if data is None:
                raise TrustFailure(
                    f"{self.http.base}: root v{v} of {self.gun} is missing (the current root "
                    f"is v{current}); every version is needed to check the root chain"
                )
            files[f"{v}.root.json"] = data
        files[f"{current}.root.json"] = root
        ts = self.get("timestamp.json", self.limits.timestamp_bytes)
        assert ts is not None
        files["timestamp.json"] = ts
        snapshot = self.by_hash("snapshot", _meta(ts, "timestamp.json").get("snapshot"))
        if snapshot is None:
            return files
        files["snapshot.json"] = snapshot
        meta = _meta(snapshot, "snapshot.json")
        roles = [r for r in meta if r not in ("root", "snapshot", "timestamp")]
        if len(roles) > self.limits.delegations + 1:
            raise NetworkError(
                f"{self.gun}: snapshot.json from the server lists {len(roles)} roles, "
                f"more than the {self.limits.delegations + 1} roles allowed"
            )
        for role in roles:
            if role != "targets":
                try:
                    validate_notary_role_name(role)
                except InputError as e:
                    raise _not_notary("snapshot.json", f"lists a bad role name: {e}") from e
            data = self.by_hash(role, meta[role])
            if data is not None:
                files[f"{role}.json"] = data
        return files


class EvacuateService:
    """``pull(server, guns, out)`` → PullResult."""

    def __init__(self, verify: VerifyService, secrets_handler: SecretsHandler) -> None:
        self.verify = verify
        self.secrets_handler = secrets_handler

    def pull(
        self,
        server: str,
        guns: Sequence[str],
        out: Path,
        *,
        pins: Path | None = None,
        trust_dir: Path | None = None,
        all_guns: bool = False,
        tlscacert: Path | None = None,
        archive: bool = False,
        username: str | None = None,
        now: datetime | None = None,
        limits: PullLimits = PULL_LIMITS,
        progress: Callable[[GunPull], None] | None = None,
    ) -> PullResult:
        """Fetch, verify and write the GUNs; nothing is written for a GUN that fails."""
        if pins is not None and trust_dir is not None:
            raise InputError("give one anchor: --pins FILE or --trust-dir DIR")
        targets = list(dict.fromkeys([*guns, *(self.cached_guns(trust_dir) if all_guns else [])]))
        if all_guns and trust_dir is None:
            raise InputError("--all needs --trust-dir DIR (the GUNs cached there are pulled)")
        if not targets:
            raise InputError("no GUN to pull: name one or more, or --all with --trust-dir")
        archive = archive or out.name.endswith((".tar.gz", ".tgz"))
        self._check_out(out, archive)
        if pins is not None:
            read_input_file(pins, what="pin file")
        http = NotaryHTTP(
            server,
            ca_bundle=read_ca_bundle(tlscacert) if tlscacert else None,
            username=username,
            password=self.secrets_handler,
        )
        at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        parent = out.parent if str(out.parent) else Path(".")
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
        except OSError as e:
            raise StorageError(f"{parent}: cannot create a staging directory: {e.strerror}") from e
        try:
            results = []
            for gun in targets:
                result = self._pull_one(http, gun, staging, pins, trust_dir, at, limits)
                results.append(result)
                if progress is not None:
                    progress(result)
            pulled = PullResult(out, http.base, at, archive, tuple(results))
            if pulled.written:
                self._write_manifest(staging, pulled, pins, trust_dir)
                self._publish(staging, out, archive, at)
            return pulled
        finally:
            http.close()
            shutil.rmtree(staging, ignore_errors=True)

    def signed_targets(
        self, source: Path, *, gun: str, at: datetime | None = None
    ) -> VerifiedNotary:
        """What GUN signed, from verified metadata (an archive, a trust dir, a cache)."""
        return load_verified(self.verify, source, gun=gun, at=at)

    @staticmethod
    def retrieval_time(source: Path, gun: str | None = None) -> datetime | None:
        """When the evidence archive at ``source`` was pulled (None for anything else);
        with ``gun``, its files must be the ones the manifest lists (TrustFailure)."""
        return VerifyService.retrieval_time(source, gun)

    @staticmethod
    def cached_guns(trust_dir: Path | None) -> list[str]:
        if trust_dir is None:
            return []
        tuf = trust_dir / "tuf"
        if not tuf.is_dir():
            raise InputError(f"{trust_dir}: not a Notary trust directory (no tuf/)")
        return sorted(
            str(p.parent.relative_to(tuf))
            for p in tuf.glob("**/metadata")
            if (p / "root.json").is_file()
        )

    @staticmethod
    def _check_out(out: Path, archive: bool) -> None:
        if archive and not out.name.endswith((".tar.gz", ".tgz")):
            raise InputError(f"{out}: --archive writes a .tar.gz; name OUT something.tar.gz")
        if out.exists() and (archive or not out.is_dir() or any(out.iterdir())):
            raise InputError(
                f"{out}: already exists; an evidence archive is written once",
                hint="choose a new OUT (or remove the old one)",
            )

    def _pull_one(
        self,
        http: NotaryHTTP,
        gun: str,
        staging: Path,
        pins: Path | None,
        trust_dir: Path | None,
        at: datetime,
        limits: PullLimits,
    ) -> GunPull:
        if not gun or gun.startswith("/") or {"", ".", ".."} & set(gun.split("/")):
            return GunPull(gun, False, None, error=InputError(f"{gun!r} is not a GUN"))
        metadata = staging / "tuf" / gun / "metadata"
        try:
            files = _Fetch(http, gun, limits).all()
            for name, data in files.items():
                path = metadata / name
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
            report, covered = self._verify(staging, gun, pins, trust_dir, at)
        except TrustkeepError as e:
            shutil.rmtree(staging / "tuf" / gun, ignore_errors=True)
            return GunPull(gun, False, None, error=e)
        versions = tuple(sorted(int(n.split(".")[0]) for n in files if n[0].isdigit()))
        if not report.valid:
            shutil.rmtree(staging / "tuf" / gun, ignore_errors=True)
            return GunPull(gun, False, report, root_versions=versions)
        current = f"{max(versions)}.root.json"
        skipped = tuple(
            n
            for n in sorted(files)
            if n not in covered and not (n == "root.json" and files[n] == files.get(current))
        )
        for name in skipped:  # listed by snapshot but outside the delegation tree: unchecked
            (metadata / name).unlink()
            del files[name]
        hashes = {
            f"tuf/{gun}/metadata/{name}": hashlib.sha256(data).hexdigest()
            for name, data in sorted(files.items())
        }
        return GunPull(gun, True, report, hashes, versions, skipped=skipped)

    def _verify(
        self, staging: Path, gun: str, pins: Path | None, trust_dir: Path | None, at: datetime
    ) -> tuple[Report, set[str]]:
        """From the anchor, then from root v1: one report holding both runs' errors, and
        the files the runs checked."""
        cached = trust_dir / "tuf" / gun / "metadata" / "root.json" if trust_dir else None
        root = cached if cached is not None and cached.is_file() else None
        anchored = self.verify.verify(
            VerifyRequest(directory=staging, gun=gun, pins=pins, root=root, at=at, jobs=1)
        ).report
        covered = {r.file for r in anchored.roles if r.file}
        if pins is None and root is None:
            return anchored, covered
        chain = self.verify.verify(VerifyRequest(directory=staging, gun=gun, at=at, jobs=1)).report
        covered |= {r.file for r in chain.roles if r.file}
        extra = tuple(
            Finding(
                severity=f.severity,
                code=f.code,
                role=f.role,
                message=f"chain from root v1: {f.message}",
            )
            for f in chain.findings
            if f.severity == "error" and f not in anchored.findings
        )
        report = Report(
            format=anchored.format,
            anchor=anchored.anchor,
            roles=anchored.roles,
            findings=(*anchored.findings, *extra),
        )
        return report, covered

    def _write_manifest(
        self, staging: Path, pulled: PullResult, pins: Path | None, trust_dir: Path | None
    ) -> None:
        anchor: dict[str, Any] | None = None
        if pins is not None:
            data = read_input_file(pins, what="pin file")
            atomic_write(staging / "anchor-pins.json", data)
            anchor = {"pins": str(pins), "file": "anchor-pins.json"}
            anchor["sha256"] = hashlib.sha256(data).hexdigest()
        elif trust_dir is not None:
            anchor = {"trust_dir": str(trust_dir)}
        when = pulled.retrieved_at.isoformat().replace("+00:00", "Z")
        doc = {
            "schema": 1,
            "kind": MANIFEST_KIND,
            "tool": f"trustkeep {__version__}",
            "server": pulled.server,
            "retrieved_at": when,
            "anchor": anchor,
            "repositories": [
                {
                    "gun": r.gun,
                    "root_versions": list(r.root_versions),
                    "files": r.files,
                    "verdict": r.report.to_dict() if r.report else None,
                    "verify": f"trustkeep verify OUT --gun {r.gun} --at {when}",
                }
                for r in pulled.repositories
                if r.valid
            ],
        }
        text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        atomic_write(staging / MANIFEST, text.encode("utf-8"))

    @staticmethod
    def _publish(staging: Path, out: Path, archive: bool, at: datetime) -> None:
        if not archive:
            try:
                staging.chmod(0o755)  # mkdtemp made it private; evidence is for sharing
                if out.is_dir():
                    out.rmdir()  # empty (checked); replaced by the staging directory
                staging.rename(out)
            except OSError as e:
                raise StorageError(f"{out}: cannot write: {e.strerror}") from e
            return
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                data = path.read_bytes()
                info = tarfile.TarInfo(path.relative_to(staging).as_posix())
                info.size, info.mode, info.mtime = len(data), 0o644, int(at.timestamp())
                tar.addfile(info, io.BytesIO(data))
        atomic_write(out, buffer.getvalue())
