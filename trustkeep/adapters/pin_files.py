"""daemon.json / Notary config files: read, merge pins in place, write atomically.

Merging edits the file's text, not a re-dump of it: only the members on the
paths being set are replaced or inserted, so every other key, value, number
spelling, escape and blank line stays byte-for-byte as it was, and new members
copy the indentation and separators of their neighbours.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from trustkeep.adapters.atomic import atomic_write
from trustkeep.errors import InputError, StorageError

__all__ = [
    "MAX_CONFIG_BYTES",
    "ConfigFile",
    "config_lock",
    "load_json_text",
    "read_config",
    "set_paths",
    "unified_diff",
    "write_config",
]

MAX_CONFIG_BYTES = 4 * 1024 * 1024
_WS = " \t\n\r"
_SCALAR_RE = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


@dataclass(frozen=True)
class ConfigFile:
    """A JSON config file as found: ``text`` is None when the file does not exist."""

    path: Path
    text: str | None
    document: dict[str, Any]
    mode: int = 0o644


def load_json_text(text: str, *, source: str) -> dict[str, Any]:
    """Parse a JSON object; InputError with line and column when it is not one."""
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicates(source),
            parse_constant=_no_constants(source),
        )
    except json.JSONDecodeError as e:
        raise InputError(
            f"{source}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from e
    except RecursionError as e:
        raise InputError(f"{source}: JSON nested too deeply") from e
    if not isinstance(document, dict):
        raise InputError(f"{source}: the top level is not a JSON object")
    return document


def _no_constants(source: str) -> Any:
    def hook(name: str) -> Any:
        raise InputError(f"{source}: invalid JSON: {name} is not a JSON value")

    return hook


def _no_duplicates(source: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise InputError(f"{source}: duplicate key {key!r}")
            out[key] = value
        return out

    return hook


@contextlib.contextmanager
def config_lock(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of ``path`` between trustkeep processes, so that
    concurrent updates do not lose each other's entries. An advisory lock on the file's
    directory: no lock file is left behind. A directory that cannot be opened (not there
    yet) is not locked."""
    try:
        fd = os.open(os.path.dirname(os.path.realpath(path)), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def read_config(path: Path) -> ConfigFile:
    """Read ``path`` (missing is fine: an empty document); refuse invalid JSON."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return ConfigFile(path=path, text=None, document={})
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file")
    if st.st_size > MAX_CONFIG_BYTES:
        raise InputError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; refusing")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text") from e
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    document = load_json_text(text, source=str(path))
    return ConfigFile(path=path, text=text, document=document, mode=stat.S_IMODE(st.st_mode))


# ---------------------------------------------------------------- span scanner


@dataclass
class _Member:
    key: str
    key_start: int
    key_end: int
    value_start: int
    value_end: int
    node: _Object | None


@dataclass
class _Object:
    start: int
    end: int
    members: list[_Member] = field(default_factory=list)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _scan_value(text: str, i: int) -> tuple[int, _Object | None]:
    """End of the JSON value starting at ``i`` (already validated by json.loads)."""
    ch = text[i]
    if ch == "{":
        obj = _scan_object(text, i)
        return obj.end, obj
    if ch == "[":
        i = _skip_ws(text, i + 1)
        if text[i] == "]":
            return i + 1, None
        while True:
            i, _ = _scan_value(text, i)
            i = _skip_ws(text, i)
            if text[i] == "]":
                return i + 1, None
            i = _skip_ws(text, i + 1)  # past ","
    if ch == '"':
        _, end = scanstring(text, i + 1)
        return int(end), None
    match = _SCALAR_RE.match(text, i)
    if match is None:  # pragma: no cover - json.loads accepted the text
        raise InputError(f"unexpected character {ch!r} at offset {i}")
    return match.end(), None


def _scan_object(text: str, i: int) -> _Object:
    obj = _Object(start=i, end=-1)
    i = _skip_ws(text, i + 1)
    if text[i] == "}":
        obj.end = i + 1
        return obj
    while True:
        key_start = i
        key, key_end = scanstring(text, i + 1)
        colon = _skip_ws(text, int(key_end))
        value_start = _skip_ws(text, colon + 1)
        value_end, node = _scan_value(text, value_start)
        obj.members.append(_Member(key, key_start, int(key_end), value_start, value_end, node))
        i = _skip_ws(text, value_end)
        if text[i] == "}":
            obj.end = i + 1
            return obj
        i = _skip_ws(text, i + 1)


# ---------------------------------------------------------------- editing


def _indent_unit(text: str) -> str | None:
    """The file's indentation step: a tab, N spaces, or None for one-line JSON."""
    widths: list[str] = []
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != line:
            widths.append(line[: len(line) - len(stripped)])
    if not widths:
        return None
    if any(w.startswith("\t") for w in widths):
        return "\t"
    return " " * min(len(w) for w in widths)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _dump(
    value: Any, unit: str | None, base: str, separators: tuple[str, str] = (", ", ": ")
) -> str:
    if unit is None:
        return json.dumps(value, ensure_ascii=False, separators=separators)
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + base)


