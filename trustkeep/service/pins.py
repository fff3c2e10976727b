"""Trust pins: export blocks, merge them into config files, check a root against a pin.

Reads sources through the adapters, computes IDs and blocks in the core
(``trustkeep.core.pinning``), and writes through ``adapters.pin_files``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from trustkeep.adapters import pin_files
from trustkeep.adapters.atomic import atomic_write
from trustkeep.adapters.pin_sources import (
    CertificateInfo,
    RootCheck,
    SourceData,
    read_source,
    trust_pin,
)
from trustkeep.core.notary_cert import RootCertificate, build_root_certificate
from trustkeep.core.pin_roots import RootInfo, certificate_pin_problems, check_notary_root
from trustkeep.core.pinning import (
    PinDecision,
    PinEntry,
    decide,
    docker_block,
    gun_matches_pattern,
    notary_block,
    parse_pins,
)
from trustkeep.errors import InputError, TrustFailure
from trustkeep.service._pin_updates import config_updates
from trustkeep.service._pin_warnings import apply_warnings

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService
    from trustkeep.service.verify import VerifyService

__all__ = [
    "ApplyResult",
    "CheckResult",
    "PinExport",
    "PinService",
    "PinSources",
]

FORMATS = ("docker", "notary", "tuf")


@dataclass(frozen=True)
class PinSources:
    """Loaded sources: bound entries (GUN known) and unbound canonical IDs per source."""

    data: tuple[SourceData, ...]
    keys: tuple[tuple[str, str], ...]  # (ref, canonical ID) of store keys


@dataclass(frozen=True)
class PinExport:
    format: str
    entries: tuple[PinEntry, ...]
    block: Mapping[str, Any] | None
    root_bytes: bytes | None
    sources: tuple[str, ...]
    root_keyids: tuple[str, ...] = ()  # --format tuf: the root role's keyids
    root_version: int | None = None
    warnings: tuple[str, ...] = ()  # for stderr; `pin apply` computes its own

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": self.format,
            "sources": list(self.sources),
            "pins": [
                {
                    "gun": e.gun,
                    "cert_ids": list(e.cert_ids),
                    "canonical_ids": list(e.canonical_ids),
                    "source": e.source,
                }
                for e in self.entries
            ],
        }
        if self.block is not None:
            doc["block"] = dict(self.block)
        if self.root_bytes is not None:
            doc["root"] = self.root_bytes.decode("utf-8")
            doc["root_version"] = self.root_version
            doc["root_keyids"] = list(self.root_keyids)
        return doc


@dataclass(frozen=True)
class ApplyResult:
    path: Path
    created: bool
    changed: bool
    dry_run: bool
    diff: str
    backup: Path | None
    warnings: tuple[str, ...]
    export: PinExport


@dataclass(frozen=True)
class CheckResult:
    gun: str
    decision: PinDecision
    problems: tuple[str, ...]
    cert_ids: tuple[str, ...]
    canonical_ids: tuple[str, ...]
    source: str
    mode: str | None = None  # Docker content-trust mode of the checked file

    @property
    def accepted(self) -> bool:
        return not self.problems


class PinService:
    def __init__(self, keys: KeyService, verify: VerifyService | None = None) -> None:
        self._keys = keys
        self._verify = verify

    # -- sources --------------------------------------------------------------

    def load_sources(
        self,
        specs: Sequence[str],
        *,
        gun: str | None = None,
        at: datetime | None = None,
        verify: bool = True,
    ) -> PinSources:
        """Read the sources; with ``verify``, each Notary root must pass the root rule with
        trust on first use (for ``gun`` when it names one repository) as of ``at`` (now)."""
        if not specs:
            raise InputError("no pin source given (--from ROOT.json | DIR | CERT.pem | KEY)")
        exact = gun if gun is not None and "*" not in gun else None
        check = RootCheck(at=at or datetime.now(UTC), gun=exact, verify=verify)
        data: list[SourceData] = []
        keys: list[tuple[str, str]] = []
        for spec in specs:
            loaded = read_source(spec, check)
            if loaded is not None:
                if loaded.kind == "metadata-dir" and verify:
                    self._verify_root_chain(Path(spec), gun=exact, at=check.at)
                data.append(loaded)
                continue
            entry = self._keys.resolve(spec.removeprefix("key:"))
            if entry.notary_canonical_id is None:
                raise InputError(
                    f"key {entry.label()} is {entry.keytype}: Notary root keys are ECDSA or RSA"
                )
            keys.append((spec, entry.notary_canonical_id))
        return PinSources(data=tuple(data), keys=tuple(keys))

    def _verify_root_chain(self, directory: Path, *, gun: str | None, at: datetime | None) -> None:
        """Full chain verification by the verifier; only the root's findings matter here."""
        if self._verify is None:
            return
        from trustkeep.service.verify import VerifyRequest

        request = VerifyRequest(directory=directory, gun=gun, at=at)
        report = self._verify.verify(request).report
        errors = [f.message for f in report.findings if f.severity == "error" and f.role == "root"]
        if errors:
            raise TrustFailure(f"{directory}: root chain does not verify: {'; '.join(errors)}")

    def entries(self, sources: PinSources, gun: str | None) -> tuple[PinEntry, ...]:
        """One entry per repository of the sources, or one for ``gun`` (exact or glob)."""
        _check_gun_option(gun)
        bound: list[PinEntry] = []
        for src in sources.data:
            bound.extend(_bound_entries(src))
        if gun is None:
            unbound = sources.keys or any(s.root_key_ids for s in sources.data)
            if unbound and not bound:
                raise InputError("a key pins nothing by itself: give --gun GUN")
            if not bound:
                raise InputError("the sources hold no Notary root to pin")
            return _merge_by_gun(bound)
        for src in sources.data:
            if src.kind in ("root", "certificate", "metadata-dir"):
                for entry in _bound_entries(src):
                    if not gun_matches_pattern(gun, entry.gun):
                        raise InputError(f"{src.spec} is the root of {entry.gun!r}, not {gun!r}")
        matched = [e for e in bound if gun_matches_pattern(gun, e.gun)]
        cert_ids = [i for e in matched for i in e.cert_ids]
        canonical = [i for e in matched for i in e.canonical_ids]
        canonical += [cid for _ref, cid in sources.keys]
        for src in sources.data:
            if src.kind == "trust-dir" and not any(
                gun_matches_pattern(gun, e.gun) for e in _bound_entries(src)
            ):
                canonical += src.root_key_ids
        if not cert_ids and not canonical:
            raise InputError(f"no root in the sources matches {gun!r}")
        names = [s.spec for s in sources.data] + [ref for ref, _ in sources.keys]
        return (
            PinEntry(
                gun=gun,
                cert_ids=tuple(dict.fromkeys(cert_ids)),
                canonical_ids=tuple(dict.fromkeys(canonical)),
                source=", ".join(names),
            ),
        )

    # -- export ---------------------------------------------------------------

    def export(
        self,
        specs: Sequence[str],
        *,
        fmt: str,
        gun: str | None = None,
        mode: str = "enforced",
        official_library_images: bool | None = None,
        ca: Mapping[str, str] | None = None,
        disable_tofu: bool = True,
    ) -> PinExport:
        if fmt not in FORMATS:
            raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        _check_gun_option(gun)
        sources = self.load_sources(specs, gun=gun)
        names = tuple(s.spec for s in sources.data) + tuple(r for r, _ in sources.keys)
        if fmt == "tuf":
            root = _single_root(sources)
            return PinExport(
                "tuf",
                (),
                None,
                root.raw,
                names,
                root_keyids=root.keyids or root.cert_ids,
                root_version=root.version,
            )
        entries = self.entries(sources, gun)
        if fmt == "docker":
            block = docker_block(
                entries, mode=mode, official_library_images=official_library_images
            )
        else:
            block = notary_block(entries, ca=ca, disable_tofu=disable_tofu)
        warnings = tuple(
            f"ca path {path!r} for {prefix!r} is relative: the Notary client resolves it "
            "from its current directory; use an absolute path"
            for prefix, path in (ca or {}).items()
            if fmt == "notary" and not Path(path).is_absolute()
        )
        return PinExport(fmt, entries, block, None, names, warnings=warnings)

    # -- apply ----------------------------------------------------------------

    def apply(
        self,
        path: Path,
        *,
        kind: str,
        specs: Sequence[str],
        gun: str | None = None,
        mode: str | None = None,
        official_library_images: bool | None = None,
        ca: Mapping[str, str] | None = None,
        disable_tofu: bool | None = None,
        trust_dir: Path | None = None,
        dry_run: bool = False,
        add: bool = False,
    ) -> ApplyResult:
        """Merge pins for the sources' repositories into a daemon.json / Notary config.

        A Notary config gets ``disable_tofu`` as ``pin export --format notary`` writes it
        (true unless ``disable_tofu=False``). A repository already pinned to other IDs
        is re-pinned with a warning; ``add`` keeps the old IDs beside the new ones (the
        window of a root rotation)."""
        with pin_files.config_lock(path):  # no concurrent apply loses our entries
            config = pin_files.read_config(path)
            export = self.export(
                specs,
                fmt=kind,
                gun=gun,
                mode=mode or "enforced",
                official_library_images=official_library_images,
                ca=ca,
                disable_tofu=True if disable_tofu is None else disable_tofu,
            )
            assert export.block is not None
            updates, replaced = config_updates(
                kind, export.block, config.document, mode=mode, disable_tofu=disable_tofu, add=add
            )
            new_text = pin_files.set_paths(config.text, updates, source=str(path))
            merged = pin_files.load_json_text(new_text, source=str(path))
            pins = parse_pins(merged, source=str(path), expect=kind)
            warnings = replaced + apply_warnings(
                pins, export.entries, config_path=path, merged=merged, trust_dir=trust_dir
            )
            changed = new_text != config.text
            diff = pin_files.unified_diff(path, config.text, new_text)
            backup = None
            if changed and not dry_run:
                backup = pin_files.write_config(config, new_text)
            return ApplyResult(
                path=path,
                created=config.text is None,
                changed=changed,
                dry_run=dry_run,
                diff=diff,
                backup=backup,
                warnings=tuple(warnings),
                export=export,
            )

    # -- check ----------------------------------------------------------------

    def check(
        self,
        path: Path,
        *,
        kind: str,
        gun: str,
        source: str,
        at: datetime | None = None,
    ) -> CheckResult:
        """Would the pins in ``path`` accept the root of ``gun`` found in ``source``?"""
        if not gun or "*" in gun or any(c.isspace() for c in gun):
            raise InputError(f"--gun {gun!r}: name one repository (pins are checked per root)")
        config = pin_files.read_config(path)
        if config.text is None:
            raise InputError(f"{path}: no such file")
        pins = parse_pins(config.document, source=str(path), expect=kind)
        decision = decide(pins, gun)
        pin = trust_pin(decision)
        when = at or datetime.now(UTC)
        # the pin decides, not trust on first use: read the root unverified, then judge it
        root = _root_for(self.load_sources([source], gun=gun, at=when, verify=False), gun)
        if isinstance(root, CertificateInfo):
            problems = certificate_pin_problems(
                root.certificate,
                cert_id=root.cert_id,
                canonical_id=root.canonical_id,
                gun=gun,
                pin=pin,
                at=when,
            )
            cert_ids: tuple[str, ...] = (root.cert_id,)
            canonical_ids: tuple[str, ...] = (root.canonical_id,)
            where = source
        else:
            verdict = check_notary_root(root.raw, source=root.source, gun=gun, pin=pin, at=when)
            problems = [p.message for p in verdict.problems]
            cert_ids, canonical_ids, where = root.cert_ids, root.canonical_ids, root.source
        return CheckResult(
            gun=gun,
            decision=decision,
            problems=tuple(problems),
            cert_ids=cert_ids,
            canonical_ids=canonical_ids,
            source=where,
            mode=pins.mode,
        )

    # -- Notary root certificates ---------------------------------------------

    def notary_cert(
        self,
        key_ref: str,
        *,
        gun: str,
        days: int,
        out: Path | None = None,
        now: datetime | None = None,
    ) -> RootCertificate:
        entry = self._keys.resolve(key_ref)
        if entry.notary_canonical_id is None:
            raise InputError(f"key {entry.label()} is {entry.keytype}: use an ECDSA P-256 key")
        private_key = self._keys.private_key(entry)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise InputError(f"key {entry.label()} cannot sign a Notary root certificate")
        start = (now or datetime.now(UTC)).replace(microsecond=0)
        cert = build_root_certificate(
            private_key, gun, not_before=start, days=days, serial=secrets.randbits(127) | 1
        )
        if out is not None:
            atomic_write(out, cert.pem, mode=0o644)
        return cert


