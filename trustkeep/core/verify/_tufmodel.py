"""TUF 1.0 signed payloads, parsed strictly (the checks python-tuf's Metadata API makes).

Each ``parse_*`` raises :class:`Malformed` naming the file and the field.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeGuard

from trustkeep.core.rolenames import TOP_LEVEL_ROLES
from trustkeep.core.verify._envelope import Envelope, Malformed, parse_tuf_time
from trustkeep.core.verify._tufkeys import KeyCache, KeyTable, parse_tuf_keys

__all__ = [
    "DelegatedRole",
    "Delegations",
    "Header",
    "MetaFile",
    "RoleKeys",
    "RootInfo",
    "Succinct",
    "TargetsInfo",
    "count_signatures",
    "parse_delegations",
    "parse_header",
    "parse_meta",
    "parse_role_keys",
    "parse_root",
    "parse_targets",
    "python_tuf_form",
]


class Header(NamedTuple):
    type: str
    version: int
    expires: datetime
    expires_text: str
    spec_version: str


class RoleKeys(NamedTuple):
    keyids: tuple[str, ...]
    threshold: int


class RootInfo(NamedTuple):
    header: Header
    consistent_snapshot: bool
    keys: KeyTable
    roles: Mapping[str, RoleKeys]


class MetaFile(NamedTuple):
    version: int
    length: int | None
    hashes: Mapping[str, str] | None


def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_header(
    signed: Mapping[str, Any],
    expected: str,
    *,
    where: str,
    times: dict[str, datetime] | None = None,
) -> Header:
    """The common fields; ``times``, the run's expiry texts parsed so far (most files of
    a repository share a few), is filled as texts parse."""
    kind = signed.get("_type")
    if kind != expected:
        raise Malformed(f"{where}: _type is {str(kind)[:20]!r}, expected {expected!r}")
    spec = signed.get("spec_version")
    parts = spec.split(".") if isinstance(spec, str) else []
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise Malformed(f"{where}: spec_version {str(spec)[:20]!r} is not a version number")
    if parts[0] != "1":
        raise Malformed(f"{where}: spec_version {spec} is not major version 1")
    version = signed.get("version")
    if not _is_int(version) or version <= 0:
        raise Malformed(f"{where}: version {str(version)[:20]!r} is not a positive integer")
    expires_text = signed.get("expires")
    expires = times.get(expires_text) if times is not None and type(expires_text) is str else None
    if expires is None:
        expires = parse_tuf_time(expires_text, name=where)  # a str, or it raised
        if times is not None:
            times[str(expires_text)] = expires
    assert isinstance(expires_text, str)
    return Header(expected, version, expires, expires_text, str(spec))


def parse_role_keys(doc: Any, *, where: str, role: str) -> RoleKeys:
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: role {role!r} is not an object")
    keyids, threshold = doc.get("keyids"), doc.get("threshold")
    if not isinstance(keyids, list) or not all(isinstance(k, str) for k in keyids):
        raise Malformed(f"{where}: role {role!r} keyids is not a list of strings")
    if len(set(keyids)) != len(keyids):
        raise Malformed(f"{where}: role {role!r} lists a keyid twice")
    if not _is_int(threshold) or threshold < 1:
        raise Malformed(f"{where}: role {role!r} threshold {str(threshold)[:20]!r} is not >= 1")
    return RoleKeys(tuple(keyids), threshold)


def parse_root(signed: Mapping[str, Any], *, where: str, cache: KeyCache | None = None) -> RootInfo:
    header = parse_header(signed, "root", where=where)
    consistent = signed.get("consistent_snapshot", False)
    if not isinstance(consistent, bool):
        raise Malformed(f"{where}: consistent_snapshot is not a boolean")
    keys = parse_tuf_keys(signed.get("keys"), where=where, cache=cache)
    roles = signed.get("roles")
    if not isinstance(roles, dict) or set(roles) != set(TOP_LEVEL_ROLES):
        raise Malformed(f"{where}: roles must be exactly {', '.join(TOP_LEVEL_ROLES)}")
    parsed = {name: parse_role_keys(doc, where=where, role=name) for name, doc in roles.items()}
    return RootInfo(header, consistent, keys, parsed)


def _meta_file(doc: Any, *, where: str, name: str) -> MetaFile:
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: meta entry {name!r} is not an object")
    version, length, hashes = doc.get("version"), doc.get("length"), doc.get("hashes")
    if not _is_int(version) or version <= 0:
        raise Malformed(f"{where}: meta entry {name!r} version is not a positive integer")
    if length is not None and (not _is_int(length) or length < 0):
        raise Malformed(f"{where}: meta entry {name!r} length is not a non-negative integer")
    if hashes is not None and (
        not isinstance(hashes, dict)
        or not hashes
        or not all(isinstance(v, str) for v in hashes.values())
    ):
        raise Malformed(f"{where}: meta entry {name!r} hashes is not a non-empty object")
    return MetaFile(version, length, hashes)


def parse_meta(signed: Mapping[str, Any], expected: str, *, where: str) -> dict[str, MetaFile]:
    """The ``meta`` map of a timestamp or snapshot (keys are file names)."""
    meta = signed.get("meta")
    if not isinstance(meta, dict):
        raise Malformed(f"{where}: meta is not an object")
    if expected == "timestamp" and "snapshot.json" not in meta:
        raise Malformed(f"{where}: timestamp meta does not list snapshot.json")
    fast = _meta_files(meta)
    if fast is not None:
        return fast
    return {name: _meta_file(doc, where=where, name=name) for name, doc in meta.items()}


def _meta_files(meta: dict[str, Any]) -> dict[str, MetaFile] | None:
    """The usual snapshot (every entry a version, and lengths and hashes written for all
    or none) checked by C-level passes, as :func:`_meta_file` checks each entry; None
    sends anything else to the per-entry loop that names the culprit."""
    entries = list(meta.values())
    try:
        versions = list(map(itemgetter("version"), entries))
        lengths: list[Any] = list(map(dict.get, entries, repeat("length")))
        hashes: list[Any] = list(map(dict.get, entries, repeat("hashes")))
    except (KeyError, TypeError):  # an entry without a version, or not an object
        return None
    if not entries or set(map(type, versions)) != {int} or min(versions) <= 0:
        return None
    length_types = set(map(type, lengths))
    if length_types == {int}:
        if min(lengths) < 0:
            return None
    elif length_types != {type(None)}:
        return None
    hash_types = set(map(type, hashes))
    if hash_types == {dict}:
        values = list(chain.from_iterable(map(dict.values, hashes)))
        if not all(hashes) or set(map(type, values)) - {str}:
            return None
    elif hash_types != {type(None)}:
        return None
    return dict(zip(meta, map(MetaFile, versions, lengths, hashes), strict=True))


class DelegatedRole(NamedTuple):
    name: str
    keys: RoleKeys
    terminating: bool
    paths: tuple[str, ...] | None
    path_hash_prefixes: tuple[str, ...] | None

    def matches(self, path: str, path_hash: str | None = None) -> bool:
        if self.paths is not None:
            return any(matcher(p)(path) for p in self.paths)
        assert self.path_hash_prefixes is not None
        digest = path_hash or hashlib.sha256(path.encode("utf-8")).hexdigest()
        return any(digest.startswith(p) for p in self.path_hash_prefixes)


_WILDCARDS = frozenset("*?[")


def _in_pattern(path: str, pattern: str) -> bool:
    """python-tuf's ``_is_target_in_pathpattern``: same number of ``/``-segments, each
    matched by ``fnmatch.fnmatchcase``."""
    target_parts, pattern_parts = path.split("/"), pattern.split("/")
    if len(target_parts) != len(pattern_parts):
        return False
    return all(fnmatch.fnmatchcase(t, p) for t, p in zip(target_parts, pattern_parts, strict=True))


def matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate equal to ``_in_pattern(path, pattern)``, cheaper for the usual shapes.

    ``literal`` (no wildcard): equality. ``literal*`` (one ``*``, at the end): the path
    starts with ``literal`` and has no ``/`` after it (so it has as many segments, the
    literal ones equal, the last one starting with the last literal segment). Anything
    else: the segment-wise rule.
    """
    if not _WILDCARDS & set(pattern):
        return pattern.__eq__
    head = pattern[:-1]
    if pattern.endswith("*") and not _WILDCARDS & set(head):
        size = len(head)
        return lambda path: path.startswith(head) and "/" not in path[size:]
    return partial(_swapped_in_pattern, pattern)


