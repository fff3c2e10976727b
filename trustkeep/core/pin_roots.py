"""What a pin needs from a root: read a Notary or TUF root.json, check it signs itself.

Pure: bytes in, a :class:`RootInfo` out. A Notary root's root role holds x509
certificates: their IDs (root.json keyids) are the certificate IDs, their public
keys give the canonical IDs, their CN is the GUN. A Notary root is judged by the one
root rule (:func:`trustkeep.core.verify.notary_root.validate_root`, Notary's
ValidateRoot): trust on first use when read as a pin source, the pin when checked
against one. A TUF root is only good for ``--format tuf``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from trustkeep.core._pin_certs import cn_matches, common_name
from trustkeep.core.pinning import certificate_problems, pin_problem
from trustkeep.core.rotation import check_root_rotation
from trustkeep.core.verify._envelope import Envelope, Malformed, parse_envelope
from trustkeep.core.verify._notarymodel import NRoot, parse_root
from trustkeep.core.verify.notary_root import RootVerdict, TrustPin, validate_root
from trustkeep.errors import InputError, TrustFailure

__all__ = [
    "RootInfo",
    "certificate_pin_problems",
    "check_notary_root",
    "read_root",
    "verify_tuf_root_chain",
]


@dataclass(frozen=True, kw_only=True)
class RootInfo:
    """A root.json as a pin source.

    For a Notary root, ``cert_ids`` / ``canonical_ids`` / ``certificates`` are those of
    the root certificates usable for ``gun`` (what a pin may name).
    """

    source: str
    format: str  # "notary" | "tuf"
    raw: bytes
    version: int
    gun: str | None = None
    cert_ids: tuple[str, ...] = ()
    canonical_ids: tuple[str, ...] = ()
    certificates: tuple[x509.Certificate, ...] = ()
    keyids: tuple[str, ...] = ()


def _kind(raw: bytes, source: str) -> object:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InputError(f"{source}: not valid JSON: {e}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("signed"), dict):
        raise InputError(f"{source}: not a metadata file (no 'signed' object)")
    return doc["signed"].get("_type")


def read_root(
    raw: bytes,
    *,
    source: str,
    verify: bool = True,
    at: datetime | None = None,
    gun: str | None = None,
) -> RootInfo:
    """Parse a Notary (``_type: Root``) or TUF (``_type: root``) root.json.

    ``verify``: a Notary root must pass the root rule with trust on first use for
    ``gun`` (default: the GUN its certificates name) as of ``at`` (None: validity
    periods not checked); a TUF root must meet its own threshold.
    """
    kind = _kind(raw, source)
    if kind == "Root":
        env, root = _parse_notary(raw, source)
        if gun is not None and verify:
            _check_names(root, source, gun)
        gun = gun or _gun_of(root, source)
        verdict = validate_root(env, root, gun=gun or "", at=at, label=source)
        if verify and not verdict.ok:
            raise TrustFailure("; ".join(p.message for p in verdict.problems))
        return _notary_info(raw, source, root, verdict, gun)
    if kind == "root":
        return _read_tuf_root(raw, source, verify=verify)
    raise InputError(f"{source}: not a root.json (_type is {kind!r})")


def _parse_notary(raw: bytes, source: str) -> tuple[Envelope, NRoot]:
    try:
        env = parse_envelope(raw, name=source)
        return env, parse_root(env.signed, where=source)
    except Malformed as e:
        raise InputError(f"{source}: not a valid Notary root: {e}") from e


def _names(root: NRoot) -> list[str]:
    names: list[str] = []
    for keyid in root.roles["root"].keyids:
        key = root.keys.usable.get(keyid)
        cn = common_name(key.certificate) if key and key.certificate else None
        if cn and cn not in names:
            names.append(cn)
    return names


def _check_names(root: NRoot, source: str, gun: str) -> None:
    """A root none of whose certificates names ``gun`` is another repository's (input error)."""
    names = _names(root)
    if names and not any(cn_matches(n, gun) for n in names):
        shown = ", ".join(repr(n[:60]) for n in names[:4])
        raise InputError(f"{source}: the root certificate is for {shown}, not for {gun!r}")


def _gun_of(root: NRoot, source: str) -> str | None:
    """The repository the root role's certificates name (one CN; wildcards aside)."""
    names = [n for n in _names(root) if not n.endswith("*")]
    if len(names) > 1:
        raise InputError(
            f"{source}: the root certificates name several repositories "
            f"({', '.join(n[:60] for n in names[:4])})",
            hint="give --gun GUN: the root is checked for that repository",
        )
    return names[0] if names else None


