"""Atomic file writes: temporary file in the same directory, fsync, rename."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from trustkeep.errors import StorageError

__all__ = ["atomic_write", "ensure_private_dir"]


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` as a 0700 directory, and every parent it creates 0700 too (whatever
    the umask: ``Path.mkdir(parents=True)`` gives parents the umask's mode, 0777 under
    ``umask 000``); tighten ``path`` if it exists. Existing parents are left alone."""
    try:
        missing: list[Path] = []
        current = path
        while not current.exists():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        for directory in reversed(missing):
            with contextlib.suppress(FileExistsError):
                directory.mkdir(mode=0o700)
                directory.chmod(0o700)
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory")
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as e:
        raise StorageError(f"{path}: cannot create directory: {e.strerror}") from e


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so the file is either as it was or as intended.

    The temporary file is created with ``mode`` from the start (never wider), so a
    key file is 0600 before its first byte is written.
    """
    directory = path.parent
    fd = -1
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
        tmp = ""
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as e:
        reason = "disk full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise StorageError(f"{path}: cannot write: {reason}") from e
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