def _swapped_in_pattern(pattern: str, path: str) -> bool:
    return _in_pattern(path, pattern)


class Succinct(NamedTuple):
    keys: RoleKeys
    bit_length: int
    name_prefix: str

    @property
    def suffix_len(self) -> int:
        return len(f"{2**self.bit_length - 1:x}")

    def index_for(self, path: str) -> int:
        head = int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:4], "big")
        return head >> (32 - self.bit_length)

    def role_for(self, path: str) -> str:
        return f"{self.name_prefix}-{self.index_for(path):0{self.suffix_len}x}"

    def role_names(self) -> list[str]:
        prefix, width = self.name_prefix, self.suffix_len
        return [f"{prefix}-{i:0{width}x}" for i in range(2**self.bit_length)]


class Delegations(NamedTuple):
    keys: KeyTable
    roles: tuple[DelegatedRole, ...]
    succinct: Succinct | None


class TargetsInfo(NamedTuple):
    header: Header
    targets: Mapping[str, Any]
    delegations: Delegations | None


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _delegated_role(doc: Any, *, where: str) -> DelegatedRole:
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise Malformed(f"{where}: a delegated role has no string name")
    name = doc["name"]
    if name in TOP_LEVEL_ROLES:
        raise Malformed(f"{where}: delegated role uses the top-level name {name!r}")
    keys = parse_role_keys(doc, where=where, role=name)
    if "terminating" not in doc:
        raise Malformed(f"{where}: delegated role {name!r} has no terminating")
    terminating = doc["terminating"]
    if terminating is None:  # python-tuf keeps an explicit null (signed as such): not terminating
        terminating = False
    if not isinstance(terminating, bool):
        raise Malformed(f"{where}: delegated role {name!r} terminating is not a boolean")
    paths, prefixes = doc.get("paths"), doc.get("path_hash_prefixes")
    if (paths is None) == (prefixes is None):
        raise Malformed(f"{where}: role {name!r} needs exactly one of paths/path_hash_prefixes")
    if not _str_list(paths if paths is not None else prefixes):
        raise Malformed(f"{where}: role {name!r} paths are not a list of strings")
    return DelegatedRole(
        name,
        keys,
        terminating,
        tuple(paths) if paths is not None else None,
        tuple(prefixes) if prefixes is not None else None,
    )