def _nest(path: Sequence[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _leading(text: str, member: _Member) -> str:
    """The whitespace between a member's preceding ``{`` or ``,`` and its key."""
    start = member.key_start
    while start > 0 and text[start - 1] in _WS:
        start -= 1
    return text[start : member.key_start]


def _inline_separators(text: str, obj: _Object) -> tuple[str, str]:
    """Item and key separators of an object written on one line."""
    kv_sep = text[obj.members[0].key_end : obj.members[0].value_start]
    if len(obj.members) > 1:
        return "," + _leading(text, obj.members[-1]), kv_sep
    return (", " if " " in kv_sep else ","), kv_sep


def _insert(text: str, obj: _Object, key: str, value: Any, unit: str | None) -> str:
    name = json.dumps(key, ensure_ascii=False)
    if obj.members:
        last = obj.members[-1]
        leading = _leading(text, last)
        kv_sep = text[last.key_end : last.value_start]
        if "\n" in leading:
            member = f"{name}{kv_sep}{_dump(value, unit, _line_indent(text, last.key_start))}"
            return f"{text[: last.value_end]},{leading}{member}{text[last.value_end :]}"
        # an object written on one line stays on one line
        separators = _inline_separators(text, obj)
        member = f"{name}{kv_sep}{_dump(value, None, '', separators)}"
        return f"{text[: last.value_end]}{separators[0]}{member}{text[last.value_end :]}"
    if unit is None:
        return f"{text[: obj.start]}{{{name}: {_dump(value, None, '')}}}{text[obj.end :]}"
    base = _line_indent(text, obj.start)
    inner_base = base + unit
    member = f"{name}: {_dump(value, unit, inner_base)}"
    return f"{text[: obj.start]}{{\n{inner_base}{member}\n{base}}}{text[obj.end :]}"


def _replace(text: str, obj: _Object, member: _Member, value: Any, unit: str | None) -> str:
    if unit is None or "\n" not in _leading(text, member):
        dumped = _dump(value, None, "", _inline_separators(text, obj))
    else:
        dumped = _dump(value, unit, _line_indent(text, member.key_start))
    return f"{text[: member.value_start]}{dumped}{text[member.value_end :]}"


def _set_path(text: str, path: Sequence[str], value: Any, unit: str | None, source: str) -> str:
    start = _skip_ws(text, 0)
    obj = _scan_object(text, start)
    for depth, key in enumerate(path):
        member = next((m for m in obj.members if m.key == key), None)
        if member is None:
            return _insert(text, obj, key, _nest(path[depth + 1 :], value), unit)
        if depth == len(path) - 1:
            return _replace(text, obj, member, value, unit)
        if member.node is None:
            where = ".".join(path[: depth + 1])
            raise InputError(f"{source}: {where!r} is not a JSON object")
        obj = member.node
    return text


def set_paths(
    text: str | None, updates: Sequence[tuple[Sequence[str], Any]], *, source: str
) -> str:
    """Apply ``(path, value)`` updates to JSON ``text`` (None: a new file)."""
    if text is None:
        text = "{}\n"
    load_json_text(text, source=source)
    try:  # the scanner recurses once per level, json.loads less: it may go deeper
        has_members = bool(_scan_object(text, _skip_ws(text, 0)).members)
        unit = _indent_unit(text) if has_members else "  "
        if has_members and unit is None and "\n" in text.strip():
            unit = "  "
        for path, value in updates:
            text = _set_path(text, path, value, unit, source)
    except RecursionError as e:
        raise InputError(f"{source}: JSON nested too deeply") from e
    load_json_text(text, source=source)  # what we wrote must parse
    return text


# ---------------------------------------------------------------- writing


def unified_diff(path: Path, old: str | None, new: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=str(path) if old is not None else "/dev/null",
        tofile=str(path),
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def write_config(config: ConfigFile, new_text: str) -> Path | None:
    """Write ``new_text`` atomically, first keeping the old bytes in ``<name>.bak``.

    A symlinked config (``/etc/docker/daemon.json`` managed elsewhere) stays a link:
    the file it points to is replaced, and the backup is written beside that file.
    """
    target = Path(os.path.realpath(config.path))
    backup: Path | None = None
    if config.text is not None:
        backup = target.with_name(target.name + ".bak")
        atomic_write(backup, config.text.encode("utf-8"), mode=config.mode)
    else:
        try:
            os.makedirs(target.parent, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{target.parent}: cannot create directory: {e}") from e
    atomic_write(target, new_text.encode("utf-8"), mode=config.mode)
    return backup
