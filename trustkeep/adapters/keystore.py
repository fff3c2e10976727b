"""The embedded key store on disk: ``<home>/keys/<keyid>.json`` + ``private/<keyid>.pem``.

The JSON entry holds only public data (keyid, public key, private-key URI,
labels). Where the private half lives is the URI alone: entries written before
that carried a ``backend`` field beside it, which is still read (it must agree
with the URI) and dropped when the entry is next written. Private halves are
PKCS#8 ``ENCRYPTED PRIVATE KEY`` files, 0600 in a 0700 directory, written
atomically; this module never sees a plaintext key.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from trustkeep.adapters.atomic import atomic_write, ensure_private_dir
from trustkeep.core.keys import KeyEntry
from trustkeep.errors import InputError, StorageError

__all__ = ["KEYID_RE", "KeyStore", "entry_from_dict", "entry_to_dict"]

KEYID_RE = re.compile(r"^[0-9a-f]{64}$")
_MAX_ENTRY_BYTES = 1 << 20
#: the ``backend`` field of entries written by trustkeep 0.1 -> the URI scheme it implies
_LEGACY_BACKENDS: dict[str, str | None] = {
    "file": "tkfile",
    "keyring": "tkkeyring",
    "pkcs11": "hsm",
    "public": None,
}


def entry_to_dict(entry: KeyEntry) -> dict[str, Any]:
    """The persisted form of an entry (public data only)."""
    return {
        "keyid": entry.keyid,
        "name": entry.name,
        "keytype": entry.keytype,
        "scheme": entry.scheme,
        "keyval": dict(entry.keyval),
        "uri": entry.uri,
        "notary_canonical_id": entry.notary_canonical_id,
        "labels": dict(entry.labels),
        "remembered": entry.remembered,
    }


def _str_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"{what} must map strings to strings")
    return dict(value)


def _opt_str(doc: Mapping[str, Any], field: str) -> str | None:
    value = doc.get(field)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field} must be a string or null")
    return value


def entry_from_dict(doc: object) -> KeyEntry:
    """Parse a persisted entry; ``ValueError`` naming the bad field."""
    if not isinstance(doc, Mapping):
        raise ValueError("not a JSON object")
    for field in ("keyid", "keytype", "scheme"):
        if not isinstance(doc.get(field), str):
            raise ValueError(f"missing or non-string {field!r}")
    if not KEYID_RE.match(doc["keyid"]):
        raise ValueError("keyid is not 64 lowercase hex digits")
    uri = _opt_str(doc, "uri")
    if uri is not None and not uri.partition(":")[2]:
        raise ValueError(f"private key URI {uri!r} is not SCHEME:LOCATION")
    if "backend" in doc:
        _check_legacy_backend(doc["backend"], uri)
    remembered = doc.get("remembered", False)
    if not isinstance(remembered, bool):
        raise ValueError("remembered must be a boolean")
    keyval = _str_map(doc.get("keyval"), "keyval")
    if "public" not in keyval:
        raise ValueError("keyval has no 'public' value")
    return KeyEntry(
        keyid=doc["keyid"],
        name=_opt_str(doc, "name"),
        keytype=doc["keytype"],
        scheme=doc["scheme"],
        keyval=keyval,
        uri=uri,
        notary_canonical_id=_opt_str(doc, "notary_canonical_id"),
        labels=_str_map(doc.get("labels", {}), "labels"),
        remembered=remembered,
    )


def _check_legacy_backend(backend: object, uri: str | None) -> None:
    """An old entry's ``backend`` must say what its URI says."""
    if not isinstance(backend, str) or backend not in _LEGACY_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    scheme = None if uri is None else uri.partition(":")[0]
    if _LEGACY_BACKENDS[backend] != scheme:
        raise ValueError(f"backend {backend!r} does not match the private key URI {uri!r}")