def _succinct(doc: Any, *, where: str) -> Succinct:
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: succinct_roles is not an object")
    keys = parse_role_keys(doc, where=where, role="succinct_roles")
    bits, prefix = doc.get("bit_length"), doc.get("name_prefix")
    if not _is_int(bits) or not 1 <= bits <= 32:
        raise Malformed(f"{where}: succinct_roles bit_length is not between 1 and 32")
    if not isinstance(prefix, str):
        raise Malformed(f"{where}: succinct_roles name_prefix is not a string")
    return Succinct(keys, bits, prefix)


def parse_delegations(doc: Any, *, where: str, cache: KeyCache | None = None) -> Delegations:
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: delegations is not an object")
    keys = (cache or KeyCache()).table(doc.get("keys"), where=where)
    roles_doc, succinct_doc = doc.get("roles"), doc.get("succinct_roles")
    if (roles_doc is None) == (succinct_doc is None):
        raise Malformed(f"{where}: delegations need exactly one of roles/succinct_roles")
    if succinct_doc is not None:
        return Delegations(keys, (), _succinct(succinct_doc, where=where))
    if not isinstance(roles_doc, list):
        raise Malformed(f"{where}: delegations.roles is not a list")
    roles = tuple(_delegated_role(r, where=where) for r in roles_doc)
    if len({r.name for r in roles}) != len(roles):
        raise Malformed(f"{where}: delegations list a role name twice")
    return Delegations(keys, roles, None)


def _targets_ok(targets: dict[str, Any]) -> bool:
    """Fast, C-level check that every target has an int length >= 0 and string hashes.

    A non-object target or hashes value makes ``itemgetter`` / ``dict.values`` raise
    TypeError, so no separate type pass is needed; False sends the caller to the
    per-target loop that names the culprit.
    """
    infos = list(targets.values())
    if not infos:
        return True
    try:
        lengths = list(map(itemgetter("length"), infos))
        hashes = list(map(itemgetter("hashes"), infos))
        values = list(chain.from_iterable(map(dict.values, hashes)))
    except (KeyError, TypeError):
        return False
    if set(map(type, lengths)) - {int} or min(lengths) < 0 or not all(hashes):
        return False
    return not set(map(type, values)) - {str}


