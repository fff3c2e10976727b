"""Warnings for pins that would be silently ignored by the client (NOTARY.md §2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trustkeep.adapters.pin_sources import cached_root_path
from trustkeep.core.pinning import PinEntry, PinSet, decide, gun_matches_pattern

__all__ = ["apply_warnings", "cached_roots"]


def cached_roots(trust_dir: Path, pattern: str) -> list[tuple[str, Path]]:
    """Cached root.json files under ``trust_dir`` for GUNs matching ``pattern``."""
    if "*" not in pattern:
        path = cached_root_path(trust_dir, pattern)
        return [(pattern, path)] if path.is_file() else []
    tuf = trust_dir / "tuf"
    if not tuf.is_dir():
        return []
    found = []
    for root in sorted(tuf.glob("**/metadata/root.json"))[:10_000]:
        gun = root.parent.parent.relative_to(tuf).as_posix()
        if gun_matches_pattern(pattern, gun):
            found.append((gun, root))
    return found


def _trust_dirs(
    config_path: Path, merged: Mapping[str, Any], trust_dir: Path | None, kind: str
) -> list[Path]:
    dirs = [trust_dir] if trust_dir is not None else []
    configured = merged.get("trust_dir") if kind == "notary" else None
    if isinstance(configured, str) and configured:
        path = Path(configured).expanduser()
        dirs.append(path if path.is_absolute() else config_path.parent / path)
    return dirs


def apply_warnings(
    pins: PinSet,
    entries: Sequence[PinEntry],
    *,
    config_path: Path,
    merged: Mapping[str, Any],
    trust_dir: Path | None,
) -> list[str]:
    warnings: list[str] = []
    guns = [e.gun for e in entries]
    for key in pins.cert_ids:
        if "*" in key:
            continue
        shadowed = [g for g in guns if g != key and g.startswith(key)]
        if key.endswith("/") or shadowed:
            warnings.append(
                f"{config_path}: certs key {key!r} has no '*' and matches only that exact "
                f"name; it is ignored for other repositories (write {key + '*'!r})"
            )
    for prefix, ca_path in pins.ca.items():
        if not Path(ca_path).is_absolute():
            warnings.append(
                f"{config_path}: ca path {ca_path!r} for {prefix!r} is relative: the client "
                "resolves it from its current directory; use an absolute path"
            )
        elif not Path(ca_path).is_file():
            warnings.append(f"{config_path}: ca file {ca_path} for {prefix!r} does not exist")
    for entry in entries:
        if "*" in entry.gun:
            continue
        decision = decide(pins, entry.gun)
        if decision.entry != entry.gun:
            warnings.append(
                f"{entry.gun}: {decision.describe()} decides for this repository, "
                "not the entry just written"
            )
    if pins.source_format == "docker" and pins.mode in ("permissive", "disabled"):
        warnings.append(f"{config_path}: content-trust mode is {pins.mode}: pins are not enforced")
    kind = pins.source_format
    for directory in _trust_dirs(config_path, merged, trust_dir, kind):
        for entry in entries:
            for gun, root in cached_roots(directory, entry.gun):
                warnings.append(
                    f"{gun}: {root} is cached; the client trusts the cached root and ignores "
                    "pins for this repository (remove it to bootstrap from the pin)"
                )
    return warnings
