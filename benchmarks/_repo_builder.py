"""The pieces of a python-tuf repository both benchmarks build (plain ``tuf.api.metadata``).

A root with one key per role, top-level targets delegating to succinct hash bins, a signed
document's bytes, and a ``MetaFile`` recording length and sha256. Imported by
``repo_bench.py`` and ``verify_bench.py`` (run as scripts: this folder is on ``sys.path``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from securesystemslib.signer import Signer
from tuf.api.metadata import (
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

__all__ = ["hashed_meta", "new_root", "signed_bytes", "succinct_bins"]

S = TypeVar("S", Root, Timestamp, Snapshot, Targets)


def new_root(keys: Mapping[str, Signer], expires: datetime, *, consistent: bool) -> Root:
    """Root version 1: ``keys`` maps each role to its one key (a key may serve several roles)."""
    root = Root(expires=expires, consistent_snapshot=consistent)
    for role, signer in keys.items():
        root.add_key(signer.public_key, role)
    return root


def succinct_bins(
    key: Signer, bits: int, prefix: str, expires: datetime
) -> tuple[Targets, SuccinctRoles, dict[str, Targets]]:
    """Top-level targets delegating to ``2**bits`` succinct bins signed by ``key``; the bins."""
    keyid = key.public_key.keyid
    roles = SuccinctRoles([keyid], 1, bits, prefix)
    top = Targets(
        expires=expires, delegations=Delegations({keyid: key.public_key}, succinct_roles=roles)
    )
    return top, roles, {name: Targets(expires=expires) for name in roles.get_roles()}


def signed_bytes(signed: S, signer: Signer, serializer: JSONSerializer) -> bytes:
    """``signed`` in a new envelope with ``signer``'s one signature, serialized."""
    md = Metadata(signed)
    md.sign(signer)
    return md.to_bytes(serializer)


def hashed_meta(data: bytes, version: int = 1) -> MetaFile:
    """What snapshot or timestamp records of ``data``: version, length and sha256."""
    return MetaFile(version, len(data), {"sha256": hashlib.sha256(data).hexdigest()})
