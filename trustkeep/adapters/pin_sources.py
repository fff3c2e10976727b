"""Read pin sources from disk: a root.json, a metadata directory, a trust directory, a cert.

Each source becomes a :class:`SourceData`: roots whose signatures were checked
(a root.json against its own root keys; a TUF ``N.root.json`` chain from version 1),
root certificates, and canonical IDs of root keys not yet bound to a repository
(``private/`` of a trust directory).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from trustkeep.core.keyids import notary_canonical_id, notary_keyid
from trustkeep.core.pin_roots import RootInfo, read_root, verify_tuf_root_chain
from trustkeep.core.rolenames import VERSIONED_ROOT_RE
from trustkeep.errors import InputError

__all__ = ["CertificateInfo", "SourceData", "cached_root_path", "read_file", "read_source"]

MAX_SOURCE_BYTES = 8 * 1024 * 1024
_VERSIONED_ROOT = VERSIONED_ROOT_RE
_MAX_GUNS = 10_000


@dataclass(frozen=True)
class CertificateInfo:
    gun: str
    cert_id: str
    canonical_id: str
    certificate: x509.Certificate


@dataclass(frozen=True)
class SourceData:
    spec: str
    kind: str  # "root" | "metadata-dir" | "trust-dir" | "certificate"
    roots: tuple[RootInfo, ...] = ()
    certificates: tuple[CertificateInfo, ...] = ()
    root_key_ids: tuple[str, ...] = ()


def read_file(path: Path, *, limit: int = MAX_SOURCE_BYTES) -> bytes:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: not a regular file")
        if st.st_size > limit:
            raise InputError(f"{path}: larger than {limit} bytes; refusing")
        return path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e


def read_source(spec: str) -> SourceData | None:
    """The source at path ``spec``; None when no such path exists (maybe a key ref)."""
    path = Path(spec).expanduser()
    if not path.exists():
        return None
    if path.is_dir():
        if (path / "private").is_dir() or (path / "tuf").is_dir():
            return _trust_dir(spec, path)
        return _metadata_dir(spec, path)
    raw = read_file(path)
    if b"-----BEGIN CERTIFICATE-----" in raw:
        return SourceData(spec=spec, kind="certificate", certificates=(_certificate(raw, spec),))
    return SourceData(spec=spec, kind="root", roots=(read_root(raw, source=spec),))


def _certificate(raw: bytes, source: str) -> CertificateInfo:
    try:
        chain = x509.load_pem_x509_certificates(raw)
    except ValueError as e:
        raise InputError(f"{source}: not a PEM certificate") from e
    leaf = chain[0]
    public_key = leaf.public_key()
    canonical = notary_canonical_id(public_key)  # type: ignore[arg-type]
    if canonical is None:
        raise InputError(f"{source}: certificate key is neither ECDSA nor RSA")
    keytype = "ecdsa-x509" if isinstance(public_key, ec.EllipticCurvePublicKey) else "rsa-x509"
    bundle = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise InputError(f"{source}: certificate has no CN (the GUN)")
    return CertificateInfo(
        gun=str(names[0].value),
        cert_id=notary_keyid(keytype, bundle),
        canonical_id=canonical,
        certificate=leaf,
    )


def _metadata_dir(spec: str, path: Path) -> SourceData:
    versioned: list[tuple[int, Path]] = []
    for child in path.iterdir():
        match = _VERSIONED_ROOT.match(child.name)
        if match:
            versioned.append((int(match.group(1)), child))
    versioned.sort()
    plain = path / "root.json"
    if versioned:
        # from the oldest root present (trusted by its own signatures) to the newest
        raws = [(str(p), read_file(p)) for _v, p in versioned]
        info = verify_tuf_root_chain(raws)
        if plain.is_file():
            latest = read_root(read_file(plain), source=str(plain))
            if latest.raw != info.raw and latest.version != info.version:
                info = verify_tuf_root_chain([*raws, (str(plain), latest.raw)])
        return SourceData(spec=spec, kind="metadata-dir", roots=(info,))
    if plain.is_file():
        root = read_root(read_file(plain), source=str(plain))
        return SourceData(spec=spec, kind="metadata-dir", roots=(root,))
    raise InputError(f"{spec}: no root.json or N.root.json in this directory")


def cached_root_path(trust_dir: Path, gun: str) -> Path:
    """Where the Notary client caches the root.json of ``gun`` under ``trust_dir``."""
    return trust_dir / "tuf" / gun / "metadata" / "root.json"


def _trust_dir(spec: str, path: Path) -> SourceData:
    roots: list[RootInfo] = []
    tuf = path / "tuf"
    if tuf.is_dir():
        for count, root_file in enumerate(sorted(tuf.glob("**/metadata/root.json"))):
            if count >= _MAX_GUNS:
                raise InputError(f"{spec}: more than {_MAX_GUNS} repositories")
            gun = root_file.parent.parent.relative_to(tuf).as_posix()
            info = read_root(read_file(root_file), source=str(root_file))
            if info.format == "notary" and info.gun not in (None, gun):
                raise InputError(
                    f"{root_file}: the root certificate is for {info.gun!r}, "
                    f"not for {gun!r} where it is cached"
                )
            if info.format == "notary":
                roots.append(replace(info, gun=gun))
    key_ids: list[str] = []
    if (path / "private").is_dir():
        from trustkeep.adapters.notary_dir import scan_notary_dir

        key_ids = sorted({k.keyid for k in scan_notary_dir(path) if k.role == "root"})
    return SourceData(spec=spec, kind="trust-dir", roots=tuple(roots), root_key_ids=tuple(key_ids))
