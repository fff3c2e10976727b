"""The pins a new root needs, as blocks the ceremony shows and saves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.adapters.atomic import atomic_write
from trustkeep.errors import InputError, StorageError

if TYPE_CHECKING:
    from trustkeep.service import Service

__all__ = ["PinBlock", "new_root_pins", "write_pin"]


@dataclass(frozen=True)
class PinBlock:
    kind: str
    title: str
    text: str
    default_path: Path
    note: str = ""


def new_root_pins(
    service: Service, *, fmt: str, directory: Path, gun: str | None
) -> list[PinBlock]:
    """TUF: the bootstrap root; Notary: the daemon.json and Notary client blocks."""
    if fmt == "tuf":
        export = service.pins.export([str(directory / "root.json")], fmt="tuf")
        text = (export.root_bytes or b"").decode("utf-8")
        where = directory.parent / f"{directory.name}.trusted-root.json"
        note = "a TUF root is pinned by its root.json; Docker and Notary pin Notary roots"
        return [
            PinBlock("tuf", "TUF bootstrap root (clients start from it)", text, where),
            PinBlock("docker", "daemon.json content-trust", "", directory, note=note),
        ]
    out = []
    source = [str(directory / "root.crt")]
    for kind, title, name in (
        ("docker", "daemon.json content-trust block", "daemon-pins.json"),
        ("notary", "Notary client trust_pinning", "notary-pins.json"),
    ):
        export = service.pins.export(source, fmt=kind, gun=gun)
        text = json.dumps(export.block, indent=2) + "\n"
        out.append(PinBlock(kind, title, text, directory / name))
    return out


def write_pin(block: PinBlock, path: Path) -> Path:
    """Write one block atomically (mode 0644: pins are public)."""
    if not block.text:
        raise InputError(f"{block.title}: nothing to save ({block.note})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"{path.parent}: cannot create directory: {e.strerror}") from e
    atomic_write(path, block.text.encode("utf-8"), mode=0o644)
    return path
