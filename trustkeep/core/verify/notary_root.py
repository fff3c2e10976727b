"""Notary root validation: which root signatures count (NOTARY.md §3, notary's ValidateRoot).

The one rule for ``verify``, ``pin check`` and ``pin export``. Pure: a parsed root,
its envelope, the reference time and the pin in; a :class:`RootVerdict` out.

A root-role signature counts only when its key is a *usable* root certificate
(x509, a single leaf first in its PEM with CA intermediates after it, CN = GUN or a
``*`` prefix of it, inside its validity at the reference time with one day of leeway
on the start, not SHA-1 signed, RSA >= 2048 bits) and, when a pin applies, only when
that certificate passes the pin (certificate ID in ``certs`` / ``cert-ids``, canonical
key ID in ``root-keys``, a chain to the pinned CA). A listed certificate that passes
the pin but did not sign counts for nothing. A rotation (root N+1 after a trusted
root N) also needs a threshold of N's usable certificates (validity not checked:
trusted state), with N's threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from cryptography import x509

from trustkeep.core.notary_meta import NotaryKey, b64decode_strict, verify_notary_signature
from trustkeep.core.pinning import PinDecision, ca_anchors, certificate_problems, pin_problem
from trustkeep.core.rotation import RotationProblem, check_root_rotation
from trustkeep.core.verify._envelope import Envelope
from trustkeep.core.verify._notarymodel import Keys, NRoot
from trustkeep.core.verify._tufmodel import RoleKeys

__all__ = [
    "RootCert",
    "RootProblem",
    "RootVerdict",
    "TrustPin",
    "count_signatures",
    "root_certificates",
    "validate_root",
]

_X509 = ("ecdsa-x509", "rsa-x509")


@dataclass(frozen=True)
class TrustPin:
    """The pin that decides for the GUN, and the pinned CA bundle's bytes when it is ``ca``."""

    decision: PinDecision
    ca_bundle: bytes | None = None


@dataclass(frozen=True)
class RootCert:
    """One key of the root role, judged as a Notary root certificate."""

    keyid: str
    key: NotaryKey | None
    leaf: x509.Certificate | None
    intermediates: tuple[x509.Certificate, ...]
    problems: tuple[str, ...]  # why it is not usable; empty: usable

    @property
    def usable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RootProblem:
    """Why the root is refused: a finding code and the message."""

    code: str  # certificate-invalid, pin-mismatch, threshold-not-met, root-rotation-invalid
    message: str
    expected: int | None = None  # signature counts: the threshold ...
    found: int | None = None  # ... and the signatures that counted


