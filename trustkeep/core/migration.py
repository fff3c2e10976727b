"""Notary v1 → TUF 1.0: what a Notary repository signed, path prefixes as TUF delegation
patterns, and the signed migration statement. Pure: bytes and values in, values out.

**Path prefixes.** A Notary delegation's ``paths`` are plain string prefixes. python-tuf
matches TUF ``paths`` as shell-style patterns per ``/``-separated segment (``*`` never
crosses ``/``). The mapping is:

* prefix ``""`` (every name) → ``path_hash_prefixes`` ``0``…``f``: every sha256 of a name
  starts with one of the 16 hex digits, so exactly every name, as in Notary;
* prefix ``P`` → ``P*``, ``P*/*``, ``P*/*/*``, … (``P`` with ``*``, ``?`` and ``[`` escaped)
  up to :data:`EXTRA_SEGMENTS` more ``/`` than ``P`` has, or more when a signed name needs
  it. This never allows a name that does not start with ``P`` (no widening); it narrows
  when a future name under ``P`` has more ``/`` than that — reported per role;
* no prefix at all → the role can sign nothing in Notary; it is not carried over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
from securesystemslib.signer import Signature, SSlibKey

from trustkeep.core.keyids import PublicKeyTypes, canonical_json
from trustkeep.core.notary_meta import NotaryKey
from trustkeep.core.verify._envelope import Malformed, parse_envelope
from trustkeep.core.verify._notarymodel import Keys, parse_root, parse_targets

__all__ = [
    "ALL_HASH_PREFIXES",
    "EXTRA_SEGMENTS",
    "STATEMENT_TYPE",
    "NotaryRepo",
    "NotaryRole",
    "PathMapping",
    "SignedTarget",
    "StatementCheck",
    "check_statement",
    "glob_escape",
    "map_prefixes",
    "notary_hashes",
    "preferred_targets",
    "read_notary_repo",
    "statement_payload",
    "statement_signed",
    "tuf_key",
    "tuf_scheme",
]

ALL_HASH_PREFIXES = tuple("0123456789abcdef")
EXTRA_SEGMENTS = 3
STATEMENT_TYPE = "trustkeep-notary-migration"
_HASH_SIZES = {"sha256": 32, "sha512": 64}


def glob_escape(text: str) -> str:
    """``text`` as a literal fnmatch pattern (``*``, ``?`` and ``[`` in brackets)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


@dataclass(frozen=True)
class PathMapping:
    """How one role's Notary prefixes became TUF patterns, and what changed."""

    role: str
    prefixes: tuple[str, ...]
    paths: tuple[str, ...] | None
    hash_prefixes: tuple[str, ...] | None
    narrowed: tuple[str, ...] = ()
    widened: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.narrowed and not self.widened

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "notary_paths": list(self.prefixes),
            "paths": list(self.paths) if self.paths is not None else None,
            "path_hash_prefixes": list(self.hash_prefixes) if self.hash_prefixes else None,
            "exact": self.exact,
            "narrowed": list(self.narrowed),
            "widened": list(self.widened),
        }


def map_prefixes(role: str, prefixes: Sequence[str], *, names: Sequence[str] = ()) -> PathMapping:
    """TUF patterns for Notary ``prefixes`` of ``role``; ``names`` are the targets it signs
    (and its delegations sign), which the patterns must keep covering."""
    unique = tuple(dict.fromkeys(prefixes))
    if "" in unique:
        return PathMapping(role, unique, None, ALL_HASH_PREFIXES)
    patterns: list[str] = []
    narrowed: list[str] = []
    for prefix in unique:
        needed = [n.count("/") - prefix.count("/") for n in names if n.startswith(prefix)]
        extra = max([EXTRA_SEGMENTS, *needed])
        base = glob_escape(prefix) + "*"
        patterns += [base + "/*" * k for k in range(extra + 1)]
        narrowed.append(
            f"names starting with {prefix!r} and holding more than {extra} '/' after it "
            f"can no longer be signed by {role}"
        )
    return PathMapping(role, unique, tuple(dict.fromkeys(patterns)), None, tuple(narrowed))


@dataclass(frozen=True)
class SignedTarget:
    """One target a Notary role signed: hex hashes, length, custom data."""

    name: str
    role: str
    length: int
    hashes: Mapping[str, str]
    custom: Any = None
    dropped: tuple[str, ...] = field(default=())

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")


