"""Atomic file writes: temporary file in the same directory, fsync, rename."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from trustkeep.errors import StorageError

__all__ = ["AtomicWriter", "atomic_write", "ensure_private_dir"]

_TMP_NAME_CHARS = 64


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
    with AtomicWriter(path.parent) as writer:
        writer.write(path, data, mode=mode)


class AtomicWriter:
    """Atomic writes of many files in one directory, for commands that write thousands.

    Each file goes to a temporary file beside it, is fsynced, then renamed over the
    target: a reader (or a crash) sees the old file or the new one, never a part.
    The directory itself (which makes the renames durable) is fsynced at each
    :meth:`barrier` and on leaving the ``with`` block, not after every file: call
    :meth:`barrier` between files that must reach the disk before the next ones
    (delegated roles before their delegator).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._renamed = 0
        self._prefix = f".{os.getpid()}-{id(self):x}-"

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.barrier()

    def write(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        """Write ``path`` (in this writer's directory) atomically; fsync before the rename."""
        self.write_chunks(path, (data,), mode=mode)

    def write_chunks(self, path: Path, chunks: Iterable[bytes], *, mode: int = 0o644) -> None:
        """:meth:`write` from an iterable of byte strings (a large file, streamed).

        An exception raised by ``chunks`` leaves ``path`` as it was.
        """
        fd = -1
        tmp = ""
        try:
            fd, tmp = self._create(path)
            os.fchmod(fd, mode)
            for data in chunks:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(tmp, path)
            tmp = ""
            self._renamed += 1
        except OSError as e:
            reason = "disk full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
            raise StorageError(f"{path}: cannot write: {reason}") from e
        finally:
            if fd >= 0:
                os.close(fd)
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _create(self, path: Path) -> tuple[int, str]:
        """A new temporary file beside ``path``, readable by its owner only."""
        name = path.name[:_TMP_NAME_CHARS]  # the temporary name must fit NAME_MAX too
        tmp = os.path.join(self.directory, f"{self._prefix}{name}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:  # a leftover of a killed run: a fresh random name instead
            return tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)

    def barrier(self) -> None:
        """Make the renames so far durable: one fsync of the directory."""
        if not self._renamed:
            return
        self._renamed = 0
        with contextlib.suppress(OSError):  # some file systems cannot sync a directory
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