@dataclass(frozen=True)
class RootVerdict:
    """What the rule decided for one root."""

    certs: tuple[RootCert, ...]
    trusted: tuple[str, ...]  # keyids of the certificates whose signatures may count
    counted: tuple[str, ...]  # keyids whose signatures counted
    threshold: int
    problems: tuple[RootProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def warnings(self) -> tuple[str, ...]:
        """Unusable certificates listed next to enough good ones (the root may still pass)."""
        return tuple(f"key {c.keyid[:16]}: {p}" for c in self.certs for p in c.problems)


def _split_chain(key: NotaryKey) -> tuple[x509.Certificate | None, tuple[x509.Certificate, ...]]:
    """Notary's parseAllCerts: exactly one non-CA leaf, first; the CA certificates after it."""

    def is_ca(cert: x509.Certificate) -> bool:
        try:
            return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return False

    leaves = [c for c in key.chain if not is_ca(c)]
    if len(leaves) != 1 or is_ca(key.chain[0]):
        return None, ()
    return leaves[0], tuple(c for c in key.chain if is_ca(c))


def root_certificates(
    keys: Keys, role: RoleKeys, gun: str, at: datetime | None
) -> tuple[RootCert, ...]:
    """Each key of ``role`` as a root certificate of ``gun``; ``at`` None: no validity check."""
    out: list[RootCert] = []
    for keyid in role.keyids:
        key = keys.usable.get(keyid)
        if key is None:
            why = keys.bad.get(keyid, "no such key in the root's keys")
            out.append(RootCert(keyid, None, None, (), (f"root key is unusable: {why}",)))
            continue
        if key.keytype not in _X509:
            problem = f"root key is {key.keytype}, not an x509 certificate"
            out.append(RootCert(keyid, key, None, (), (problem,)))
            continue
        leaf, intermediates = _split_chain(key)
        if leaf is None:
            problem = "the certificate bundle does not start with its one leaf certificate"
            out.append(RootCert(keyid, key, None, (), (problem,)))
            continue
        problems = certificate_problems(leaf, gun, at)
        if not key.keyid_matches:
            problems.append(f"keyid is not the ID of its certificate ({key.computed_id[:16]})")
        out.append(RootCert(keyid, key, leaf, intermediates, tuple(problems)))
    return tuple(out)


Verifier = Callable[[NotaryKey, str | None, bytes], bool]


def envelope_verifier(env: Envelope) -> Verifier:
    """Check one signature of ``env`` over what its signers signed (``Envelope.verify_with``)."""

    def check(key: NotaryKey, method: str | None, sig: bytes) -> bool:
        return env.verify_with(partial(verify_notary_signature, key, method, sig))

    return check


def count_signatures(
    env: Envelope, keys: Mapping[str, NotaryKey], allowed: Sequence[str]
) -> tuple[str, ...]:
    """Keyids among ``allowed`` with a valid signature on ``env``; a key whose keyid is not
    its computed ID never counts, and one key listed under two keyids (a certificate and a
    bare key) counts once."""
    verify = envelope_verifier(env)
    allowed_set = set(allowed)
    valid: list[str] = []
    counted: set[bytes] = set()
    for s in env.signatures:
        key = keys.get(s.keyid)
        if s.keyid in valid or s.keyid not in allowed_set or key is None:
            continue
        if not key.keyid_matches or key.material in counted:
            continue
        sig = b64decode_strict(s.sig)
        if sig is not None and verify(key, s.method, sig):
            valid.append(s.keyid)
            counted.add(key.material)
    return tuple(valid)


def _pinned(
    certs: Sequence[RootCert], pin: TrustPin, at: datetime
) -> tuple[list[str], list[str], str | None]:
    """(keyids passing the pin, why the others fail, a problem that voids the pin)."""
    decision = pin.decision
    anchors: list[x509.Certificate] = []
    if decision.mechanism == "ca":
        anchors, problem = ca_anchors(decision.ca_path, pin.ca_bundle, at)
        if problem is not None:
            return [], [], f"{decision.gun}: {problem}"
    passed: list[str] = []
    refused: list[str] = []
    for cert in certs:
        if not cert.usable or cert.leaf is None or cert.key is None:
            continue
        why = pin_problem(
            decision,
            cert_id=cert.keyid,
            canonical_id=cert.key.canonical_id,
            leaf=cert.leaf,
            intermediates=cert.intermediates,
            anchors=anchors,
            at=at,
        )
        if why is None:
            passed.append(cert.keyid)
        else:
            refused.append(why)
    return passed, refused, None


def _threshold_problem(
    env: Envelope,
    root: NRoot,
    certs: Sequence[RootCert],
    counted: Sequence[str],
    label: str,
    pinned: bool,
) -> RootProblem | None:
    threshold = root.roles["root"].threshold
    if len(counted) >= threshold:
        return None
    signers = count_signatures(env, root.keys.usable, root.roles["root"].keyids)
    others = [k for k in signers if k not in counted]
    why = ""
    if others:
        detail = {c.keyid: c.problems for c in certs}
        parts = []
        for keyid in others:
            reasons = detail.get(keyid) or (
                ("its certificate does not pass the pin",) if pinned else ()
            )
            parts.append(f"{keyid[:16]} ({'; '.join(reasons) or 'not usable'})")
        why = "; signatures that do not count: " + ", ".join(parts)
    return RootProblem(
        "threshold-not-met",
        f"{label}: {len(counted)} signature(s) from usable"
        f"{' pinned' if pinned else ''} root certificates, threshold {threshold}{why}",
        expected=threshold,
        found=len(counted),
    )


def _rotation_problems(
    env: Envelope, root: NRoot, previous: NRoot, gun: str, by_new: int
) -> list[RotationProblem]:
    """The rotation rule for root N+1 after root N; N's signatures count from its usable
    certificates (their validity unchecked: N is trusted state)."""
    old_role = previous.roles["root"]
    old = root_certificates(previous.keys, old_role, gun, None)
    by_old = count_signatures(env, previous.keys.usable, [c.keyid for c in old if c.usable])
    return list(
        check_root_rotation(
            old_version=previous.header.version,
            new_version=root.header.version,
            old_threshold=old_role.threshold,
            by_old=len(by_old),
            new_threshold=root.roles["root"].threshold,
            by_new=by_new,
        )
    )


def _apply_pin(
    certs: Sequence[RootCert], pin: TrustPin, at: datetime, label: str, *, first_use: bool
) -> tuple[list[str], list[RootProblem]]:
    """(keyids whose signatures may count under ``pin``, why none may)."""
    decision = pin.decision
    if decision.mechanism == "none":
        if not first_use:  # a trusted root is there: TOFU being disabled does not matter
            return [c.keyid for c in certs if c.usable], []
        message = f"{label}: {decision.gun}: no pin applies and trust on first use is disabled"
        return [], [RootProblem("pin-mismatch", message)]
    passed, refused, void = _pinned(certs, pin, at)
    if void is None and passed:
        return passed, []
    reasons = [void] if void is not None else refused
    message = (
        f"{label}: no root certificate passes {decision.describe()} for {decision.gun}: "
        + "; ".join(dict.fromkeys(reasons))
    )
    return [], [RootProblem("pin-mismatch", message)]


def validate_root(
    env: Envelope,
    root: NRoot,
    *,
    gun: str,
    at: datetime | None,
    label: str,
    pin: TrustPin | None = None,
    previous: NRoot | None = None,
    check_validity: bool = True,
) -> RootVerdict:
    """Notary's ValidateRoot for ``root`` (its file ``label``), as of ``at``.

    ``at`` None checks no validity period (nor a pin: pins are checked at a time).

    ``pin`` None is trust on first use (or the trusted state ``previous``). ``previous``
    is the trusted root this one rotates from: a threshold of its usable certificates
    (validity not checked) must sign too. ``check_validity`` False skips the validity
    period of this root's own certificates (a historical root of a chain, whose keys
    only matter for the next step).
    """
    role = root.roles["root"]
    if pin is not None and at is None:
        raise ValueError("a pin is checked as of a reference time")
    certs = root_certificates(root.keys, role, gun, at if check_validity else None)
    problems: list[RootProblem] = []
    usable = [c.keyid for c in certs if c.usable]
    if not usable:
        listed = "; ".join(f"{c.keyid[:16]}: {', '.join(c.problems)}" for c in certs)
        problems.append(
            RootProblem("certificate-invalid", f"{label}: no usable root certificate ({listed})")
        )
    trusted = usable
    if pin is not None and at is not None and usable:
        trusted, problem = _apply_pin(certs, pin, at, label, first_use=previous is None)
        problems.extend(problem)
    counted = count_signatures(env, root.keys.usable, trusted)
    if previous is not None:
        old, new = previous.header.version, root.header.version
        for p in _rotation_problems(env, root, previous, gun, len(counted)):
            if p.kind != "new-threshold":  # its own threshold: reported in detail below
                message = f"{label}: {p.describe(old, new)}"
                problems.append(RootProblem("root-rotation-invalid", message, p.expected, p.found))
    if trusted:
        pinned = pin is not None and pin.decision.mechanism not in ("tofu", "none")
        threshold = _threshold_problem(env, root, certs, counted, label, pinned)
        problems.extend([threshold] if threshold is not None else [])
    return RootVerdict(certs, tuple(trusted), counted, role.threshold, tuple(problems))