class KeyStore:
    """Files of the embedded key store under ``<home>/keys``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home / "keys"
        self.private_dir = self.root / "private"

    # -- public entries -------------------------------------------------------

    def entry_path(self, keyid: str) -> Path:
        if not KEYID_RE.match(keyid):
            raise ValueError(f"not a keyid: {keyid!r}")
        return self.root / f"{keyid}.json"

    def entries(self) -> list[KeyEntry]:
        """Every entry, sorted by keyid. Temporary files of interrupted writes are ignored."""
        if not self.root.is_dir():
            return []
        try:
            names = sorted(os.listdir(self.root))
        except OSError as e:
            raise StorageError(f"{self.root}: cannot read key store: {e.strerror}") from e
        return [self._read_entry(self.root / n) for n in names if _is_entry_name(n)]

    def keyids(self) -> list[str]:
        """The keyids in the store, from file names only (cheap)."""
        if not self.root.is_dir():
            return []
        try:
            names = os.listdir(self.root)
        except OSError as e:
            raise StorageError(f"{self.root}: cannot read key store: {e.strerror}") from e
        return sorted(n[:-5] for n in names if _is_entry_name(n) and KEYID_RE.match(n[:-5]))

    def get(self, keyid: str) -> KeyEntry | None:
        path = self.entry_path(keyid)
        return self._read_entry(path) if path.exists() else None

    def put(self, entry: KeyEntry) -> None:
        """Write ``entry``; InputError if another key has its name (checked under a lock,
        so that two processes cannot both give one name to different keys)."""
        ensure_private_dir(self.root)
        text = json.dumps(entry_to_dict(entry), indent=2, sort_keys=True) + "\n"
        with self._locked():
            if entry.name is not None:
                for other in self.entries():
                    if other.name == entry.name and other.keyid != entry.keyid:
                        raise InputError(
                            f"key name {entry.name!r} is already used by key {other.keyid[:8]}"
                        )
            atomic_write(self.entry_path(entry.keyid), text.encode("utf-8"), mode=0o600)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An advisory lock on the store directory, held while an entry is written."""
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as e:
            raise StorageError(f"{self.root}: cannot open key store: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def delete_entry(self, keyid: str) -> None:
        _unlink(self.entry_path(keyid))

    def _read_entry(self, path: Path) -> KeyEntry:
        try:
            with path.open("rb") as f:
                data = f.read(_MAX_ENTRY_BYTES + 1)
        except OSError as e:
            raise StorageError(f"{path}: cannot read key entry: {e.strerror}") from e
        try:
            if len(data) > _MAX_ENTRY_BYTES:
                raise ValueError("file too large")
            doc = json.loads(data)
            entry = entry_from_dict(doc)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise StorageError(f"{path}: corrupt key entry: {e}") from e
        if path.name != f"{entry.keyid}.json":
            raise StorageError(f"{path}: corrupt key entry: file name does not match its keyid")
        if "backend" in doc:
            self._migrate(path, data, entry)
        return entry

    def _migrate(self, path: Path, data: bytes, entry: KeyEntry) -> None:
        """Best effort: rewrite an old entry without its ``backend`` field (the URI says it).

        Only when the store's lock is free and the file is unchanged, so that a
        concurrent write is never undone; a read-only home keeps the old entry, which
        reads the same.
        """
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if path.read_bytes() == data:
                text = json.dumps(entry_to_dict(entry), indent=2, sort_keys=True) + "\n"
                atomic_write(path, text.encode("utf-8"), mode=0o600)
        except (OSError, StorageError):
            return
        finally:
            os.close(fd)

    # -- encrypted private halves -----------------------------------------------

    def private_path(self, keyid: str) -> Path:
        if not KEYID_RE.match(keyid):
            raise ValueError(f"not a keyid: {keyid!r}")
        return self.private_dir / f"{keyid}.pem"

    def read_private(self, keyid: str) -> bytes:
        path = self.private_path(keyid)
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise StorageError(f"{path}: private key file of key {keyid} is missing") from e
        except OSError as e:
            raise StorageError(f"{path}: cannot read private key: {e.strerror}") from e

    def write_private(self, keyid: str, encrypted_pem: bytes) -> None:
        """Store an already encrypted PEM (refuses anything else)."""
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" not in encrypted_pem:
            raise ValueError("refusing to store a private key that is not encrypted")
        ensure_private_dir(self.root)
        ensure_private_dir(self.private_dir)
        atomic_write(self.private_path(keyid), encrypted_pem, mode=0o600)

    def delete_private(self, keyid: str) -> None:
        _unlink(self.private_path(keyid))


def _is_entry_name(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".")


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as e:
        raise StorageError(f"{path}: cannot remove: {e.strerror}") from e
    with contextlib.suppress(OSError):
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
