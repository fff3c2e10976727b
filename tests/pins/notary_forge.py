"""Forged Notary repositories, and a loopback HTTP server that serves them to the real client.

A repository is the four top-level files Notary's client fetches (root, targets,
snapshot, timestamp), signed as Notary signs (canonical JSON, raw r||s ECDSA,
RSA-PSS SHA-256 salt 32). Root keys are anything a test wants: good certificates,
certificates with a wrong CN / outside their validity / SHA-1 signed / RSA 1024,
bare (non-x509) keys; the root is signed by whichever of them the test says.

:class:`ForgeServer` answers the Notary server API paths the client reads,
``GET /v2/<gun>/_trust/tuf/<role>.json`` and ``/<role>.<sha256 hex>.json``; anything
else is 404. The notary-server itself validates what it is sent, so it cannot be made
to serve a forged root: this server can.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from trustkeep.core.keyids import canonical_json, notary_canonical_id, notary_keyid

__all__ = [
    "ForgeServer",
    "RootKey",
    "bare_key",
    "certificate_key",
    "forge_repository",
    "forge_server",
    "utcnow",
    "write_repository",
]

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
EXPIRES = "2036-11-25T17:41:12.170062728Z"


@dataclass(frozen=True)
class RootKey:
    """One key of a forged root: its Notary key entry, its keyid and its private key."""

    keyid: str
    entry: dict[str, Any]
    private: PrivateKey
    certificate: x509.Certificate | None = None

    @property
    def canonical_id(self) -> str:
        cid = notary_canonical_id(self.private.public_key())
        assert cid is not None
        return cid


def _entry(keytype: str, public: bytes) -> dict[str, Any]:
    return {
        "keytype": keytype,
        "keyval": {"private": None, "public": base64.b64encode(public).decode()},
    }


def certificate_key(
    cn: str,
    *,
    now: datetime,
    start: timedelta = timedelta(days=-1),
    days: int = 3650,
    key: PrivateKey | None = None,
    digest: hashes.HashAlgorithm | None = None,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.CODE_SIGNING,),
) -> RootKey:
    """A root certificate key (self-signed unless ``issuer``), valid from ``now + start``."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    begin = now + start
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    if digest is not None:  # pyca signs no SHA-1 certificate: re-sign the TBS part ourselves
        cert = _resign(cert, signer, digest)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    keytype = "rsa-x509" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa-x509"
    return RootKey(notary_keyid(keytype, pem), _entry(keytype, pem), key, cert)


def _resign(
    cert: x509.Certificate, key: PrivateKey, digest: hashes.HashAlgorithm
) -> x509.Certificate:
    from asn1crypto import x509 as ax

    parsed = ax.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    kind = "rsassa_pkcs1v15" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa"
    algorithm = ax.SignedDigestAlgorithm(
        {"algorithm": f"{digest.name}_{kind}".replace("rsassa_pkcs1v15", "rsa")}
    )
    parsed["tbs_certificate"]["signature"] = algorithm
    tbs = parsed["tbs_certificate"].dump(force=True)
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(tbs, padding.PKCS1v15(), digest)
    else:
        sig = key.sign(tbs, ec.ECDSA(digest))
    parsed["signature_algorithm"] = algorithm
    parsed["signature_value"] = sig
    return x509.load_der_x509_certificate(parsed.dump(force=True))


def bare_key(key: PrivateKey | None = None) -> RootKey:
    """A Notary ``ecdsa`` / ``rsa`` key (DER SubjectPublicKeyInfo, no certificate)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keytype = "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa"
    return RootKey(notary_keyid(keytype, der), _entry(keytype, der), key)


def _signature(key: RootKey, data: bytes) -> dict[str, str]:
    private = key.private
    if isinstance(private, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        sig, method = private.sign(data, pss, hashes.SHA256()), "rsapss"
    else:
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (private.curve.key_size + 7) // 8
        sig, method = r.to_bytes(size, "big") + s.to_bytes(size, "big"), "ecdsa"
    return {"keyid": key.keyid, "method": method, "sig": base64.b64encode(sig).decode()}


def _envelope(signed: dict[str, Any], signers: Sequence[RootKey]) -> bytes:
    data = canonical_json(signed)
    doc = {"signed": signed, "signatures": [_signature(k, data) for k in signers]}
    return json.dumps(doc).encode()


def _meta(raw: bytes) -> dict[str, Any]:
    return {
        "hashes": {"sha256": base64.b64encode(hashlib.sha256(raw).digest()).decode()},
        "length": len(raw),
    }


def forge_repository(
    root_keys: Sequence[RootKey],
    root_signers: Sequence[RootKey],
    *,
    threshold: int = 1,
    version: int = 1,
    online: RootKey | None = None,
    extra_keys: Sequence[RootKey] = (),
) -> dict[str, bytes]:
    """root.json, targets.json, snapshot.json, timestamp.json; ``online`` signs the last three."""
    online = online or bare_key()
    keys = {k.keyid: k.entry for k in (*root_keys, *extra_keys, online)}
    role = {"keyids": [online.keyid], "threshold": 1}
    root = _envelope(
        {
            "_type": "Root",
            "consistent_snapshot": False,
            "expires": EXPIRES,
            "keys": keys,
            "roles": {
                "root": {"keyids": [k.keyid for k in root_keys], "threshold": threshold},
                "snapshot": role,
                "targets": role,
                "timestamp": role,
            },
            "version": version,
        },
        root_signers,
    )
    target = {
        "hashes": {"sha256": base64.b64encode(hashlib.sha256(b"payload").digest()).decode()},
        "length": 7,
    }
    targets = _envelope(
        {
            "_type": "Targets",
            "delegations": {"keys": {}, "roles": []},
            "expires": EXPIRES,
            "targets": {"release": target},
            "version": 1,
        },
        [online],
    )
    snapshot = _envelope(
        {
            "_type": "Snapshot",
            "expires": EXPIRES,
            "meta": {"root": _meta(root), "targets": _meta(targets)},
            "version": 1,
        },
        [online],
    )
    timestamp = _envelope(
        {
            "_type": "Timestamp",
            "expires": EXPIRES,
            "meta": {"snapshot": _meta(snapshot)},
            "version": 1,
        },
        [online],
    )
    return {
        "root.json": root,
        "targets.json": targets,
        "snapshot.json": snapshot,
        "timestamp.json": timestamp,
    }


def write_repository(files: Mapping[str, bytes], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (directory / name).write_bytes(raw)
    return directory


class ForgeServer:
    """Serves registered repositories under ``/v2/<gun>/_trust/tuf/`` on 127.0.0.1."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        self.files: dict[str, bytes] = {}  # URL path -> body
        self.requests: list[str] = []
        host, port = httpd.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def publish(self, gun: str, files: Mapping[str, bytes]) -> None:
        base = f"/v2/{gun}/_trust/tuf/"
        for name, raw in files.items():
            role = name.removesuffix(".json")
            self.files[base + name] = raw
            self.files[f"{base}{role}.{hashlib.sha256(raw).hexdigest()}.json"] = raw


@contextmanager
def forge_server() -> Iterator[ForgeServer]:
    """Start the server on a free loopback port in a thread; shut it down afterwards."""
    holder: list[ForgeServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server = holder[0]
            path = self.path.split("?", 1)[0]
            server.requests.append(path)
            body = b"{}" if path == "/v2/" else server.files.get(path)  # the client's ping
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b'{"errors":[{"code":"METADATA_NOT_FOUND"}]}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(ForgeServer(httpd))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
