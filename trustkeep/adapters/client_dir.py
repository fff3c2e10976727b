"""The client's local state: a metadata directory and a target directory.

The metadata directory holds, flat at its top level, one ``<role>.json`` per
trusted role (role names URL-quoted, so none can leave the directory) with the
exact bytes that were verified, plus ``root_history/N.root.json`` for every
trusted root version (python-tuf's client cache layout, which ``trustkeep
verify`` reads). Every write is atomic. Reads are bounded: a local file larger
than the limit is treated as absent (it is never trusted without a check anyway).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from trustkeep.adapters.atomic import atomic_write
from trustkeep.core.rolenames import role_filename
from trustkeep.errors import StorageError

__all__ = ["MetadataDir", "TargetDir"]

ROOT_HISTORY = "root_history"


def _read_bounded(path: Path, limit: int) -> bytes | None:
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    except OSError as e:
        raise StorageError(f"{path}: cannot read: {e.strerror}") from e
    return data if len(data) <= limit else None


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"{path}: cannot create directory: {e.strerror}") from e


class MetadataDir:
    """``DIR/<quoted role>.json`` and ``DIR/root_history/N.root.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def file(self, role: str) -> Path:
        return self.path / role_filename(role)

    def read(self, role: str, *, limit: int) -> bytes | None:
        return _read_bounded(self.file(role), limit)

    def write(self, role: str, data: bytes) -> None:
        _make_dir(self.path)
        atomic_write(self.file(role), data)

    def read_root(self, version: int, *, limit: int) -> bytes | None:
        """``root_history/N.root.json``, or None."""
        return _read_bounded(self.path / ROOT_HISTORY / f"{version}.root.json", limit)

    def write_root(self, version: int, data: bytes) -> None:
        """A trusted root: ``root_history/N.root.json`` and the current ``root.json``."""
        history = self.path / ROOT_HISTORY
        _make_dir(history)
        atomic_write(history / f"{version}.root.json", data)
        target = self.file("root")
        if target.is_symlink():  # python-tuf's client links root.json into root_history
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
        atomic_write(target, data)


class TargetDir:
    """Verified target files, one stable name per target path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, name: str, *, limit: int) -> bytes | None:
        return _read_bounded(self.path / name, limit)

    def write(self, name: str, data: bytes) -> Path:
        _make_dir(self.path)
        destination = self.path / name
        atomic_write(destination, data)
        return destination
