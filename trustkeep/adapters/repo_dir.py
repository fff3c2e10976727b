"""A TUF repository directory on disk: reading metadata and writing changed roles atomically.

File names follow python-tuf's client: root as ``N.root.json`` and ``root.json``;
``V.<role>.json`` copies when consistent snapshots are on; delegated roles URL-quoted
through :func:`trustkeep.core.rolenames.role_filename`, so no name leaves the directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tuf.api.metadata import Metadata, Root, Signed, Snapshot, Targets, Timestamp
from tuf.api.serialization import DeserializationError, SerializationError
from tuf.api.serialization.json import JSONSerializer

from trustkeep.adapters.atomic import AtomicWriter, atomic_write
from trustkeep.adapters.metadata_source import read_input_file
from trustkeep.core.canonical import pretty_sorted
from trustkeep.core.progress import Progress, no_progress, report_every
from trustkeep.core.rolenames import role_filename, versioned_root_version
from trustkeep.core.tuf_repo.online import recorded_snapshot_version
from trustkeep.core.tuf_repo.state import RepoState, root_is_verified, walk_delegations
from trustkeep.errors import InputError, StorageError

__all__ = [
    "MAX_METADATA_BYTES",
    "TimestampInputs",
    "files_for_role",
    "hash_file",
    "load_for_timestamp",
    "load_repo",
    "parse_metadata",
    "read_metadata",
    "serialize",
    "write_changed",
    "write_metadata",
]

MAX_METADATA_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20
_SERIALIZER = JSONSerializer(compact=False)
S = TypeVar("S", bound=Signed)
_SURROGATE = re.compile("[\ud800-\udfff]")  # from JSON "\\udXXX" escapes


#: the table of each role that grows with the repository: one line per entry
_TABLES = {"targets": "targets", "snapshot": "meta"}
_ENTRY_ENCODER = json.JSONEncoder(sort_keys=True)  # one line: ", " and ": " separators
_encode_string = json.encoder.encode_basestring_ascii


def serialize(md: Metadata[Any]) -> bytes:
    """The exact bytes trustkeep writes for ``md`` (timestamp hashes these for snapshot).

    Indented JSON with sorted keys (python-tuf's pretty form), except that each entry of
    the targets table (snapshot: meta) is one line: the C JSON encoder writes those,
    where indenting 100,000 entries takes Python seconds. Both are plain JSON to clients.
    The pretty form is written by orjson wherever that gives python-tuf's exact bytes.
    """
    try:
        fast = _serialize_fast(md)
    except (TypeError, ValueError):  # not JSON as it stands: python-tuf's own error
        fast = None
    return fast if fast is not None else _SERIALIZER.serialize(md)


def _pretty(doc: dict[str, Any]) -> str:
    """python-tuf's pretty form of ``doc`` (orjson's where it writes the same bytes)."""
    fast = pretty_sorted(doc)
    if fast is not None:
        return fast.decode("ascii")
    return json.dumps(doc, indent=1, separators=(",", ": "), sort_keys=True)


def _serialize_fast(md: Metadata[Any]) -> bytes | None:
    doc = md.to_dict()
    signed = doc["signed"]
    key = _TABLES.get(signed.get("_type", ""))
    table = signed.get(key) if key is not None else None
    if not isinstance(table, dict) or not table:
        return pretty_sorted(doc)  # no table: the whole document in the pretty form
    signed[key] = {}
    text = _pretty(doc)
    marker = f'\n  "{key}": {{}}'
    if text.count(marker) != 1:
        return None
    encode = _ENTRY_ENCODER.encode
    rows = ",\n".join(
        f"   {_encode_string(name)}: {encode(entry)}" for name, entry in sorted(table.items())
    )
    return text.replace(marker, f'\n  "{key}": {{\n{rows}\n  }}').encode("utf-8")


def _short(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:160]


def parse_metadata(data: bytes, source: str, *, entries: bool = True) -> Metadata[Any]:
    """Parse TUF metadata or raise InputError naming ``source``.

    ``entries=False``: targets metadata without its target entries (version, expiry and
    delegations: what a new snapshot needs), which skips most of the parsing of big roles.
    """
    md = _without_entries(data) if not entries else None
    if md is None:
        try:
            md = Metadata.from_bytes(data)
        except DeserializationError as e:
            cause = e.__cause__ if e.__cause__ is not None else e
            raise InputError(f"{source}: not valid TUF metadata: {_short(cause)}") from e
    version = md.signed.version
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"{source}: not valid TUF metadata: version {version!r} is not an integer")
    keys, roles = _role_keyids(md.signed)
    for name, keyids in roles:
        if not isinstance(name, str) or _SURROGATE.search(name):
            raise InputError(f"{source}: not valid TUF metadata: role name {name!r} is not text")
        if not all(isinstance(k, str) for k in keyids):
            raise InputError(
                f"{source}: not valid TUF metadata: role {name!r} has a non-string keyid"
            )
        unknown = [k for k in keyids if k not in keys]
        if unknown:
            raise InputError(
                f"{source}: not valid TUF metadata: role {name!r} lists key {unknown[0][:8]}"
                " that is not in its 'keys'"
            )
    return md


def _without_entries(data: bytes) -> Metadata[Any] | None:
    """Targets metadata parsed with an empty ``targets``; None: parse it fully (an error
    is then reported as the full parser words it)."""
    try:
        doc = json.loads(data)
        signed = doc["signed"]
        if signed.get("_type") != "targets" or not isinstance(signed.get("targets"), dict):
            return None
        signed["targets"] = {}
        md: Metadata[Any] = Metadata.from_dict(doc)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return md


def _role_keyids(signed: Signed) -> tuple[dict[str, Any], list[tuple[str, list[Any]]]]:
    """The keys and (role, keyids) of every role ``signed`` delegates to.

    python-tuf checks neither the keyid types nor that each keyid is in ``keys``.
    """
    if isinstance(signed, Root):
        return signed.keys, [(n, list(r.keyids)) for n, r in signed.roles.items()]
    delegations = signed.delegations if isinstance(signed, Targets) else None
    if delegations is not None and delegations.roles is not None:
        return delegations.keys, [(n, list(r.keyids)) for n, r in delegations.roles.items()]
    return {}, []


def read_metadata(path: Path, expected: type[S] | None = None) -> Metadata[Any]:
    """Read one metadata file; ``expected`` checks its type (root, targets...)."""
    return _read(path, expected)[0]


def _read_bytes(path: Path) -> bytes:
    """A metadata file of the repository, at most :data:`MAX_METADATA_BYTES`: opened
    without waiting, and refused unless it is a regular file (a FIFO is an input error,
    never a hang), as verification reads its inputs."""
    return read_input_file(path, what="metadata file", limit=MAX_METADATA_BYTES)


def _read(path: Path, expected: type[S] | None = None) -> tuple[Metadata[Any], bytes]:
    data = _read_bytes(path)
    md = parse_metadata(data, str(path))
    if expected is not None and not isinstance(md.signed, expected):
        raise InputError(f"{path}: holds {md.signed.type} metadata, expected {expected.type}")
    return md, data


def _root_path(directory: Path) -> Path:
    """root.json, else the highest N.root.json (repositories that publish only those)."""
    plain = directory / "root.json"
    if plain.exists():
        return plain
    versions = _root_versions(directory)
    if not versions:
        if (directory / "staged" / "root.json").is_file():
            raise InputError(
                f"{directory}: nothing is published yet (a new repository is staged here)",
                hint="publish it once its holders have signed: 'trustkeep publish DIR'",
            )
        raise InputError(
            f"{directory}: no root.json here", hint="create one with 'trustkeep repo init DIR'"
        )
    return directory / f"{max(versions)}.root.json"


def _load_targets(path: Path, *, entries: bool = True) -> Metadata[Any]:
    """Read a targets role; without ``entries`` (see :func:`parse_metadata`) a light load."""
    if entries:
        return read_metadata(path, Targets)
    md = parse_metadata(_read_bytes(path), str(path), entries=False)
    if not isinstance(md.signed, Targets):
        raise InputError(f"{path}: holds {md.signed.type} metadata, expected {Targets.type}")
    return md


def _role_path(directory: Path, role: str, version: int | None) -> Path:
    """``<role>.json``, else the consistent-snapshot name ``<version>.<role>.json``."""
    plain = directory / role_filename(role)
    if plain.exists() or version is None:
        return plain
    versioned = directory / role_filename(role, version)
    return versioned if versioned.exists() else plain


def _root_twins(directory: Path, root_path: Path, data: bytes, version: int) -> list[str]:
    """``root.json`` and ``N.root.json`` of one version must be the same bytes (as verify says)."""
    other = directory / f"{version}.root.json"
    if other == root_path or not other.is_file():
        return []
    try:
        raw = other.read_bytes()
    except OSError as e:
        raise StorageError(f"{other}: cannot read: {e.strerror}") from e
    if raw == data:
        return []
    twin = parse_metadata(raw, str(other))
    try:
        twin.signed_bytes  # noqa: B018 - a twin nobody can have signed is bad input
    except SerializationError as e:
        raise InputError(
            f"{other}: not valid TUF metadata: not canonical JSON (a float, NaN or a lone "
            "surrogate)"
        ) from e
    return [root_path.name, other.name]


def _root_versions(directory: Path) -> list[int]:
    """The versions of the ``N.root.json`` files in ``directory``, ascending."""
    return sorted(
        v
        for p in directory.glob("*.root.json")
        if (v := versioned_root_version(p.name)) is not None
    )


def _newer_roots(
    directory: Path, root: Metadata[Root], previous: Metadata[Root] | None
) -> tuple[Metadata[Root], Metadata[Root] | None, tuple[int, bool] | None]:
    """Follow ``N+1.root.json`` files as a client does: (current, previous, break).

    A newer root its predecessor does not vouch for stops the walk (clients reject it).
    """
    version = root.signed.version + 1
    while (directory / f"{version}.root.json").is_file():
        newer = read_metadata(directory / f"{version}.root.json", Root)
        if not root_is_verified(newer, root):
            return root, previous, (version, False)
        previous, root = root, newer
        version += 1
    return root, previous, None


def _current_root(
    directory: Path, root: Metadata[Root]
) -> tuple[Metadata[Root], Metadata[Root] | None, tuple[int, bool] | None]:
    """From the published ``root`` (with ``N-1.root.json`` when that file is there) to the
    root a client ends at: (current, its predecessor, where the newer chain breaks)."""
    previous = None
    prev_path = directory / f"{root.signed.version - 1}.root.json"
    if root.signed.version > 1 and prev_path.is_file():
        previous = read_metadata(prev_path, Root)
    return _newer_roots(directory, root, previous)


def _older_chain_break(directory: Path, current: Metadata[Root]) -> tuple[int, bool] | None:
    """The first root below ``current`` that breaks the published chain from the oldest
    ``N.root.json`` (as verify walks it): (version, missing). The last step, root N-1 to
    N, is counted by the status of root itself."""
    top = current.signed.version
    versions = [v for v in _root_versions(directory) if v < top]
    if not versions:
        return None
    older = read_metadata(directory / f"{versions[0]}.root.json", Root)
    for version in range(versions[0] + 1, top):
        path = directory / f"{version}.root.json"
        if not path.is_file():
            return version, True
        newer = read_metadata(path, Root)
        if not root_is_verified(newer, older):
            return version, False
        older = newer
    return None


def load_repo(
    directory: Path,
    *,
    entries: bool = True,
    on_root: Callable[[Metadata[Root]], object] | None = None,
) -> RepoState:
    """Load the published root (and root N-1 when present), top-level roles and delegations.

    Exactly the files a client reads, as they are: nothing is merged in from other
    copies (``root.json`` and ``N.root.json`` that differ are reported, as verify does).
    Unversioned file names are read first; repositories that publish only
    consistent-snapshot names (``N.root.json``, ``V.targets.json``) load too.
    ``entries=False``: targets roles without their target entries, for a new snapshot
    only (such a state refuses to write any targets role). ``on_root``: called with the
    root as soon as it is known, before the other roles load (to start unlocking keys).
    """
    if not directory.is_dir():
        raise InputError(f"{directory}: no such repository directory")
    root_path = _root_path(directory)
    root, root_data = _read(root_path, Root)
    twins = _root_twins(directory, root_path, root_data, root.signed.version)
    root, previous, chain_break = _current_root(directory, root)
    chain_break = _older_chain_break(directory, root) or chain_break
    if on_root is not None:
        on_root(root)
    timestamp = read_metadata(directory / "timestamp.json", Timestamp)
    snapshot_version = timestamp.signed.snapshot_meta.version
    snapshot, snapshot_bytes = _read(_role_path(directory, "snapshot", snapshot_version), Snapshot)

    def recorded(role: str) -> int | None:
        meta = snapshot.signed.meta.get(f"{role}.json")
        return meta.version if meta is not None else None

    targets_path = _role_path(directory, "targets", recorded("targets"))
    state = RepoState(
        root=root,
        previous_root=previous,
        targets=_load_targets(targets_path, entries=entries),
        snapshot=snapshot,
        timestamp=timestamp,
        snapshot_bytes=snapshot_bytes,
        twins_differ=[("root", tuple(twins))] if twins else [],
        root_chain_break=chain_break,
        entries_loaded=entries,
    )
    for _parent, child in walk_delegations(state):
        if child in state.delegated or child in state.missing:
            continue
        path = _role_path(directory, child, recorded(child))
        if path.is_file():
            state.delegated[child] = _load_targets(path, entries=entries)
        else:
            state.missing.append(child)
    return state


@dataclass(frozen=True)
class TimestampInputs:
    """What a new timestamp needs: root (who signs it), timestamp, the snapshot's bytes."""

    root: Metadata[Root]
    timestamp: Metadata[Timestamp]
    snapshot_bytes: bytes
    snapshot_version: int
    #: root N-1 when its file is there (whose threshold root N must also meet)
    previous_root: Metadata[Root] | None = None


