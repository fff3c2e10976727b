"""Test peers for Notary evacuation: certificates, a token service, a tampering proxy.

The token service issues Docker-registry-style JWTs (ES256, ``x5c`` header) signed by a
test CA that notary-server trusts through ``auth.options.rootcertbundle``. The proxy
forwards GETs to a real notary-server and alters one byte of one file, or drops one.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "TestCA",
    "TokenService",
    "proxy",
    "token_service",
]


@dataclass(frozen=True)
class TestCA:
    """A CA and a server certificate for 127.0.0.1 it issued (PEM files in ``directory``)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ca_pem: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def create(cls, directory: Path) -> TestCA:
        directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trustkeep test CA")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        ca_pem = directory / "ca.pem"
        ca_pem.write_bytes(cert.public_bytes(pem))
        server_cert = directory / "server.pem"
        server_cert.write_bytes(leaf.public_bytes(pem))
        server_key = directory / "server.key"
        server_key.write_bytes(
            leaf_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cls(key, cert, ca_pem, server_cert, server_key)


@dataclass
class TokenService:
    """Issues tokens: every action to ``user``:``password``, pull of ``public`` GUNs to all."""

    url: str
    ca: TestCA
    service: str
    issuer: str
    user: str
    password: str
    public: set[str]
    requests: list[dict[str, object]] = field(default_factory=list)

    def auth_config(self) -> dict[str, object]:
        return {
            "auth": {
                "type": "token",
                "options": {
                    "realm": self.url,
                    "service": self.service,
                    "issuer": self.issuer,
                    "rootcertbundle": str(self.ca.ca_pem),
                },
            }
        }

    def answer(self, path: str, authorization: str | None) -> tuple[int, bytes]:
        query = parse_qs(urlsplit(path).query)
        user = None
        if authorization and authorization.startswith("Basic "):
            given = base64.b64decode(authorization[6:]).decode()
            if given != f"{self.user}:{self.password}":
                self.requests.append({"scopes": query.get("scope", []), "user": "refused"})
                return 401, b'{"details": "bad credentials"}'
            user = self.user
        self.requests.append({"scopes": query.get("scope", []), "user": user})
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            allowed = wanted if user else [a for a in wanted if a == "pull" and name in self.public]
            access.append({"type": kind, "name": name, "actions": allowed})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": f"t{len(self.requests)}",
            "access": access,
        }
        der = self.ca.cert.public_bytes(serialization.Encoding.DER)
        token = jwt.encode(
            claims,
            self.ca.key,
            algorithm="ES256",
            headers={"x5c": [base64.b64encode(der).decode()]},
        )
        return 200, json.dumps({"token": token, "expires_in": 300}).encode()


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def token_service(ca: TestCA, *, public: set[str]) -> Iterator[TokenService]:
    holder: list[TokenService] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = holder[0].answer(self.path, self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with _serve(Handler) as base:
        holder.append(
            TokenService(
                f"{base}/token",
                ca,
                "notary-evac-test",
                "trustkeep-test-issuer",
                "alice",
                "s3cret-pass",
                public,
            )
        )
        yield holder[0]


#: (request path, body) -> body to serve, or None for a 404
Tamper = Callable[[str, bytes], bytes | None]


@contextmanager
def proxy(upstream: str, tamper: Tamper) -> Iterator[str]:
    """A proxy in front of ``upstream`` that passes every GET answer through ``tamper``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=30) as r:
                    body: bytes | None = r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                body, status = e.read(), e.code
            if status == 200:
                assert body is not None
                body = tamper(self.path, body)
                if body is None:
                    status, body = 404, b'{"errors": []}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    with _serve(Handler) as base:
        yield base


def flip_byte(body: bytes, *, marker: bytes = b'"sig":"') -> bytes:
    """One byte of a signature changed to another base64 character (JSON stays valid)."""
    at = body.index(marker) + len(marker) + 5
    replacement = b"A" if body[at : at + 1] != b"A" else b"B"
    return body[:at] + replacement + body[at + 1 :]
