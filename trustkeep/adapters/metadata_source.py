"""Reading metadata for verification: a directory, a Notary trust dir, or a tarball.

Everything is read into memory with size limits; nothing is extracted, no path
leaves the directory, symlinks and special files are skipped. The result is a
:class:`~trustkeep.core.verify.MetadataBundle` for the pure verifier.

A large directory (``defer_bytes``) is listed, not read: root, timestamp, snapshot
and top-level targets are read at once, every other file when the verifier asks for
it (:class:`_OnDemand`), by the process that asks. Forked pool workers then read the
files they check, in parallel, and no process holds them all.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from trustkeep.core.verify.bundle import FileSource, MetadataBundle
from trustkeep.errors import InputError

if TYPE_CHECKING:
    import tarfile

__all__ = ["Limits", "infer_gun", "read_input_file", "read_metadata"]


@dataclass(frozen=True)
class Limits:
    """Refuse inputs larger than these (a metadata file, all files, number of files)."""

    file_bytes: int = 64 * 1024 * 1024
    total_bytes: int = 1024 * 1024 * 1024
    files: int = 200_000
    depth: int = 16


DEFAULT_LIMITS = Limits()


def read_input_file(path: Path, *, what: str, limit: int = 16 * 1024 * 1024) -> bytes:
    """A single input file (``--root``, ``--pins``, a CA bundle), size-limited.

    Opened without blocking, and refused unless it is a regular file: a FIFO or a
    device given as ``--root`` is an input error, never a hang.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError as e:
        raise InputError(f"{path}: {what} not found") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: {what} is a directory, expected a file") from e
    except OSError as e:
        raise InputError(f"{path}: cannot read {what}: {e.strerror}") from e
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{path}: {what} is a directory, expected a file")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: {what} is not a regular file")
        try:
            data = f.read(min(st.st_size, limit) + 1)
        except OSError as e:
            raise InputError(f"{path}: cannot read {what}: {e.strerror}") from e
    if len(data) > limit:
        raise InputError(f"{path}: {what} is larger than {limit} bytes")
    return data


def infer_gun(path: Path) -> str | None:
    """``…/tuf/<GUN>/metadata`` → GUN (the GUN may contain ``/``)."""
    parts = path.resolve().parts if path.exists() else path.parts
    if len(parts) < 3 or parts[-1] != "metadata":
        return None
    for i in range(len(parts) - 3, -1, -1):
        if parts[i] == "tuf":
            return "/".join(parts[i + 1 : -1]) or None
    return None


#: the files a directory read on demand still reads at once: every role a client starts with
_TOP_LEVEL = re.compile(r"(?:[0-9]+\.)?(?:root|timestamp|snapshot|targets)\.json")


class _Reader:
    def __init__(self, source: str, limits: Limits, defer: bool = False) -> None:
        self.source = source
        self.limits = limits
        self.files: dict[str, bytes] = {}
        self.total = 0
        self.notes: list[str] = []
        self.client_cache = False
        self.defer = defer  # list the files other than the top-level roles, read them later
        self.listed: dict[str, tuple[str, int]] = {}  # name -> (path, size), not read yet
        self.names: list[str] = []  # read and listed, in the order found

    def _admit(self, name: str, size: int) -> None:
        if len(self.names) >= self.limits.files:
            raise InputError(f"{self.source}: more than {self.limits.files} metadata files")
        if size > self.limits.file_bytes:
            raise InputError(f"{self.source}: {name} is larger than {self.limits.file_bytes} bytes")
        if self.total + size > self.limits.total_bytes:
            raise InputError(f"{self.source}: metadata larger than {self.limits.total_bytes} bytes")

    def add(self, name: str, size: int, read: object) -> None:
        self._admit(name, size)
        assert callable(read)
        if name not in self.files:
            self.names.append(name)
        self._keep(name, read())

    def _keep(self, name: str, data: object) -> None:
        if not isinstance(data, bytes) or len(data) > self.limits.file_bytes:
            raise InputError(f"{self.source}: {name} is larger than {self.limits.file_bytes} bytes")
        if self.total + len(data) > self.limits.total_bytes:
            raise InputError(f"{self.source}: metadata larger than {self.limits.total_bytes} bytes")
        self.total += len(data)
        self.files[name] = data

    def read_listed(self) -> None:
        """Read the files listed so far, now (there are few of them)."""
        listed, self.listed = self.listed, {}
        for name, (path, size) in listed.items():
            self.total -= size
            self._keep(name, _read_regular(path, size, self.limits))
        self.files = {name: self.files[name] for name in self.names}  # the order found

    def add_file(self, name: str, path: str) -> None:
        """A regular file of a directory, as :meth:`add`: its size is taken from the open
        file (one system call fewer than a ``stat`` before the ``open``), and a file that
        turned into something else since the listing is skipped, never waited on. With
        ``defer``, a file other than a top-level role's is only listed (its size by
        ``lstat``): :class:`_OnDemand` reads it when it is asked for."""
        if self.defer and not _TOP_LEVEL.fullmatch(name):
            self._list(name, path)
            return
        fd = _open(path)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self.notes.append(f"skipped special file {name}")
                return
            self.add(name, st.st_size, lambda: _read_open(fd, path, st.st_size, self.limits))
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from e
        finally:
            os.close(fd)

    def _list(self, name: str, path: str) -> None:
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from e
        if not stat.S_ISREG(st.st_mode):
            self.notes.append(f"skipped special file {name}")
            return
        self._admit(name, st.st_size)
        self.total += st.st_size
        self.names.append(name)
        self.listed[name] = (path, st.st_size)

    def listed_bytes(self) -> int:
        return sum(size for _, size in self.listed.values())


