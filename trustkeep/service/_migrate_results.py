"""The values ``migrate notary`` and ``verify --migrated-from`` return (data, no rendering)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustkeep.core import migration as mig

__all__ = ["CarriedKey", "CarriedRole", "MigrationCheck", "MigrationResult", "NotCarried"]


@dataclass(frozen=True)
class CarriedKey:
    notary_keyid: str
    tuf_keyid: str
    how: str

    def to_dict(self) -> dict[str, str]:
        return {"notary_keyid": self.notary_keyid, "tuf_keyid": self.tuf_keyid, "how": self.how}


@dataclass(frozen=True)
class CarriedRole:
    name: str
    delegated_by: str
    threshold: int
    keys: tuple[CarriedKey, ...]
    mapping: mig.PathMapping | None
    targets: int
    signatures: int
    waiting: tuple[str, ...]  # keyids whose signature is still needed

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.name,
            "delegated_by": self.delegated_by,
            "threshold": self.threshold,
            "keys": [k.to_dict() for k in self.keys],
            "paths": self.mapping.to_dict() if self.mapping else None,
            "targets": self.targets,
            "signatures": self.signatures,
            "complete": self.signatures >= self.threshold,
            "waiting_for": list(self.waiting),
        }


@dataclass(frozen=True)
class NotCarried:
    what: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"what": self.what, "reason": self.reason}


@dataclass(frozen=True)
class MigrationResult:
    directory: Path
    gun: str
    source: Path
    notary_root_version: int
    roles: tuple[CarriedRole, ...]
    not_carried: tuple[NotCarried, ...]
    notes: tuple[str, ...]
    root_keys: tuple[str, ...]
    kept_notary_root_key: str | None
    statement: Path
    notary_signed: bool
    written: tuple[Path, ...]

    @property
    def complete(self) -> bool:
        return all(r.signatures >= r.threshold for r in self.roles)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gun": self.gun,
            "source": str(self.source),
            "directory": str(self.directory),
            "notary_root_version": self.notary_root_version,
            "root_keys": list(self.root_keys),
            "kept_notary_root_key": self.kept_notary_root_key,
            "statement": str(self.statement),
            "statement_signed_by_notary_root": self.notary_signed,
            "complete": self.complete,
            "carried": [r.to_dict() for r in self.roles],
            "not_carried": [n.to_dict() for n in self.not_carried],
            "notes": list(self.notes),
            "written": [str(p) for p in self.written],
        }


@dataclass(frozen=True)
class MigrationCheck:
    statement: Path
    source: Path
    check: mig.StatementCheck

    def to_dict(self) -> dict[str, Any]:
        c = self.check
        return {
            "valid": c.valid,
            "statement": str(self.statement),
            "migrated_from": str(self.source),
            "gun": c.gun,
            "tuf_root_signatures": c.tuf_signatures,
            "tuf_root_threshold": c.tuf_threshold,
            "notary_root_signed_by": list(c.notary_signed_by),
            "problems": list(c.problems),
            "warnings": list(c.warnings),
        }