def notary_hashes(doc: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Notary's base64 ``hashes`` as TUF's hex; the algorithms that could not be carried."""
    out: dict[str, str] = {}
    dropped: list[str] = []
    for alg, value in doc.items():
        try:
            raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if alg in _HASH_SIZES and len(raw) == _HASH_SIZES[alg]:
            out[alg] = raw.hex()
        else:
            dropped.append(str(alg)[:20])
    return out, dropped


def statement_signed(
    *,
    gun: str,
    notary_root: bytes,
    notary_root_version: int,
    tuf_root: bytes,
    tuf_root_version: int,
    verified_at: datetime,
    migrated_at: datetime,
) -> dict[str, Any]:
    """The ``signed`` part of a migration statement (ISO times, sha256 hex of the files)."""
    return {
        "_type": STATEMENT_TYPE,
        "version": 1,
        "gun": gun,
        "notary_root": {
            "version": notary_root_version,
            "sha256": hashlib.sha256(notary_root).hexdigest(),
            "length": len(notary_root),
        },
        "tuf_root": {
            "version": tuf_root_version,
            "sha256": hashlib.sha256(tuf_root).hexdigest(),
            "length": len(tuf_root),
        },
        "notary_verified_at": _iso(verified_at),
        "migrated_at": _iso(migrated_at),
    }


def statement_payload(signed: Mapping[str, Any]) -> bytes:
    """The bytes every statement signature covers: canonical JSON of ``signed``."""
    return canonical_json(dict(signed))


def _iso(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def tuf_scheme(public: PublicKeyTypes) -> tuple[str | None, str]:
    """The securesystemslib scheme a Notary key's signatures map to, or None and why."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519", ""
    if isinstance(public, ec.EllipticCurvePublicKey):
        size = public.curve.key_size
        if size in (256, 384):
            return f"ecdsa-sha2-nistp{size}", ""
        return None, f"ECDSA curve {public.curve.name} has no TUF scheme"
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < 2048:
            return None, f"RSA key of {public.key_size} bits is too weak"
        return "rsassa-pss-sha256", ""
    return None, "unsupported key type"  # pragma: no cover - NotaryKey holds only these


def tuf_key(public: PublicKeyTypes) -> SSlibKey:
    """The TUF key for a Notary public key (keyid computed the TUF way)."""
    scheme, why = tuf_scheme(public)
    if scheme is None:
        raise ValueError(why)
    return SSlibKey.from_crypto(public, scheme=scheme)


@dataclass(frozen=True)
class StatementCheck:
    """The verdict on a migration statement against both chains."""

    gun: str | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    tuf_signatures: int
    tuf_threshold: int
    notary_signed_by: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def _verifies(key: SSlibKey, sig: Any, payload: bytes) -> bool:
    """Whether ``sig`` (hex) is ``key``'s signature over ``payload``. A Notary key is named by
    its Notary ID in the statement; securesystemslib wants the key's own (TUF) keyid."""
    if not isinstance(sig, str):
        return False
    try:
        key.verify_signature(Signature(key.keyid, sig), payload)
    except (UnverifiedSignatureError, VerificationError, ValueError, TypeError):
        return False
    return True


def _tuf_signers(signatures: Any, keys: Mapping[str, SSlibKey], payload: bytes) -> set[str]:
    """Distinct keyids of ``keys`` with a valid signature in ``signatures``."""
    return {
        s["keyid"]
        for s in (signatures if isinstance(signatures, list) else [])
        if isinstance(s, dict)
        and isinstance(s.get("keyid"), str)
        and s["keyid"] in keys
        and _verifies(keys[s["keyid"]], s.get("sig"), payload)
    }


def _notary_signers(
    signatures: Any,
    keys: Mapping[str, PublicKeyTypes],
    payload: bytes,
    problems: list[str],
) -> list[str]:
    """Notary root keyids that signed; a signature that does not verify is a problem."""
    signed_by: list[str] = []
    for s in signatures if isinstance(signatures, list) else []:
        keyid = s.get("keyid") if isinstance(s, dict) else None
        public = keys.get(keyid) if isinstance(keyid, str) else None
        if public is None or keyid is None:
            problems.append(f"Notary signature by {str(keyid)[:16]}: not a key of that root")
        elif _verifies(tuf_key(public), s.get("sig"), payload):
            signed_by.append(keyid)
        else:
            problems.append(f"Notary signature by {keyid[:16]} does not verify")
    return signed_by


def _signed_part(doc: Any) -> dict[str, Any]:
    signed = doc.get("signed") if isinstance(doc, dict) else None
    if not isinstance(signed, dict) or signed.get("_type") != STATEMENT_TYPE:
        raise ValueError(f"not a migration statement (_type {STATEMENT_TYPE!r} expected)")
    return signed


def check_statement(
    doc: Any,
    *,
    notary_root: bytes,
    notary_root_keys: Mapping[str, PublicKeyTypes],
    tuf_root: bytes,
    tuf_root_keys: Mapping[str, SSlibKey],
    tuf_threshold: int,
    gun: str | None = None,
) -> StatementCheck:
    """Check a statement: the GUN, both root hashes, a threshold of the TUF root's keys,
    and any signature by the retiring Notary root key (``notary_root_keys`` by Notary ID)."""
    problems: list[str] = []
    warnings: list[str] = []
    try:
        signed = _signed_part(doc)
    except ValueError as e:
        return StatementCheck(None, (str(e),), (), 0, tuf_threshold, ())
    named = signed.get("gun")
    if gun is not None and named != gun:
        problems.append(f"the statement is for {str(named)[:200]!r}, not {gun!r}")
    for key, raw, what in (
        ("notary_root", notary_root, "the last verified Notary root"),
        ("tuf_root", tuf_root, "the TUF repository's first root (1.root.json)"),
    ):
        entry = signed.get(key)
        recorded = entry.get("sha256") if isinstance(entry, dict) else None
        if recorded != hashlib.sha256(raw).hexdigest():
            problems.append(f"the statement's {key} sha256 is not that of {what}")
    payload = statement_payload(signed)
    valid = _tuf_signers(doc.get("signatures"), tuf_root_keys, payload)
    if len(valid) < tuf_threshold:
        problems.append(
            f"{len(valid)} valid signature(s) by the new TUF root keys, threshold {tuf_threshold}"
        )
    notary_by = _notary_signers(doc.get("notary_signatures"), notary_root_keys, payload, problems)
    if not notary_by:
        warnings.append("not signed by the retiring Notary root key (it was not in the store)")
    return StatementCheck(
        named if isinstance(named, str) else None,
        tuple(problems),
        tuple(warnings),
        len(valid),
        tuf_threshold,
        tuple(notary_by),
    )


@dataclass(frozen=True)
class NotaryRole:
    """``targets`` or a delegated role, as the verified Notary metadata declares it."""

    name: str
    delegated_by: str  # "root" for targets
    threshold: int
    keys: tuple[NotaryKey, ...]
    unusable_keys: tuple[tuple[str, str], ...]  # (keyid, why)
    paths: tuple[str, ...] | None  # None for targets (everything)
    targets: tuple[SignedTarget, ...]
    present: bool  # a metadata file exists (a declared role never published is empty)


@dataclass(frozen=True)
class NotaryRepo:
    """The last root and the targets tree of verified Notary metadata."""

    root_bytes: bytes
    root_version: int
    root_keys: Mapping[str, NotaryKey]  # the root role's keys, by Notary keyid
    root_threshold: int
    roles: tuple[NotaryRole, ...]


def _role_keys(keys: Keys, keyids: Sequence[str]) -> tuple[tuple[NotaryKey, ...], tuple[Any, ...]]:
    usable = tuple(keys.usable[k] for k in keyids if k in keys.usable)
    bad = tuple(
        (k, keys.bad.get(k, "not in the delegating role's keys"))
        for k in keyids
        if k not in keys.usable
    )
    return usable, bad


def _targets_of(role: str, targets: Mapping[str, Any]) -> tuple[SignedTarget, ...]:
    out: list[SignedTarget] = []
    for name, doc in sorted(targets.items()):
        hashes, dropped = notary_hashes(doc.get("hashes") or {})
        length = doc.get("length")
        out.append(
            SignedTarget(
                name=name,
                role=role,
                length=length if isinstance(length, int) and not isinstance(length, bool) else -1,
                hashes=hashes,
                custom=doc.get("custom"),
                dropped=tuple(dropped),
            )
        )
    return tuple(out)


def read_notary_repo(files: Mapping[str, bytes]) -> NotaryRepo:
    """Parse verified Notary metadata (``root.json``, ``targets.json``, ``targets/*.json``).

    Raises ``Malformed`` (a ``ValueError``) for files the verifier would not have passed.
    """
    raw_root = files.get("root.json")
    if raw_root is None:
        raise Malformed("no root.json")
    root = parse_root(parse_envelope(raw_root, name="root.json").signed, where="root.json")
    role = root.roles["root"]
    root_keys = {k: root.keys.usable[k] for k in role.keyids if k in root.keys.usable}
    roles: list[NotaryRole] = []
    stack: list[tuple[str, str, Any, Keys, tuple[str, ...] | None]] = [
        ("targets", "root", root.roles["targets"], root.keys, None)
    ]
    seen: set[str] = set()
    while stack:
        name, parent, role_keys, table, paths = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        keys, bad = _role_keys(table, role_keys.keyids)
        raw = files.get(f"{name}.json")
        if raw is None:
            roles.append(NotaryRole(name, parent, role_keys.threshold, keys, bad, paths, (), False))
            continue
        info = parse_targets(parse_envelope(raw, name=name).signed, name=name, where=name)
        roles.append(
            NotaryRole(
                name,
                parent,
                role_keys.threshold,
                keys,
                bad,
                paths,
                _targets_of(name, info.targets),
                True,
            )
        )
        for d in reversed(info.roles):
            stack.append((d.name, name, d.keys, info.keys, d.paths))
    return NotaryRepo(raw_root, root.header.version, root_keys, role.threshold, tuple(roles))


def _preference(role: str) -> tuple[int, str]:
    return (0 if role == "targets/releases" else 1 if role == "targets" else 2, role)


def preferred_targets(repo: NotaryRepo) -> list[SignedTarget]:
    """One entry per name, from the role Docker reads first: ``targets/releases``, then
    ``targets``, then the other delegations by name."""
    chosen: dict[str, SignedTarget] = {}
    for role in sorted(repo.roles, key=lambda r: _preference(r.name)):
        for t in role.targets:
            chosen.setdefault(t.name, t)
    return [chosen[n] for n in sorted(chosen)]
