"""A repository's staging area on disk: ``DIR/staged/<role>.json``, never read by clients.

Every change not yet signed by its thresholds lives here (plain file names, URL-quoted
like the published ones); ``publish`` moves it to the published files. Writes atomic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from trustkeep.adapters.atomic import AtomicWriter
from trustkeep.adapters.repo_dir import load_repo, read_metadata, serialize
from trustkeep.core.rolenames import role_filename
from trustkeep.core.tuf_repo.staging import overlay
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.errors import InputError, StorageError

__all__ = [
    "STAGED_DIR",
    "drop_staged",
    "has_published_root",
    "is_staged_file",
    "load_published",
    "load_working",
    "read_staged",
    "staged_dir",
    "staged_path",
    "write_staged",
]

STAGED_DIR = "staged"
_TYPES = {"root": Root, "snapshot": Snapshot, "timestamp": Timestamp}


def staged_dir(directory: Path) -> Path:
    return directory / STAGED_DIR


def staged_path(directory: Path, role: str) -> Path:
    return staged_dir(directory) / role_filename(role)


def is_staged_file(path: Path) -> bool:
    """Whether ``path`` is a file of some repository's staging area (``DIR/staged/x.json``)."""
    return path.parent.name == STAGED_DIR


def _role_of(path: Path, md: Metadata[Any]) -> str:
    role = unquote(path.name.removesuffix(".json"))
    expected = _TYPES.get(role, Targets)
    if not isinstance(md.signed, expected):
        want = role if role in _TYPES else "targets"
        raise InputError(f"{path}: holds {md.signed.type} metadata, expected {want}")
    return role


def read_staged(directory: Path) -> dict[str, Metadata[Any]]:
    """Role -> staged metadata (empty when nothing is staged)."""
    area = staged_dir(directory)
    if not area.is_dir():
        return {}
    out: dict[str, Metadata[Any]] = {}
    try:
        names = sorted(os.listdir(area))
    except OSError as e:
        raise StorageError(f"{area}: cannot list: {e.strerror}") from e
    for name in names:
        path = area / name
        if not name.endswith(".json") or name.startswith(".") or not path.is_file():
            continue
        md = read_metadata(path)
        out[_role_of(path, md)] = md
    return out


def has_published_root(directory: Path) -> bool:
    return (directory / "root.json").exists() or any(directory.glob("*.root.json"))


def load_published(directory: Path) -> RepoState | None:
    """The published repository, or None when nothing is published yet (only staged)."""
    if not has_published_root(directory) and staged_path(directory, "root").is_file():
        return None
    return load_repo(directory)


def load_working(directory: Path) -> tuple[RepoState | None, RepoState]:
    """(published, working): the working state overlays the staged roles on the published.

    With nothing staged both are the same object (a command changing the working state
    changes what it read, as before staging existed).
    """
    published = load_published(directory)
    staged = read_staged(directory)
    if not staged:
        if published is None:  # pragma: no cover - load_published needs a staged root
            raise InputError(f"{directory}: no root.json here")
        return published, published  # one load: nothing is staged
    return published, overlay(published, staged)


def write_staged(
    directory: Path,
    state: RepoState,
    roles: list[str],
    encoded: dict[str, bytes] | None = None,
) -> list[Path]:
    """Write ``roles`` of ``state`` into the staging area; returns the paths.

    ``encoded``, when given, receives each role's bytes as written (publishing them at
    once writes the same bytes without encoding them again)."""
    area = staged_dir(directory)
    try:
        area.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"{area}: cannot create: {e.strerror}") from e
    written = []
    with AtomicWriter(area) as writer:  # one directory fsync, not one per staged file
        for role in roles:
            path = area / role_filename(role)
            data = serialize(state.role(role))
            writer.write(path, data)
            written.append(path)
            if encoded is not None:
                encoded[role] = data
    return written


def drop_staged(directory: Path, roles: list[str]) -> list[str]:
    """Remove the staged files of ``roles`` (the area too once empty); returns those removed."""
    removed = []
    area = staged_dir(directory)
    for role in roles:
        path = area / role_filename(role)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise StorageError(f"{path}: cannot remove: {e.strerror}") from e
        removed.append(role)
    try:
        if area.is_dir() and not any(area.iterdir()):
            area.rmdir()
    except OSError:
        pass  # another file appeared meanwhile: the area stays
    return removed
