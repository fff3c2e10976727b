"""Trust pins: parse Docker / Notary pin documents, decide which pin applies, check a root.

Pure: documents and certificates in, values and problem lists out; the reference
time is a parameter. Precedence follows what the real Notary client does
(NOTARY.md §2): an exact ``certs`` key, else the longest ``prefix*`` key, else the
longest ``ca`` prefix, else trust on first use unless ``disable_tofu``. Docker's
``content-trust`` block adds ``root-keys`` (canonical IDs, globs) below
``cert-ids`` (exact names only, which win).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from trustkeep.core._pin_certs import ca_anchors, ca_chain_problem, certificate_problems
from trustkeep.errors import InputError

__all__ = [
    "MECHANISMS",
    "MODES",
    "PinDecision",
    "PinEntry",
    "PinSet",
    "ca_anchors",
    "certificate_problems",
    "decide",
    "docker_block",
    "gun_matches_pattern",
    "notary_block",
    "parse_pins",
    "pin_problem",
]

MECHANISMS = ("cert-ids", "cert-ids-wildcard", "root-keys", "ca", "tofu", "none")
MODES = ("enforced", "permissive", "disabled")
_ID_RE = re.compile(r"^[0-9a-f]{64}$")
_DOCKER_PINNING_KEYS = ("root-keys", "cert-ids", "official-library-images")
_OFFICIAL_PREFIX = "docker.io/library/"


@dataclass(frozen=True, kw_only=True)
class PinSet:
    """Pins from one document, whatever its dialect.

    ``cert_ids``: GUN (or Notary ``prefix*``) -> root certificate IDs;
    ``root_keys``: repository or glob -> canonical root key IDs (Docker only);
    ``ca``: GUN prefix -> CA bundle path (Notary only).
    """

    cert_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    root_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ca: Mapping[str, str] = field(default_factory=dict)
    disable_tofu: bool = False
    official_library_images: bool | None = None
    mode: str | None = None
    source_format: str = "notary"  # "docker" | "notary"
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class PinDecision:
    """Which single mechanism decides for one GUN, and with what."""

    mechanism: str
    entry: str | None = None
    ids: tuple[str, ...] = ()
    ca_path: str | None = None
    gun: str = ""

    def describe(self) -> str:
        if self.mechanism in ("tofu", "none"):
            return self.mechanism
        return f"{self.mechanism} entry {self.entry!r}"


@dataclass(frozen=True, kw_only=True)
class PinEntry:
    """One repository (or glob) to pin, with the IDs computed for it."""

    gun: str
    cert_ids: tuple[str, ...] = ()
    canonical_ids: tuple[str, ...] = ()
    source: str = ""


# ---------------------------------------------------------------- parsing


def _fail(source: str, message: str, hint: str | None = None) -> InputError:
    return InputError(f"{source}: {message}", hint=hint)


def _id_list(value: Any, *, source: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(source, f"{where} must be a non-empty list of IDs")
    for item in value:
        if not isinstance(item, str) or not _ID_RE.match(item):
            raise _fail(source, f"{where}: {item!r} is not a 64-character lowercase hex ID")
    return tuple(value)


def _id_map(value: Any, *, source: str, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _fail(source, f"{where} must be an object")
    out: dict[str, tuple[str, ...]] = {}
    for name, ids in value.items():
        if not name:
            raise _fail(source, f"{where} has an empty repository name")
        out[name] = _id_list(ids, source=source, where=f"{where}[{name!r}]")
    return out


def _parse_docker(content_trust: Any, *, source: str) -> PinSet:
    if not isinstance(content_trust, dict):
        raise _fail(source, '"content-trust" must be an object')
    mode = content_trust.get("mode")
    if mode is not None and mode not in MODES:
        raise _fail(source, f'"content-trust.mode" {mode!r} is not one of {", ".join(MODES)}')
    pinning = content_trust.get("trust-pinning")
    if pinning is None:
        return PinSet(mode=mode, source_format="docker", source=source)
    if not isinstance(pinning, dict):
        raise _fail(source, '"trust-pinning" must be an object')
    for key in pinning:
        if key not in _DOCKER_PINNING_KEYS:
            hint = 'the key is "official-library-images"' if key == "library-images" else None
            raise _fail(source, f'unknown key "trust-pinning.{key}"', hint)
    if not any(key in pinning for key in _DOCKER_PINNING_KEYS):
        raise _fail(
            source,
            '"trust-pinning" sets no pinning option '
            "(root-keys, cert-ids or official-library-images)",
        )
    root_keys = _id_map(pinning.get("root-keys", {}), source=source, where="root-keys")
    for pattern in root_keys:
        _check_glob(pattern, source=source)
    cert_ids = _id_map(pinning.get("cert-ids", {}), source=source, where="cert-ids")
    for name in cert_ids:
        if "*" in name:
            raise _fail(
                source,
                f"cert-ids[{name!r}]: cert-ids take exact repository names only",
                hint="pin a glob with root-keys (canonical root key IDs)",
            )
    official = pinning.get("official-library-images")
    if official is not None and not isinstance(official, bool):
        raise _fail(source, '"official-library-images" must be true or false')
    return PinSet(
        cert_ids=cert_ids,
        root_keys=root_keys,
        official_library_images=official,
        mode=mode,
        source_format="docker",
        source=source,
    )


def _check_glob(pattern: str, *, source: str) -> None:
    if "*" in pattern[:-1]:
        raise _fail(source, f"root-keys[{pattern!r}]: only a trailing * glob is supported")


def _parse_notary(pinning: Any, *, source: str) -> PinSet:
    if not isinstance(pinning, dict):
        raise _fail(source, '"trust_pinning" must be an object')
    for key in pinning:
        if key not in ("certs", "ca", "disable_tofu"):
            raise _fail(source, f'unknown key "trust_pinning.{key}"')
    certs = _id_map(pinning.get("certs", {}), source=source, where="certs")
    ca_raw = pinning.get("ca", {})
    if not isinstance(ca_raw, dict) or not all(isinstance(v, str) and v for v in ca_raw.values()):
        raise _fail(source, '"ca" must map GUN prefixes to CA bundle paths')
    disable_tofu = pinning.get("disable_tofu", False)
    if not isinstance(disable_tofu, bool):
        raise _fail(source, '"disable_tofu" must be true or false')
    return PinSet(
        cert_ids=certs,
        ca=dict(ca_raw),
        disable_tofu=disable_tofu,
        source_format="notary",
        source=source,
    )


def parse_pins(document: Mapping[str, Any], *, source: str, expect: str | None = None) -> PinSet:
    """Pins from a daemon.json, a Notary client config or a trustkeep pin file.

    The dialect is auto-detected unless ``expect`` ("docker" / "notary") is given;
    a daemon.json without ``content-trust`` or a config without ``trust_pinning``
    is then an empty pin set (trust on first use).
    """
    if not isinstance(document, Mapping):
        raise _fail(source, "not a JSON object")
    if "block" in document and isinstance(document.get("block"), Mapping):
        return parse_pins(document["block"], source=source, expect=expect)
    if expect == "docker" or (expect is None and "content-trust" in document):
        return _parse_docker(document.get("content-trust", {}), source=source)
    if expect == "notary" or (expect is None and "trust_pinning" in document):
        return _parse_notary(document.get("trust_pinning", {}), source=source)
    if expect is None and "trust-pinning" in document:
        return _parse_docker(document, source=source)
    raise _fail(
        source,
        'no pins found (expected "content-trust" of a daemon.json, '
        '"trust_pinning" of a Notary config, or a trustkeep pin file)',
    )


# ---------------------------------------------------------------- precedence


def gun_matches_pattern(pattern: str, gun: str) -> bool:
    """A trailing ``*`` matches by prefix (``*`` alone matches all); else exact."""
    if pattern.endswith("*"):
        return gun.startswith(pattern[:-1])
    return pattern == gun


def _longest_prefix(keys: Iterable[str], gun: str, *, star: bool) -> str | None:
    best: str | None = None
    for key in keys:
        if star and not key.endswith("*"):
            continue
        prefix = key[:-1] if star else key
        if gun.startswith(prefix) and (best is None or len(key) > len(best)):
            best = key
    return best


def decide(pins: PinSet, gun: str) -> PinDecision:
    """The one mechanism that decides for ``gun`` (exact beats wildcard even if wrong)."""
    if gun in pins.cert_ids:
        return PinDecision(mechanism="cert-ids", entry=gun, ids=pins.cert_ids[gun], gun=gun)
    wildcard = _longest_prefix(pins.cert_ids, gun, star=True)
    if wildcard is not None:
        ids = pins.cert_ids[wildcard]
        return PinDecision(mechanism="cert-ids-wildcard", entry=wildcard, ids=ids, gun=gun)
    if gun in pins.root_keys:
        return PinDecision(mechanism="root-keys", entry=gun, ids=pins.root_keys[gun], gun=gun)
    glob = _longest_prefix(pins.root_keys, gun, star=True)
    if glob is not None:
        return PinDecision(mechanism="root-keys", entry=glob, ids=pins.root_keys[glob], gun=gun)
    if pins.official_library_images and gun.startswith(_OFFICIAL_PREFIX):
        return PinDecision(mechanism="root-keys", entry="official-library-images", gun=gun)
    prefix = _longest_prefix(pins.ca, gun, star=False)
    if prefix is not None:
        return PinDecision(mechanism="ca", entry=prefix, ca_path=pins.ca[prefix], gun=gun)
    if pins.disable_tofu:
        return PinDecision(mechanism="none", gun=gun)
    return PinDecision(mechanism="tofu", gun=gun)


# ---------------------------------------------------------------- checking


def _short(ids: Iterable[str]) -> str:
    listed = sorted({i[:12] for i in ids})
    return ", ".join(listed) if listed else "none"


def pin_problem(
    decision: PinDecision,
    *,
    cert_id: str,
    canonical_id: str | None,
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate] = (),
    anchors: Sequence[x509.Certificate] = (),
    at: datetime,
) -> str | None:
    """Why the pin refuses this one root certificate; None when it passes.

    Notary's trust-pin checkers, one certificate at a time: ``certs`` (exact or
    wildcard) and daemon.json ``cert-ids`` compare the certificate ID (leaf plus its
    intermediates, the root.json keyid); daemon.json ``root-keys`` compares the
    canonical ID of its public key; ``ca`` needs a chain to one of ``anchors``.
    Trust on first use passes every certificate.
    """
    mechanism, entry, short = decision.mechanism, decision.entry, cert_id[:12]
    if mechanism in ("cert-ids", "cert-ids-wildcard"):
        if cert_id in decision.ids:
            return None
        return (
            f"certificate {short} is not pinned by {mechanism} entry {entry!r} "
            f"({_short(decision.ids)})"
        )
    if mechanism == "root-keys":
        if not decision.ids:
            return f"pinned by {entry!r} to keys trustkeep does not know; cannot check"
        if canonical_id in decision.ids:
            return None
        return (
            f"certificate {short} (canonical key ID {(canonical_id or 'none')[:12]}) is not "
            f"pinned by root-keys entry {entry!r} ({_short(decision.ids)})"
        )
    if mechanism == "ca":
        return ca_chain_problem(leaf, intermediates, anchors, at)
    if mechanism == "none":
        return "no pin applies and trust on first use is disabled"
    return None


# ---------------------------------------------------------------- blocks


def _merge(entries: Iterable[PinEntry], attr: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in entries:
        ids: tuple[str, ...] = getattr(entry, attr)
        if ids:
            bucket = out.setdefault(entry.gun, [])
            bucket.extend(i for i in ids if i not in bucket)
    return {gun: sorted(ids) for gun, ids in sorted(out.items())}


def docker_block(
    entries: Sequence[PinEntry],
    *,
    mode: str = "enforced",
    official_library_images: bool | None = None,
) -> dict[str, Any]:
    """``{"content-trust": ...}``: canonical IDs under root-keys, cert IDs for exact names."""
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    for entry in entries:
        _check_glob(entry.gun, source="--gun")
    exact = [e for e in entries if "*" not in e.gun]
    pinning: dict[str, Any] = {}
    root_keys = _merge(entries, "canonical_ids")
    cert_ids = _merge(exact, "cert_ids")
    if root_keys:
        pinning["root-keys"] = root_keys
    if cert_ids:
        pinning["cert-ids"] = cert_ids
    if official_library_images is not None:
        pinning["official-library-images"] = official_library_images
    if not pinning:
        raise InputError("no pins to export: the sources gave no root key or certificate ID")
    block: dict[str, Any] = {"content-trust": {"trust-pinning": pinning, "mode": mode}}
    parse_pins(block, source="exported block")  # Docker's own validation rules
    return block


def notary_block(
    entries: Sequence[PinEntry],
    *,
    ca: Mapping[str, str] | None = None,
    disable_tofu: bool = True,
) -> dict[str, Any]:
    """``{"trust_pinning": ...}`` for the Notary client: certificate IDs only."""
    for entry in entries:
        if "*" in entry.gun[:-1]:
            raise InputError(f"GUN pattern {entry.gun!r}: Notary takes only a trailing *")
        if not entry.cert_ids:
            raise InputError(
                f"{entry.gun}: no root certificate ID (Notary pins certificates, not keys)",
                hint="create the certificate with `trustkeep notary cert KEY --gun GUN` "
                "and pin from it, or use --format docker",
            )
    pinning: dict[str, Any] = {}
    certs = _merge(entries, "cert_ids")
    if certs:
        pinning["certs"] = certs
    if ca:
        pinning["ca"] = dict(sorted(ca.items()))
    pinning["disable_tofu"] = disable_tofu
    block: dict[str, Any] = {"trust_pinning": pinning}
    parse_pins(block, source="exported block")
    return block
