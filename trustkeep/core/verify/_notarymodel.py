"""Notary v1 signed payloads, parsed strictly (NOTARY.md §3). Raises Malformed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustkeep.core.notary_meta import NotaryKey, NotaryKeyError, parse_notary_key
from trustkeep.core.verify._envelope import Malformed, parse_notary_time
from trustkeep.core.verify._tufmodel import RoleKeys, parse_role_keys

__all__ = [
    "Delegation",
    "Header",
    "Keys",
    "NRoot",
    "NTargets",
    "parse_header",
    "parse_keys",
    "parse_root",
    "parse_targets",
]

_ROLE_NAME = re.compile(r"^targets/[-a-z0-9_/]+$")


@dataclass(frozen=True)
class Header:
    version: int
    expires: datetime
    expires_text: str


@dataclass(frozen=True)
class Keys:
    usable: Mapping[str, NotaryKey]
    bad: Mapping[str, str]


@dataclass(frozen=True)
class NRoot:
    header: Header
    keys: Keys
    roles: Mapping[str, RoleKeys]


@dataclass(frozen=True)
class Delegation:
    name: str
    keys: RoleKeys
    paths: tuple[str, ...]


@dataclass(frozen=True)
class NTargets:
    header: Header
    targets: Mapping[str, Any]
    keys: Keys
    roles: tuple[Delegation, ...]


def parse_header(signed: Mapping[str, Any], expected: str, *, where: str) -> Header:
    if signed.get("_type") != expected:
        raise Malformed(
            f"{where}: _type is {str(signed.get('_type'))[:20]!r}, expected {expected!r}"
        )
    version = signed.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise Malformed(f"{where}: version is not a non-negative integer")
    text = signed.get("expires")
    expires = parse_notary_time(text, name=where)
    assert isinstance(text, str)
    return Header(version, expires, text)


def parse_keys(doc: Any, *, where: str) -> Keys:
    if not isinstance(doc, dict):
        raise Malformed(f"{where}: 'keys' is not an object")
    usable: dict[str, NotaryKey] = {}
    bad: dict[str, str] = {}
    for keyid, entry in doc.items():
        try:
            usable[keyid] = parse_notary_key(keyid, entry)
        except NotaryKeyError as e:
            bad[keyid] = str(e)
    return Keys(usable, bad)


def parse_root(signed: Mapping[str, Any], *, where: str) -> NRoot:
    header = parse_header(signed, "Root", where=where)
    roles = signed.get("roles")
    needed = {"root", "targets", "snapshot", "timestamp"}
    if not isinstance(roles, dict) or not needed <= set(roles):
        raise Malformed(f"{where}: roles must include {', '.join(sorted(needed))}")
    parsed = {n: parse_role_keys(roles[n], where=where, role=n) for n in needed}
    return NRoot(header, parse_keys(signed.get("keys"), where=where), parsed)


def parse_targets(signed: Mapping[str, Any], *, name: str, where: str) -> NTargets:
    header = parse_header(signed, "Targets", where=where)
    targets = signed.get("targets", {})
    if not isinstance(targets, dict) or not all(isinstance(v, dict) for v in targets.values()):
        raise Malformed(f"{where}: targets is not an object of objects")
    deleg = signed.get("delegations") or {"keys": {}, "roles": []}
    if not isinstance(deleg, dict) or not isinstance(deleg.get("roles", []), list):
        raise Malformed(f"{where}: delegations is not an object with a roles list")
    roles: list[Delegation] = []
    for doc in deleg.get("roles", []):
        child = doc.get("name") if isinstance(doc, dict) else None
        if not isinstance(child, str) or not _ROLE_NAME.match(child) or len(child) >= 256:
            raise Malformed(f"{where}: delegation name {str(child)[:60]!r} is not targets/<name>")
        if not child.startswith(f"{name}/") or "//" in child or child.endswith("/"):
            raise Malformed(f"{where}: {name} cannot delegate to {child!r} (not under {name}/)")
        paths = doc.get("paths", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise Malformed(f"{where}: delegation {child} paths are not a list of strings")
        roles.append(Delegation(child, parse_role_keys(doc, where=where, role=child), tuple(paths)))
    return NTargets(header, targets, parse_keys(deleg.get("keys", {}), where=where), tuple(roles))