def _check_targets(targets: Any, *, where: str) -> None:
    if not isinstance(targets, dict):
        raise Malformed(f"{where}: targets is not an object")
    if _targets_ok(targets):
        return
    for path, info in targets.items():
        if (
            type(info) is not dict
            or type(info.get("length")) is not int
            or info["length"] < 0
            or type(info.get("hashes")) is not dict
            or not info["hashes"]
        ):
            raise Malformed(f"{where}: target {path[:60]!r} lacks a length and hashes")
        for value in info["hashes"].values():
            if type(value) is not str:
                raise Malformed(f"{where}: target {path[:60]!r} has a non-string hash")


def parse_targets(
    signed: Mapping[str, Any], *, where: str, cache: KeyCache | None = None
) -> TargetsInfo:
    header = parse_header(signed, "targets", where=where, times=cache.times if cache else None)
    targets = signed.get("targets")
    _check_targets(targets, where=where)
    assert isinstance(targets, dict)
    if "delegations" in signed and signed["delegations"] is None:
        raise Malformed(f"{where}: delegations is null (python-tuf cannot load the file)")
    delegations = signed.get("delegations")
    parsed = (
        parse_delegations(delegations, where=where, cache=cache)
        if delegations is not None
        else None
    )
    return TargetsInfo(header, targets, parsed)


def count_signatures(env: Envelope, role: RoleKeys, table: KeyTable) -> tuple[str, ...]:
    """Keyids of ``role`` whose signature over the canonical signed bytes verifies.

    A key is counted once however many keyids it is listed under (go-tuf
    GHSA-3633-5h82-39pq: one key under two IDs must not count twice); the
    number of keys counted is the length of the result.
    """
    sigs: dict[str, list[str]] = {}
    for s in env.signatures:
        sigs.setdefault(s.keyid, []).append(s.sig)
    counted: dict[bytes, str] = {}
    for keyid in role.keyids:
        key = table.usable.get(keyid)
        if key is None or key.material in counted:
            continue
        if any(env.verify_with(partial(key.check, sig)) for sig in sigs.get(keyid, ())):
            counted[key.material] = keyid
    return tuple(counted.values())


def _drop_nulls(doc: Any, fields: tuple[str, ...]) -> Any:
    if isinstance(doc, dict) and any(f in doc and doc[f] is None for f in fields):
        return {k: v for k, v in doc.items() if not (k in fields and v is None)}
    return doc


def _meta_form(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return meta
    out = {name: _drop_nulls(entry, ("length", "hashes")) for name, entry in meta.items()}
    return out if any(out[n] is not meta[n] for n in meta) else meta


def _delegations_form(d: Any) -> Any:
    d = _drop_nulls(d, ("roles", "succinct_roles"))
    roles = d.get("roles") if isinstance(d, dict) else None
    if isinstance(roles, list):
        new = [_drop_nulls(r, ("paths", "path_hash_prefixes")) for r in roles]
        if any(a is not b for a, b in zip(new, roles, strict=True)):
            d = {**d, "roles": new}
    return d


def python_tuf_form(signed: dict[str, Any]) -> dict[str, Any]:
    """``signed`` as python-tuf's model holds it: what its ``signed_bytes`` encode.

    python-tuf's ``from_dict`` drops an explicit ``null`` for optional fields
    (``consistent_snapshot``; ``length``/``hashes`` of a meta entry;
    ``roles``/``succinct_roles`` of delegations; ``paths``/``path_hash_prefixes``)
    and keeps only ``snapshot.json`` of a timestamp's ``meta``; its signatures are
    checked over the canonical form of what is left. The same object is returned
    when nothing is dropped (the usual case: no copy).
    """
    kind = signed.get("_type")
    out = signed
    if kind == "root":
        out = _drop_nulls(signed, ("consistent_snapshot",))
    elif kind in ("timestamp", "snapshot"):
        meta = signed.get("meta")
        if kind == "timestamp" and isinstance(meta, dict) and set(meta) - {"snapshot.json"}:
            meta = {k: v for k, v in meta.items() if k == "snapshot.json"}
        form = _meta_form(meta)
        if form is not signed.get("meta"):
            out = {**signed, "meta": form}
    elif kind == "targets" and isinstance(signed.get("delegations"), dict):
        form = _delegations_form(signed["delegations"])
        if form is not signed["delegations"]:
            out = {**signed, "delegations": form}
    return out