def _check_gun_option(gun: str | None) -> None:
    if gun is not None and (not gun or "*" in gun[:-1] or any(c.isspace() for c in gun)):
        raise InputError(f"--gun {gun!r}: a repository name, or a prefix ending in one '*'")
    if gun is not None and gun.endswith("/"):
        raise InputError(
            f"--gun {gun!r}: no repository name ends in '/', so this pin would never apply",
            hint=f"pin every repository under it with --gun '{gun}*'",
        )


def _bound_entries(src: SourceData) -> list[PinEntry]:
    out: list[PinEntry] = []
    for root in src.roots:
        if root.format != "notary":
            raise InputError(
                f"{root.source} is a TUF root: Docker and Notary pins need a Notary root "
                "(use --format tuf to ship a TUF root)"
            )
        if root.gun:
            out.append(
                PinEntry(
                    gun=root.gun,
                    cert_ids=root.cert_ids,
                    canonical_ids=root.canonical_ids,
                    source=root.source,
                )
            )
    for cert in src.certificates:
        out.append(
            PinEntry(
                gun=cert.gun,
                cert_ids=(cert.cert_id,),
                canonical_ids=(cert.canonical_id,),
                source=src.spec,
            )
        )
    return out


def _merge_by_gun(entries: Sequence[PinEntry]) -> tuple[PinEntry, ...]:
    merged: dict[str, PinEntry] = {}
    for e in entries:
        old = merged.get(e.gun)
        if old is None:
            merged[e.gun] = e
        else:
            merged[e.gun] = PinEntry(
                gun=e.gun,
                cert_ids=tuple(dict.fromkeys(old.cert_ids + e.cert_ids)),
                canonical_ids=tuple(dict.fromkeys(old.canonical_ids + e.canonical_ids)),
                source=f"{old.source}, {e.source}",
            )
    return tuple(merged[g] for g in sorted(merged))


def _single_root(sources: PinSources) -> RootInfo:
    notary = [s.spec for s in sources.data if s.kind == "trust-dir"]
    notary += [r.source for s in sources.data for r in s.roots if r.format == "notary"]
    if notary:
        raise InputError(
            f"{notary[0]} is Notary trust data: --format tuf ships a TUF root.json, "
            "which no Notary root is",
            hint="pin Notary repositories with --format notary (Notary client) "
            "or --format docker (daemon.json)",
        )
    roots = [r for s in sources.data for r in s.roots]
    if len(roots) != 1 or sources.keys or any(s.certificates for s in sources.data):
        raise InputError("--format tuf needs exactly one root.json or metadata directory")
    return roots[0]


def _root_for(sources: PinSources, gun: str) -> RootInfo | CertificateInfo:
    if sources.keys:
        raise InputError("pin check needs a root (root.json, metadata or trust dir), not a key")
    for src in sources.data:
        for cert in src.certificates:
            return cert
        candidates = [r for r in src.roots if r.format == "notary"]
        if src.kind == "trust-dir":
            candidates = [r for r in candidates if r.gun == gun]
        if candidates:
            return candidates[0]
    raise InputError(f"no Notary root for {gun!r} in the source")
