"""Target files on disk for ``targets add``: directories walked, target paths relative to a
base, and the hash-prefixed copies (``<dir>/<sha256>.<name>``) that clients of a
consistent-snapshot repository download.

Paths are resolved as :meth:`pathlib.Path.resolve` would, but each directory once (not
every file's every component): 100,000 files cost 100,000 ``lstat`` calls, not a million.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from trustkeep.adapters.atomic import AtomicWriter
from trustkeep.core.progress import Progress, no_progress, report_every
from trustkeep.errors import InputError, StorageError

__all__ = ["LocalTarget", "collect", "default_targets_dir", "write_hashed_copies"]

#: ``<sha256>.<name>``: a copy written for consistent snapshots, not a target of its own
HASHED_NAME = re.compile(r"^[0-9a-f]{64}\.")
_CHUNK = 1 << 20


class LocalTarget(NamedTuple):
    """A file to add (as given or found), and its target path (relative to the base)."""

    file: str
    path: str


def default_targets_dir(directory: Path) -> Path:
    """``DIR/../targets``: beside the metadata directory, as repositories are served."""
    return Path(os.path.abspath(directory)).parent / "targets"


class _Resolver:
    """``os.path.realpath`` with the answer for each directory kept."""

    def __init__(self) -> None:
        self._dirs: dict[str, str] = {}

    def real(self, path: str) -> str:
        try:
            if os.path.islink(path) or os.path.basename(path) in ("", ".", ".."):
                return os.path.realpath(path, strict=True)
            parent, name = os.path.split(os.path.abspath(path))
            if parent not in self._dirs:
                self._dirs[parent] = os.path.realpath(parent, strict=True)
            return os.path.join(self._dirs[parent], name)
        except FileNotFoundError as e:
            raise InputError(f"{path}: no such target file") from e
        except OSError as e:  # ELOOP
            raise InputError(f"{path}: cannot resolve the path (a symbolic link loop?)") from e


def _relative(full: str, prefix: str, shown: str) -> str:
    """``full`` relative to the base (``prefix``: the base and a separator)."""
    if not full.startswith(prefix):
        raise InputError(f"{shown}: outside the target base {prefix[:-1] or '/'} (see --base)")
    rel = full[len(prefix) :]
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


def _walk(top: str, skip_hashed_under: str | None) -> Iterator[tuple[str, bool]]:
    """(file, is a symbolic link) under ``top`` (resolved), sorted; linked directories refused."""
    stack = [top]
    while stack:
        current = stack.pop()
        skip_hashed = skip_hashed_under is not None and (
            current == skip_hashed_under or current.startswith(skip_hashed_under + os.sep)
        )
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            raise StorageError(f"{current}: cannot list: {e.strerror}") from e
        subdirs = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.path)
            elif entry.is_symlink() and entry.is_dir():
                raise InputError(
                    f"{entry.path}: a symbolic link to a directory; give its target instead"
                )
            elif not (skip_hashed and HASHED_NAME.match(entry.name)):  # copies written before
                yield entry.path, entry.is_symlink()
        stack.extend(reversed(subdirs))


def collect(
    inputs: Sequence[str | Path], base: Path, *, targets_dir: Path | None = None
) -> list[LocalTarget]:
    """Files and directories (walked recursively) -> files with their target paths.

    ``targets_dir``: where hash-prefixed copies live; walking it skips those copies.
    """
    resolver = _Resolver()
    root = os.path.realpath(base)
    prefix = root if root.endswith(os.sep) else root + os.sep
    skip = os.path.realpath(targets_dir) if targets_dir is not None else None
    out: list[LocalTarget] = []
    for given in inputs:
        text = os.fspath(given)
        full = resolver.real(text)
        if os.path.isdir(full):
            for found, link in _walk(full, skip):
                real = resolver.real(found) if link else found
                out.append(LocalTarget(found, _relative(real, prefix, found)))
        else:
            out.append(LocalTarget(text, _relative(full, prefix, text)))
    return out


def _hashed_name(target_path: str, sha256: str) -> str:
    head, _, name = target_path.rpartition("/")
    return f"{head}/{sha256}.{name}" if head else f"{sha256}.{name}"


def _copy_chunks(source: str, sha256: str, length: int) -> Iterator[bytes]:
    """The bytes of ``source``, refusing them if they no longer hash to ``sha256``.

    The first read asks for the ``length`` it had (+1 to see its end), so a small file
    costs no 1 MiB buffer; a file that grew is read on in chunks, and then refused.
    """
    digest = hashlib.sha256()
    want = min(_CHUNK, length + 1)
    try:
        with open(source, "rb") as f:
            while chunk := f.read(want):
                digest.update(chunk)
                yield chunk
                want = _CHUNK
    except OSError as e:
        raise StorageError(f"{source}: cannot read: {e.strerror}") from e
    if digest.hexdigest() != sha256:
        raise InputError(f"{source}: changed while being added; run the command again")


def _present(path: Path, length: int) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == length


def write_hashed_copies(
    targets_dir: Path,
    files: Sequence[tuple[LocalTarget, int, str]],
    *,
    progress: Progress = no_progress,
) -> list[Path]:
    """Write ``<dir>/<sha256>.<name>`` for each (target, length, sha256); returns paths.

    Content-addressed: a copy already there with the right length is kept. Each copy
    is atomic (fsync before the rename); each directory is synced once.
    """
    by_dir: dict[Path, list[tuple[Path, str, int, str]]] = {}
    for target, length, sha256 in files:
        dest = targets_dir / _hashed_name(target.path, sha256)
        by_dir.setdefault(dest.parent, []).append((dest, target.file, length, sha256))
    written: list[Path] = []
    done = 0
    for directory, copies in by_dir.items():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{directory}: cannot create directory: {e.strerror}") from e
        with AtomicWriter(directory) as writer:
            for dest, source, length, sha256 in copies:
                if not _present(dest, length):
                    writer.write_chunks(dest, _copy_chunks(source, sha256, length))
                    written.append(dest)
                done += 1
                report_every(progress, "copying targets", done, len(files))
    return written
