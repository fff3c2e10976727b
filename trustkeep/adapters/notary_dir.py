"""Scan a Notary (``~/.notary``) or Docker (``~/.docker/trust``) trust directory for keys.

Layouts (NOTARY.md §4):

- Notary >= 0.4: flat ``private/<keyid>.key``; role and GUN in the ``role:`` / ``gun:``
  PEM headers.
- before 0.4: ``private/root_keys/<keyid>[_root].key`` and
  ``private/tuf_keys/<gun>/<keyid>[_<role>].key`` (the GUN is the directory path,
  the role the file name suffix when the PEM carries no ``role:`` header).

Files are read, never decrypted: the caller decodes ``pem`` with the passphrase.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from trustkeep.core.pem_keys import pem_headers
from trustkeep.errors import InputError, StorageError

__all__ = ["NotaryKeyFile", "scan_notary_dir"]

_KEY_NAME_RE = re.compile(r"^(?P<keyid>[0-9a-f]{64})(?:_(?P<role>[a-z0-9-]+))?\.key$")
_MAX_KEY_FILE = 1 << 20
_MAX_FILES = 10_000


@dataclass(frozen=True)
class NotaryKeyFile:
    """One key file of a trust directory, with the role and GUN Notary knows it by.

    ``layout`` is ``flat`` (Notary >= 0.4), ``root_keys`` or ``tuf_keys`` (pre-0.4).
    """

    path: Path
    keyid: str
    role: str | None
    gun: str | None
    pem: bytes
    layout: str = "flat"


def scan_notary_dir(path: Path) -> list[NotaryKeyFile]:
    """Every private key file under ``path/private`` (all layouts), sorted by path.

    ``path`` may also be the ``private`` directory itself. Raises :class:`InputError`
    when ``path`` is not a Notary / Docker trust directory and :class:`StorageError`
    when a key file cannot be read.
    """
    private = _private_dir(path)
    found: list[NotaryKeyFile] = []
    for file, layout, gun_dir in _candidates(private):
        match = _KEY_NAME_RE.match(file.name)
        if match is None:
            continue
        data = _read_key_file(file)
        headers = pem_headers(data)
        role = headers.get("role") or match.group("role")
        if role is None and layout == "root_keys":
            role = "root"
        gun = headers.get("gun") or gun_dir
        found.append(
            NotaryKeyFile(
                path=file,
                keyid=match.group("keyid"),
                role=role,
                gun=gun,
                pem=data,
                layout=layout,
            )
        )
        if len(found) > _MAX_FILES:
            raise InputError(f"{path}: more than {_MAX_FILES} key files; not a trust directory?")
    return sorted(found, key=lambda f: str(f.path))


def _private_dir(path: Path) -> Path:
    if not path.is_dir():
        raise InputError(f"{path}: not a directory")
    if path.name == "private" and not (path / "private").is_dir():
        return path
    private = path / "private"
    if not private.is_dir():
        raise InputError(
            f"{path}: not a Notary or Docker trust directory (no private/ directory)",
            hint="pass the trust directory, e.g. ~/.notary or ~/.docker/trust",
        )
    return private


def _candidates(private: Path) -> list[tuple[Path, str, str | None]]:
    """(file, layout, GUN from the directory) for every regular ``*.key`` file."""
    out: list[tuple[Path, str, str | None]] = [(f, "flat", None) for f in _key_files(private)]
    root_keys = private / "root_keys"
    if root_keys.is_dir() and not root_keys.is_symlink():
        out += [(f, "root_keys", None) for f in _key_files(root_keys)]
    tuf_keys = private / "tuf_keys"
    if tuf_keys.is_dir() and not tuf_keys.is_symlink():
        for dirpath, dirnames, _files in os.walk(tuf_keys):  # does not follow symlinks
            dirnames.sort()
            directory = Path(dirpath)
            if directory == tuf_keys:
                continue
            gun = directory.relative_to(tuf_keys).as_posix()
            out += [(f, "tuf_keys", gun) for f in _key_files(directory)]
    return out


def _key_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except OSError as e:
        raise StorageError(f"{directory}: cannot list directory: {e.strerror}") from e
    files = []
    for entry in entries:
        try:
            mode = entry.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and entry.suffix == ".key":
            files.append(entry)
    return files


def _read_key_file(file: Path) -> bytes:
    try:
        with file.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as e:
        raise StorageError(f"{file}: cannot read key file: {e.strerror}") from e
    if len(data) > _MAX_KEY_FILE:
        raise InputError(f"{file}: too large for a key file")
    return data