def load_for_timestamp(
    directory: Path, *, on_root: Callable[[Metadata[Root]], object] | None = None
) -> TimestampInputs:
    """Root, timestamp and the snapshot file, and nothing else of the repository.

    The snapshot is parsed only when timestamp does not already record these bytes, and
    then only for its version: a timestamp of 65,536 bins reads three files.
    ``on_root``: as for :func:`load_repo`.
    """
    if not directory.is_dir():
        raise InputError(f"{directory}: no such repository directory")
    # the root a client ends at: newer N.root.json files it vouches for count (as load_repo)
    root, previous, _break = _current_root(directory, read_metadata(_root_path(directory), Root))
    if on_root is not None:
        on_root(root)
    timestamp = read_metadata(directory / "timestamp.json", Timestamp)
    path = _role_path(directory, "snapshot", timestamp.signed.snapshot_meta.version)
    data = _read_bytes(path)
    version = recorded_snapshot_version(timestamp.signed, data)
    return TimestampInputs(
        root, timestamp, data, version or _snapshot_version(data, path), previous
    )


def _snapshot_version(data: bytes, path: Path) -> int:
    try:
        signed = json.loads(data)["signed"]
        kind, version = signed["_type"], signed["version"]
    except (ValueError, TypeError, KeyError) as e:
        raise InputError(f"{path}: not valid TUF metadata") from e
    if kind != "snapshot":
        raise InputError(f"{path}: holds {kind} metadata, expected snapshot")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{path}: not valid TUF metadata: version {version!r} is not an integer")
    return version


