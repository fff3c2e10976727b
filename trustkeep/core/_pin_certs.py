"""Root certificate rules of the Notary client: CN, validity, algorithms, CA chains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["certificate_problems", "check_ca", "common_name"]


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None


def _cn_matches(common_name: str | None, gun: str) -> bool:
    if common_name is None:
        return False
    if common_name.endswith("*"):
        return gun.startswith(common_name[:-1])
    return common_name == gun


def certificate_problems(cert: x509.Certificate, gun: str, at: datetime) -> list[str]:
    """Why Notary would not accept ``cert`` as a root certificate of ``gun`` at ``at``."""
    problems: list[str] = []
    cn = common_name(cert)
    if gun and not _cn_matches(cn, gun):
        problems.append(f"root certificate CN {cn!r} does not match GUN {gun!r}")
    if at < cert.not_valid_before_utc or at > cert.not_valid_after_utc:
        problems.append(
            f"root certificate for {cn!r} is not valid at {at.isoformat()} "
            f"(valid {cert.not_valid_before_utc.isoformat()} to "
            f"{cert.not_valid_after_utc.isoformat()})"
        )
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and isinstance(algorithm, hashes.SHA1 | hashes.MD5):
        problems.append(f"root certificate for {cn!r} is signed with {algorithm.name}")
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        problems.append(f"root certificate for {cn!r} has a {key.key_size}-bit RSA key")
    elif not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        problems.append(f"root certificate for {cn!r} holds neither an ECDSA nor an RSA key")
    return problems


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _server_auth_allowed(cert: x509.Certificate) -> bool:
    """Go's x509 Verify (what Notary calls) requires serverAuth or any EKU when present."""
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return any(
        u in (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)
        for u in usages
    )


def _ca_chain_problem(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> str | None:
    """None when ``leaf`` chains to one of ``anchors`` (depth <= 5) valid at ``at``."""
    cn = common_name(leaf)
    if not _server_auth_allowed(leaf):
        return (
            f"root certificate for {cn!r} has an extended key usage without serverAuth; "
            "Notary's CA pinning rejects it"
        )
    current = leaf
    for _depth in range(6):
        for anchor in anchors:
            if _issued_by(current, anchor):
                if at < anchor.not_valid_before_utc or at > anchor.not_valid_after_utc:
                    return f"the pinned CA {anchor.subject.rfc4514_string()} is not valid at {at}"
                return None
        parent = next(
            (c for c in intermediates if _is_ca(c) and _issued_by(current, c)),
            None,
        )
        if parent is None:
            break
        if at < parent.not_valid_before_utc or at > parent.not_valid_after_utc:
            return f"intermediate {parent.subject.rfc4514_string()} is not valid at {at}"
        current = parent
    return f"root certificate for {cn!r} does not chain to the pinned CA bundle"


def check_ca(
    gun: str,
    ca_path: str | None,
    leaves: Sequence[x509.Certificate],
    ca_bundle: bytes | None,
    at: datetime,
) -> list[str]:
    """Problems unless one of ``leaves`` chains to a CA of ``ca_bundle`` at ``at``."""
    if ca_bundle is None:
        return [f"{gun}: CA bundle {ca_path} could not be read"]
    try:
        anchors = x509.load_pem_x509_certificates(ca_bundle)
    except ValueError:
        return [f"{gun}: CA bundle {ca_path} holds no PEM certificate"]
    if not leaves:
        return [f"{gun}: no valid root certificate to check against the CA"]
    reasons = [_ca_chain_problem(leaf, [], anchors, at) for leaf in leaves]
    if any(r is None for r in reasons):
        return []
    return [f"{gun}: {r}" for r in reasons if r is not None]
