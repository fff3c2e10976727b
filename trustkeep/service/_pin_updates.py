"""What ``pin apply`` sets in a daemon.json or Notary client config, and what it replaces.

``block`` is the exported pin block, ``existing`` the config as it is. Pins of a
repository are ID lists: replacing a different list warns (clients stop accepting
the old root at once), and ``add`` keeps the old IDs beside the new ones, for the
window of a root rotation. A Notary config gets ``disable_tofu`` as ``pin export
--format notary`` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["config_updates"]


def config_updates(
    kind: str,
    block: Mapping[str, Any],
    existing: Mapping[str, Any],
    *,
    mode: str | None,
    disable_tofu: bool | None,
    add: bool,
) -> tuple[list[tuple[list[str], Any]], list[str]]:
    """The paths to set in the config, and a warning per pin replaced or flag changed."""
    updates: list[tuple[list[str], Any]] = []
    warnings: list[str] = []

    def pin_ids(path: list[str], ids: list[str]) -> None:
        old = _lookup(existing, path)
        if isinstance(old, list) and old and set(old) != set(ids):
            if add:
                ids = list(dict.fromkeys([*old, *ids]))
            else:
                warnings.append(
                    f"{path[-1]}: replacing its pinned IDs {', '.join(map(str, old))} with "
                    f"{', '.join(ids)} (keep both during a root rotation with --add)"
                )
        updates.append((path, ids))

    if kind == "docker":
        ct = block["content-trust"]
        for option in ("cert-ids", "root-keys"):
            for name, ids in ct["trust-pinning"].get(option, {}).items():
                pin_ids(["content-trust", "trust-pinning", option, name], ids)
        official = ct["trust-pinning"].get("official-library-images")
        if official is not None:
            updates.append(
                (["content-trust", "trust-pinning", "official-library-images"], official)
            )
        had = existing.get("content-trust")
        if mode is not None or not isinstance(had, dict) or "mode" not in had:
            updates.append((["content-trust", "mode"], ct["mode"]))
        return updates, warnings
    tp = block["trust_pinning"]
    for name, ids in tp.get("certs", {}).items():
        pin_ids(["trust_pinning", "certs", name], ids)
    for prefix, ca_path in tp.get("ca", {}).items():
        updates.append((["trust_pinning", "ca", prefix], ca_path))
    tofu_path = ["trust_pinning", "disable_tofu"]
    if disable_tofu is None and _lookup(existing, tofu_path) is False:
        warnings.append(
            "disable_tofu: was false, now true: repositories no pin covers are refused "
            "(keep trust on first use with --allow-tofu)"
        )
    updates.append((tofu_path, True if disable_tofu is None else disable_tofu))
    return updates, warnings


def _lookup(document: Mapping[str, Any], path: Sequence[str]) -> object:
    value: object = document
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value