def _notary_info(
    raw: bytes, source: str, root: NRoot, verdict: RootVerdict, gun: str | None
) -> RootInfo:
    usable = [c for c in verdict.certs if c.usable and c.key is not None and c.leaf is not None]
    return RootInfo(
        source=source,
        format="notary",
        raw=raw,
        version=root.header.version,
        gun=gun,
        cert_ids=tuple(c.keyid for c in usable),
        canonical_ids=tuple(
            cid for c in usable if c.key is not None and (cid := c.key.canonical_id) is not None
        ),
        certificates=tuple(c.leaf for c in usable if c.leaf is not None),
    )


def check_notary_root(
    raw: bytes, *, source: str, gun: str, pin: TrustPin, at: datetime
) -> RootVerdict:
    """Would Notary, pinned by ``pin``, accept this root of ``gun`` on first use at ``at``?"""
    env, root = _parse_notary(raw, source)
    return validate_root(env, root, gun=gun, at=at, label=source, pin=pin)


def certificate_pin_problems(
    leaf: x509.Certificate,
    *,
    cert_id: str,
    canonical_id: str | None,
    gun: str,
    pin: TrustPin,
    at: datetime,
) -> list[str]:
    """Problems of one root certificate (no root.json to check signatures of) under ``pin``."""
    from trustkeep.core.pinning import ca_anchors

    problems = [f"{gun}: {p}" for p in certificate_problems(leaf, gun, at)]
    if problems:
        return problems
    anchors: list[x509.Certificate] = []
    if pin.decision.mechanism == "ca":
        anchors, void = ca_anchors(pin.decision.ca_path, pin.ca_bundle, at)
        if void is not None:
            return [f"{gun}: {void}"]
    why = pin_problem(
        pin.decision,
        cert_id=cert_id,
        canonical_id=canonical_id,
        leaf=leaf,
        anchors=anchors,
        at=at,
    )
    return [] if why is None else [f"{gun}: {why}"]


def _read_tuf_root(raw: bytes, source: str, *, verify: bool) -> RootInfo:
    from tuf.api.exceptions import UnsignedMetadataError
    from tuf.api.metadata import Metadata, Root
    from tuf.api.serialization import DeserializationError, SerializationError

    try:
        md = Metadata[Root].from_bytes(raw)
    except (DeserializationError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{source}: not a valid TUF root: {e}") from e
    if verify:
        try:
            md.signed.verify_delegate("root", md.signed_bytes, md.signatures)
        except UnsignedMetadataError as e:
            raise TrustFailure(f"{source}: root does not meet its own threshold: {e}") from e
        except SerializationError as e:  # e.g. a float: not canonical JSON, nothing signed it
            raise InputError(f"{source}: not a valid TUF root: not canonical JSON") from e
    return RootInfo(
        source=source,
        format="tuf",
        raw=raw,
        version=md.signed.version,
        keyids=tuple(md.signed.roles["root"].keyids),
    )


def verify_tuf_root_chain(raws: Sequence[tuple[str, bytes]]) -> RootInfo:
    """Walk ``1.root.json`` .. ``N.root.json``: N+1 signed by N's and its own threshold."""
    from tuf.api.metadata import Metadata, Root

    if not raws:
        raise InputError("no root.json versions to verify")
    first_source, first_raw = raws[0]
    info = _read_tuf_root(first_raw, first_source, verify=True)
    previous = Metadata[Root].from_bytes(first_raw)
    previous_source = first_source
    for source, raw in raws[1:]:
        info = _read_tuf_root(raw, source, verify=True)
        current = Metadata[Root].from_bytes(raw)
        payload = current.signed_bytes
        old = previous.signed.get_verification_result("root", payload, current.signatures)
        own = current.signed.get_verification_result("root", payload, current.signatures)
        problems = check_root_rotation(
            old_version=previous.signed.version,
            new_version=current.signed.version,
            old_threshold=old.threshold,
            by_old=len(old.signed),
            new_threshold=own.threshold,
            by_new=len(own.signed),
        )
        for problem in problems:
            if problem.kind == "version":
                raise TrustFailure(
                    f"{source}: holds root version {current.signed.version}, which does not "
                    f"follow version {previous.signed.version} in {previous_source}"
                )
            raise TrustFailure(
                f"{source}: not signed by a threshold of the previous root "
                f"({problem.describe(previous.signed.version, current.signed.version)})"
            )
        previous_source = source
        previous = current
    return info