def files_for_role(state: RepoState, role: str) -> list[str]:
    """File names written for ``role``: its versioned copy first, the plain name last."""
    version = state.role(role).signed.version
    if role == "root":
        return [f"{version}.root.json", "root.json"]
    if role == "timestamp":
        return ["timestamp.json"]
    names = [role_filename(role)]
    if state.root.signed.consistent_snapshot:
        names.insert(0, role_filename(role, version))
    return names


def _symlinks(directory: Path) -> set[str]:
    """Names of the symbolic links in ``directory`` (one listing, no stat per file)."""
    try:
        with os.scandir(directory) as entries:
            return {e.name for e in entries if e.is_symlink()}
    except OSError:
        return set()  # not listable: the writes below report the problem


def _inside(directory: Path, name: str, symlinks: set[str]) -> Path:
    path = directory / name
    if os.sep in name or (os.altsep and os.altsep in name) or name in (".", ".."):
        raise InputError(f"refusing to write {name!r}: not a plain file name")
    if name in symlinks and path.resolve().parent != directory.resolve():
        raise InputError(f"refusing to write {name!r}: it leaves {directory}")
    return path


def write_metadata(path: Path, md: Metadata[Any]) -> None:
    atomic_write(path, serialize(md))


_ORDER = {"root": 0, "snapshot": 2, "timestamp": 3}


