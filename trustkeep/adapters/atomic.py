"""Atomic file writes: temporary file in the same directory, fsync, rename."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from trustkeep.errors import StorageError, TrustkeepError

__all__ = ["AtomicWriter", "atomic_write", "ensure_private_dir"]

_TMP_NAME_CHARS = 64
#: threads writing and fsyncing temporary files at once, and writes in flight at most
_THREADS = 16
_MAX_PENDING = 1024


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
    Temporary files are written and fsynced by a few threads at once (the file system
    commits concurrent fsyncs together: 1,000 files in a fraction of the time one by
    one); each is renamed only after its own fsync. The directory itself (which makes
    the renames durable) is fsynced at each :meth:`barrier` and on leaving the ``with``
    block, not after every file: call :meth:`barrier` between files that must reach the
    disk before the next ones (delegated roles before their delegator).

    Errors of a write surface at the latest at the next :meth:`barrier`; when the
    ``with`` block ends by an exception, files not yet renamed are dropped.
    """

    def __init__(self, directory: Path, *, threads: int = _THREADS) -> None:
        self.directory = directory
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        #: (target, the temporary file: its name once in place, or the write making it)
        self._pending: list[tuple[Path, Future[str] | str]] = []
        self._renamed = 0
        self._prefix = f".{os.getpid()}-{id(self):x}-"
        self._count = 0

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            if exc_type is None:
                self.barrier()
            else:
                self._drop_pending()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def write(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        """Write ``path`` (in this writer's directory) atomically; fsync before the rename."""
        self.write_chunks(path, (data,), mode=mode)

    def write_chunks(self, path: Path, chunks: Iterable[bytes], *, mode: int = 0o644) -> None:
        """:meth:`write` from an iterable of byte strings (a large file, streamed).

        An exception raised by ``chunks`` leaves ``path`` as it was.
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="atomic-write")
        self._count += 1
        tmp = os.path.join(self.directory, f"{self._prefix}{self._count}.tmp")
        self._pending.append((path, self._pool.submit(self._stage, path, tmp, chunks, mode)))
        if len(self._pending) >= _MAX_PENDING:
            self._settle()

    def link(self, path: Path, source: Path, data: bytes) -> None:
        """Put ``path`` in place as a hard link to ``source``, a durable file (fsynced, its
        directory too) that holds exactly ``data``: the same atomic replace as
        :meth:`write`, without writing and fsyncing the bytes a second time. Where the file
        system cannot link (another device, no hard links), ``data`` is written instead."""
        self._count += 1
        tmp = os.path.join(self.directory, f"{self._prefix}{self._count}.tmp")
        try:
            os.link(source, tmp)
        except OSError:  # includes a leftover temporary file of a killed run
            self.write(path, data)
            return
        self._pending.append((path, tmp))
        if len(self._pending) >= _MAX_PENDING:
            self._settle()

    @staticmethod
    def _stage(path: Path, tmp: str, chunks: Iterable[bytes], mode: int) -> str:
        """Write and fsync the temporary file for ``path``; returns its name."""
        fd = -1
        done = False
        try:
            fd, tmp = _create(tmp, path)
            os.fchmod(fd, mode)
            for data in chunks:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
            done = True
        except OSError as e:
            raise _storage_error(path, e) from e
        finally:
            if fd >= 0:
                os.close(fd)
            if not done:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return tmp

    def _settle(self) -> None:
        """Wait for the pending writes and rename each over its target, in order."""
        pending, self._pending = self._pending, []
        error: Exception | None = None
        for path, future in pending:
            try:
                tmp = future if isinstance(future, str) else future.result()
            except (TrustkeepError, OSError) as e:  # raised below, once all are settled
                error = error or e
                continue
            if error is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                continue
            try:
                os.replace(tmp, path)
                self._renamed += 1
            except OSError as e:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                error = _storage_error(path, e)
        if error is not None:
            raise error

    def _drop_pending(self) -> None:
        pending, self._pending = self._pending, []
        for _path, item in pending:
            if not isinstance(item, str):
                if item.exception() is not None:
                    continue  # nothing was left behind
                item = item.result()
            with contextlib.suppress(OSError):
                os.unlink(item)

    def barrier(self) -> None:
        """Finish the pending writes, then make the renames durable: one directory fsync."""
        self._settle()
        if not self._renamed:
            return
        self._renamed = 0
        with contextlib.suppress(OSError):  # some file systems cannot sync a directory
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _storage_error(path: Path, e: OSError) -> StorageError:
    reason = "disk full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return StorageError(f"{path}: cannot write: {reason}")


def _create(tmp: str, path: Path) -> tuple[int, str]:
    """A new temporary file ``tmp`` (beside ``path``), readable by its owner only."""
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
    except FileExistsError:  # a leftover of a killed run: a fresh random name instead
        name = path.name[:_TMP_NAME_CHARS]
        return tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=os.path.dirname(tmp))