class _OnDemand(FileSource):
    """A listed directory's files: the top-level roles' bytes read at the listing, every
    other file read from disk on each access, by the process that asks (nothing kept).

    A file that cannot be read any more, is no longer a regular file or is not the
    size it was listed with is an input error when it is read (:func:`_read_regular`).
    """

    def __init__(
        self,
        names: list[str],
        read: dict[str, bytes],
        listed: dict[str, tuple[str, int]],
        limits: Limits,
    ) -> None:
        self._names = tuple(names)
        self._read = read
        self._listed = listed
        self._limits = limits

    def __getitem__(self, name: str) -> bytes:
        data = self._read.get(name)
        if data is not None:
            return data
        path, size = self._listed[name]
        return _read_regular(path, size, self._limits)

    def __contains__(self, name: object) -> bool:
        return name in self._read or name in self._listed

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def size(self, name: str) -> int:
        data = self._read.get(name)
        return len(data) if data is not None else self._listed[name][1]


def _read_regular(path: str, size: int, limits: Limits) -> bytes:
    """A listed file's bytes, read now: opened as :meth:`_Reader.add_file` opens it, an
    input error when it is no longer a regular file or not the ``size`` it was listed
    with (at most one byte more is read)."""
    fd = _open(path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: no longer a regular file (changed since it was listed)")
        data = _read_open(fd, path, size, limits)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    finally:
        os.close(fd)
    if len(data) != size:
        now = "more" if len(data) > size else str(len(data))
        raise InputError(f"{path}: changed since it was listed ({size} bytes then, {now} now)")
    return data


def _inside_link(entry: os.DirEntry[str], top: Path) -> Path | None:
    """A symbolic link to a regular file inside the metadata directory (python-tuf's
    ``root.json -> root_history/N.root.json``); None for anything else."""
    try:
        target = Path(entry.path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(top) or not target.is_file():
        return None
    return target


def _read_dir(directory: Path, reader: _Reader) -> None:
    top = directory.resolve()
    pending: list[tuple[Path, str, int]] = [(directory, "", 0)]
    while pending:
        current, prefix, depth = pending.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda e: e.name)
        except OSError as e:
            raise InputError(f"{current}: cannot list directory: {e.strerror}") from e
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if prefix == "root_history/":  # python-tuf's client cache keeps N.root.json there
                reader.client_cache = True
                name = entry.name
                if name in reader.files:
                    continue
            if entry.is_symlink():
                target = _inside_link(entry, top)
                if target is None or not entry.name.endswith(".json"):
                    reader.notes.append(f"skipped symbolic link {name}")
                else:
                    reader.add_file(name, str(target))
            elif entry.is_dir(follow_symlinks=False):
                wanted = prefix or entry.name in ("targets", "root_history")
                if depth < reader.limits.depth and wanted and prefix != "root_history/":
                    pending.append((Path(entry.path), f"{name}/", depth + 1))
            elif entry.is_file(follow_symlinks=False) and entry.name.endswith(".json"):
                reader.add_file(name, entry.path)


def _open(path: str) -> int:
    """``path`` opened for reading, neither following a final link nor blocking (a FIFO)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        return os.open(path, flags)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e


def _read_open(fd: int, path: str, size: int, limits: Limits) -> bytes:
    """At most ``limits.file_bytes + 1`` bytes of the open file ``fd`` of ``size`` bytes
    (never asking for more than the file: a read buffer is allocated up front), by plain
    system calls (a buffered file object costs more than the read of a small file)."""
    want = min(size, limits.file_bytes) + 1
    try:
        data = os.read(fd, want)
        if 0 < len(data) < min(size, want):  # a short read before the end: read on
            parts = [data]
            left = want - len(data)
            while left > 0 and (part := os.read(fd, left)):
                parts.append(part)
                left -= len(part)
            data = b"".join(parts)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    return data


def _safe_member_name(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.is_absolute() or any(p in ("..", "") for p in path.parts) or "\\" in name:
        return None
    parts = [p for p in path.parts if p != "."]
    return "/".join(parts) if parts else None


def _read_tar(archive: Path, reader: _Reader) -> None:
    import tarfile  # only for archives: it costs start-up time

    try:
        with tarfile.open(archive, mode="r:*") as tar:
            count = scanned = 0
            for member in tar:
                count += 1
                scanned += max(member.size, 0)
                if count > reader.limits.files * 2:
                    raise InputError(f"{archive}: too many entries")
                if scanned > reader.limits.total_bytes:
                    raise InputError(f"{archive}: more than {reader.limits.total_bytes} bytes")
                name = _safe_member_name(member.name)
                if not member.isreg():
                    if not member.isdir():
                        reader.notes.append(f"skipped non-regular entry {member.name[:80]!r}")
                    continue
                if name is None:
                    reader.notes.append(f"skipped unsafe path {member.name[:80]!r}")
                    continue
                if not name.endswith(".json"):
                    continue
                reader.add(name, member.size, lambda m=member: _extract(tar, m, reader.limits))
    except (tarfile.TarError, EOFError, OSError, ValueError) as e:
        raise InputError(
            f"{archive}: not a readable tar archive ({type(e).__name__})",
            hint="DIR is a metadata directory, a Notary trust directory or a .tar/.tar.gz of one",
        ) from e


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, limits: Limits) -> bytes:
    f = tar.extractfile(member)
    if f is None:
        return b""
    with f:
        return f.read(min(member.size, limits.file_bytes) + 1)


def _metadata_root(files: dict[str, bytes], gun: str | None) -> tuple[str, str | None]:
    """The prefix inside an archive where the metadata lives (and the GUN it implies)."""
    if gun is not None:
        for candidate in (f"tuf/{gun}/metadata/", f".notary/tuf/{gun}/metadata/"):
            hits = [n for n in files if n.endswith(candidate + "root.json")]
            if hits:
                return hits[0][: -len("root.json")], gun
    roots = sorted(
        (n for n in files if n.rsplit("/", 1)[-1] in ("root.json", "timestamp.json")),
        key=lambda n: (n.count("/"), n),
    )
    if not roots:
        return "", gun
    prefix = roots[0].rsplit("/", 1)[0] + "/" if "/" in roots[0] else ""
    others = {n.rsplit("/", 1)[0] for n in roots if n.rsplit("/", 1)[0] + "/" != prefix}
    if others and gun is None and any("/tuf/" in f"/{n}" for n in roots):
        raise InputError("the archive holds several repositories: pass --gun GUN")
    inferred = infer_gun(Path(prefix.rstrip("/"))) if prefix else None
    return prefix, gun or inferred


def _select(files: dict[str, bytes], prefix: str) -> dict[str, bytes]:
    selected = {n[len(prefix) :]: data for n, data in files.items() if n.startswith(prefix)}
    for name in [n for n in selected if n.startswith("root_history/")]:  # a client cache
        data = selected.pop(name)
        selected.setdefault(name.removeprefix("root_history/"), data)
    return selected


def read_metadata(
    path: Path,
    *,
    gun: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    defer_bytes: int | None = None,
) -> MetadataBundle:
    """Read a metadata directory, a Notary trust dir (with ``gun``) or a ``.tar[.gz]``.

    With ``defer_bytes``, a directory whose files other than root, timestamp, snapshot
    and top-level targets come to at least that many bytes gives a bundle that reads
    those files on demand (:class:`_OnDemand`); an archive is always read at once.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    reader = _Reader(str(path), limits, defer=defer_bytes is not None and path.is_dir())
    if path.is_file():
        _read_tar(path, reader)
        prefix, gun = _metadata_root(reader.files, gun)
        cache = any(n.startswith(f"{prefix}root_history/") for n in reader.files)
        return MetadataBundle(
            _select(reader.files, prefix),
            source=str(path),
            gun=gun,
            notes=tuple(reader.notes),
            client_cache=cache,
        )
    directory = path
    if (path / "tuf").is_dir() and not (path / "root.json").exists():
        if gun is None:
            guns = sorted(
                str(p.parent.relative_to(path / "tuf")) for p in (path / "tuf").glob("**/metadata")
            )
            raise InputError(
                f"{path} is a Notary trust directory: pass --gun GUN",
                hint=f"repositories cached there: {', '.join(guns[:10]) or 'none'}",
            )
        if not gun or gun.startswith("/") or {".", ".."} & set(gun.split("/")):
            raise InputError(f"--gun {gun!r} is not a repository name (e.g. registry.io/org/app)")
        directory = path / "tuf" / gun / "metadata"
        if not directory.is_dir():
            raise InputError(f"{path}: no cached metadata for {gun} ({directory})")
    _read_dir(directory, reader)
    if not reader.names:
        raise InputError(f"{directory}: no metadata files (*.json) found")
    files: Mapping[str, bytes] = reader.files
    if reader.listed:  # defer_bytes was given
        if reader.listed_bytes() >= (defer_bytes or 0):
            files = _OnDemand(reader.names, reader.files, reader.listed, limits)
        else:
            reader.read_listed()
            files = reader.files
    return MetadataBundle(
        files,
        source=str(path),
        gun=gun or infer_gun(directory),
        notes=tuple(reader.notes),
        client_cache=reader.client_cache,
    )
