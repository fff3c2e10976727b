"""Root certificate rules of the Notary client: CN, validity, algorithms, CA chains."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "NOT_BEFORE_LEEWAY",
    "ca_anchors",
    "ca_chain_problem",
    "certificate_problems",
    "cn_matches",
    "common_name",
]


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None


def cn_matches(common_name: str | None, gun: str) -> bool:
    """Notary's MatchCNToGun: a CN ending in ``*`` is a prefix of the GUN, else equal."""
    if common_name is None:
        return False
    if common_name.endswith("*"):
        return gun.startswith(common_name.rstrip("*"))
    return common_name == gun


#: Notary accepts a certificate whose validity starts up to one day after the reference time
NOT_BEFORE_LEEWAY = timedelta(days=1)


def certificate_problems(cert: x509.Certificate, gun: str, at: datetime | None) -> list[str]:
    """Why Notary would not accept ``cert`` as a root certificate of ``gun`` at ``at``.

    Notary's rules (``validRootLeafCerts`` and ``ValidateCertificate``): CN = GUN (or a
    ``*`` prefix of it), not SHA-1 signed, RSA >= 2048 bits, a validity window that is not
    inverted and, unless ``at`` is None (a previously trusted root), that holds ``at``
    (one day of leeway on the start, as Notary gives).
    """
    problems: list[str] = []
    cn = common_name(cert)
    if gun and not cn_matches(cn, gun):
        problems.append(f"root certificate CN {cn!r} does not match GUN {gun!r}")
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if start > end:
        problems.append(f"root certificate for {cn!r} has an inverted validity window")
    elif at is not None and (at + NOT_BEFORE_LEEWAY < start or at > end):
        problems.append(
            f"root certificate for {cn!r} is not valid at {at.isoformat()} "
            f"(valid {start.isoformat()} to {end.isoformat()})"
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


def ca_chain_problem(
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


def ca_anchors(
    ca_path: str | None, ca_bundle: bytes | None, at: datetime
) -> tuple[list[x509.Certificate], str | None]:
    """The CA certificates of a pinned bundle Notary would use, or why there are none.

    As Notary's CA pinning: certificates of the bundle that fail its certificate rules at
    ``at`` (CN aside) are ignored; a bundle with none left pins nothing.
    """
    if ca_bundle is None:
        return [], f"CA bundle {ca_path} could not be read"
    try:
        certs = x509.load_pem_x509_certificates(ca_bundle)
    except ValueError:
        return [], f"CA bundle {ca_path} holds no PEM certificate"
    usable = [c for c in certs if not certificate_problems(c, "", at)]
    if not usable:
        return [], f"CA bundle {ca_path} holds no CA certificate valid at {at.isoformat()}"
    return usable, None