def write_changed(
    directory: Path,
    state: RepoState,
    *,
    progress: Progress = no_progress,
    encoded: Mapping[str, bytes] | None = None,
    durable: Mapping[str, Path] | None = None,
) -> list[Path]:
    """Write every changed role (targets roles, then snapshot, then timestamp); returns paths.

    Delegated roles go before their delegators: an interrupted run never leaves a
    delegator naming roles whose files were not written yet. ``encoded``: roles whose
    bytes the caller already has (``serialize`` of these very objects, unchanged since).
    ``durable``: roles of ``encoded`` whose bytes are already in a durable file on the
    same file system (the staging area): published as hard links to it, not written again.
    """
    known = encoded or {}
    sources = durable or {}
    symlinks = _symlinks(directory)
    depth = {"targets": 0}
    for parent, child in walk_delegations(state):
        depth.setdefault(child, depth.get(parent, 0) + 1)
    written: list[Path] = []

    def level(role: str) -> tuple[int, int]:
        return _ORDER.get(role, 1), -depth.get(role, 0)

    ordered = sorted(state.changed, key=lambda r: (*level(r), r))
    if not state.entries_loaded and any(_ORDER.get(r) is None for r in ordered):
        raise RuntimeError("targets roles loaded without their entries cannot be written")
    with AtomicWriter(directory) as writer:
        for n, role in enumerate(ordered, 1):
            if n > 1 and level(role) != level(ordered[n - 2]):
                writer.barrier()  # one level's files are durable before their parents change
            data = known.get(role) or serialize(state.role(role))
            if role == "snapshot":
                state.snapshot_bytes = data
            source = sources.get(role) if role in known else None
            for name in files_for_role(state, role):
                path = _inside(directory, name, symlinks)
                if source is None:
                    writer.write(path, data)
                else:
                    writer.link(path, source, data)
                written.append(path)
            report_every(progress, "writing", n, len(ordered))
    state.changed.clear()
    return written


def hash_file(path: str | Path) -> tuple[int, dict[str, str]]:
    """Length and sha256 / sha512 of a target file, read in chunks."""
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    length = 0
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise InputError(f"{path}: is a directory; give target files")
            if not stat.S_ISREG(info.st_mode):
                raise InputError(f"{path}: not a regular file; give target files")
            # a small file in one read of its own size (+1 to see its end): no 1 MiB
            # buffer mapped, shrunk and unmapped per file (3 system calls of 100,000 files)
            want = min(_CHUNK, info.st_size + 1)
            while chunk := os.read(fd, want):
                sha256.update(chunk)
                sha512.update(chunk)
                length += len(chunk)
                if len(chunk) < want:  # a short read of a regular file: its end
                    break
                want = _CHUNK  # it grew since fstat: read on, in chunks
        finally:
            os.close(fd)
    except FileNotFoundError as e:
        raise InputError(f"{path}: no such target file") from e
    except IsADirectoryError as e:
        raise InputError(f"{path}: is a directory; give target files") from e
    except OSError as e:
        raise StorageError(f"{path}: cannot read: {e.strerror}") from e
    return length, {"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}
