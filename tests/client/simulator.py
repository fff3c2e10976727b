"""A TUF repository simulator served over HTTP on 127.0.0.1, counting requests.

The test builds the repository with python-tuf's Metadata API, mutates it
between client runs and publishes signed bytes; the server (a thread) serves
``/metadata/<name>`` and ``/targets/<path>`` and records every request, 404s
included. ``raw`` serves arbitrary bytes (or endless data) under a name;
``static`` serves a directory written by another tool (``trustkeep repo``).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

ENDLESS = b"<endless>"
TOP = ("root", "timestamp", "snapshot", "targets")


def days(n: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=n)).replace(microsecond=0)


def new_signer() -> Signer:
    """A fresh ed25519 signer (generation is fast; tests need distinct keys)."""
    return CryptoSigner.generate_ed25519()


@dataclass
class Repository:
    """Metadata objects, their signers, published bytes, artifacts."""

    consistent: bool = True
    hashes: bool = False  # snapshot/timestamp record lengths and hashes of the files
    md: dict[str, Metadata[Any]] = field(default_factory=dict)
    signers: dict[str, list[Signer]] = field(default_factory=dict)
    published: dict[str, dict[int, bytes]] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    raw: dict[str, bytes] = field(default_factory=dict)  # served name -> bytes (or ENDLESS)
    status: dict[str, int] = field(default_factory=dict)  # served name -> HTTP error status
    static: Path | None = None  # serve this metadata directory as it is
    static_targets: Path | None = None  # and target files from here (HASH. prefixes dropped)

    @classmethod
    def create(cls, *, consistent: bool = True, hashes: bool = False) -> Repository:
        repo = cls(consistent=consistent, hashes=hashes)
        root = Root(expires=days(365), consistent_snapshot=consistent)
        repo.md["root"] = Metadata(root)
        for role in TOP:
            signer = new_signer()
            repo.signers[role] = [signer]
            root.add_key(signer.public_key, role)
        repo.md["targets"] = Metadata(Targets(expires=days(365)))
        repo.md["snapshot"] = Metadata(Snapshot(expires=days(365)))
        repo.md["timestamp"] = Metadata(Timestamp(expires=days(365)))
        repo.publish_root()
        repo.publish("targets")
        repo.publish_snapshot()
        return repo

    # -- signing and publishing ------------------------------------------------------

    @property
    def root(self) -> Root:
        return self.md["root"].signed  # type: ignore[no-any-return]

    def sign(self, role: str, signers: list[Signer] | None = None) -> bytes:
        md = self.md[role]
        md.signatures.clear()
        for signer in signers if signers is not None else self.signers[role]:
            md.sign(signer, append=True)
        return md.to_bytes(JSONSerializer(compact=True))

    def publish(self, role: str, *, signers: list[Signer] | None = None) -> bytes:
        data = self.sign(role, signers)
        self.published.setdefault(role, {})[self.md[role].signed.version] = data
        return data

    def publish_root(self, *, extra: list[Signer] | None = None) -> bytes:
        """Sign the current root with its own root signers plus ``extra`` (the old keys)."""
        signers = list(self.signers["root"])
        for s in extra or []:
            if all(s.public_key.keyid != t.public_key.keyid for t in signers):
                signers.append(s)
        return self.publish("root", signers=signers)

    def bump_root(self, *, old: list[Signer] | None = None) -> bytes:
        """Root N+1 signed by the new root keys and the keys of root N."""
        previous = list(self.signers["root"]) if old is None else old
        self.root.version += 1
        return self.publish_root(extra=previous)

    def meta_for(self, role: str) -> MetaFile:
        md = self.md[role]
        data = self.published[role][md.signed.version]
        if not self.hashes:
            return MetaFile(md.signed.version)
        return MetaFile(md.signed.version, len(data), {"sha256": hashlib.sha256(data).hexdigest()})

    def publish_snapshot(self, *, bump: bool = False) -> None:
        """Snapshot from the published targets roles, then timestamp from snapshot."""
        snapshot: Snapshot = self.md["snapshot"].signed
        if bump:
            snapshot.version += 1
        for role in self.md:
            if role not in ("root", "timestamp", "snapshot"):
                snapshot.meta[f"{role}.json"] = self.meta_for(role)
        self.publish("snapshot")
        self.publish_timestamp(bump=bump)

    def publish_timestamp(self, *, bump: bool = True) -> None:
        timestamp: Timestamp = self.md["timestamp"].signed
        if bump:
            timestamp.version += 1
        timestamp.snapshot_meta = self.meta_for("snapshot")
        self.publish("timestamp")

    def update_snapshot(self) -> None:
        """New snapshot version (and a new timestamp)."""
        self.publish_snapshot(bump=True)

    def update_targets(self, role: str = "targets") -> None:
        self.md[role].signed.version += 1
        self.publish(role)
        self.update_snapshot()

    # -- keys, delegations, artifacts ------------------------------------------------

    def add_key(self, role: str, delegator: str = "root") -> Signer:
        signer = new_signer()
        self.signers.setdefault(role, []).append(signer)
        if delegator == "root":
            self.root.add_key(signer.public_key, role)
        else:
            self.md[delegator].signed.add_key(signer.public_key, role)
        return signer

    def rotate_keys(self, role: str) -> None:
        """Replace every key of top-level ``role`` by one new key (root is not republished)."""
        for keyid in list(self.root.roles[role].keyids):
            self.root.revoke_key(keyid, role)
        self.signers[role] = []
        self.add_key(role)

    def delegate(
        self,
        delegator: str,
        name: str,
        *,
        paths: list[str] | None = None,
        terminating: bool = False,
        threshold: int = 1,
        signer: Signer | None = None,
    ) -> None:
        """``delegator`` delegates ``name`` (created if new) to one key."""
        parent: Targets = self.md[delegator].signed
        if parent.delegations is None:
            parent.delegations = Delegations(keys={}, roles={})
        assert parent.delegations.roles is not None
        role = DelegatedRole(name, [], threshold, terminating, paths if paths else ["*"])
        parent.delegations.roles[name] = role
        if name not in self.md:
            self.md[name] = Metadata(Targets(expires=days(365)))
        key = signer or (self.signers[name][0] if self.signers.get(name) else new_signer())
        keys = self.signers.setdefault(name, [])
        if key not in keys:
            keys.append(key)
        parent.add_key(key.public_key, name)

    def add_target(
        self, role: str, data: bytes, path: str, *, algorithms: tuple[str, ...] = ("sha256",)
    ) -> TargetFile:
        target = TargetFile.from_data(path, data, list(algorithms))
        self.md[role].signed.targets[path] = target
        self.artifacts[path] = data
        return target

    def publish_all(self) -> None:
        """Every targets role at its current version, then snapshot and timestamp."""
        for role in self.md:
            if role not in ("root", "timestamp", "snapshot"):
                self.publish(role)
        self.update_snapshot()

    # -- serving ---------------------------------------------------------------------

    def metadata(self, name: str) -> bytes | None:
        if name in self.raw:
            return self.raw[name]
        if self.static is not None:
            path = self.static / name
            return path.read_bytes() if path.is_file() and path.parent == self.static else None
        if not name.endswith(".json"):
            return None
        stem = name[: -len(".json")]
        head, _, rest = stem.partition(".")
        if head.isdigit() and rest:
            files = self.published.get(unquote(rest), {})
            return files.get(int(head))
        role = unquote(stem)
        if role == "root" or role not in self.md:
            return None
        if self.consistent and role not in ("timestamp",):
            return None  # a consistent-snapshot repository serves versioned names only
        return self.published.get(role, {}).get(self.md[role].signed.version)

    def target(self, path: str) -> bytes | None:
        if self.static_targets is not None:
            directory, sep, base = path.rpartition("/")
            head, dot, rest = base.partition(".")
            if dot and len(head) in (64, 128) and all(c in "0123456789abcdef" for c in head):
                path = f"{directory}{sep}{rest}"
            file = self.static_targets / path
            return file.read_bytes() if file.is_file() else None
        for name, data in self.artifacts.items():
            if name == path:
                return data
            directory, sep, base = name.rpartition("/")
            info = self._target_info(name)
            if info is not None:
                for value in info.hashes.values():
                    if path == f"{directory}{sep}{value}.{base}":
                        return data
        return None

    def _target_info(self, path: str) -> TargetFile | None:
        for role, md in self.md.items():
            if role not in ("root", "timestamp", "snapshot") and path in md.signed.targets:
                return md.signed.targets[path]  # type: ignore[no-any-return]
        return None


class Server:
    """ThreadingHTTPServer on 127.0.0.1:<free port>; ``requests`` lists what was asked."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.requests: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(self.path)
                    data = server.lookup(self.path)
                    status = server.repo.status.get(self.path.rsplit("/", 1)[-1])
                if status is not None:
                    self.send_error(status)
                    return
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if data is not ENDLESS:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if data is ENDLESS:
                    self._endless()
                else:
                    with contextlib.suppress(OSError):  # the client may stop reading
                        self.wfile.write(data)

            def _endless(self) -> None:
                chunk = b"x" * 65536
                try:
                    for _ in range(2000):  # 128 MiB at most, then give up
                        self.wfile.write(chunk)
                except OSError:
                    return

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/metadata"

    @property
    def targets_url(self) -> str:
        return f"{self.url}/targets"

    def lookup(self, path: str) -> bytes | None:
        if path.startswith("/metadata/"):
            return self.repo.metadata(path[len("/metadata/") :])
        if path.startswith("/targets/"):
            return self.repo.target(path[len("/targets/") :])
        return None

    def metadata_requests(self) -> list[tuple[str, int | None]]:
        """(role, version) for each metadata request, in order (like tuf-conformance)."""
        out: list[tuple[str, int | None]] = []
        for path in self.requests:
            if not path.startswith("/metadata/"):
                continue
            stem = path[len("/metadata/") :].removesuffix(".json")
            head, _, rest = stem.partition(".")
            if head.isdigit() and rest:
                out.append((rest, int(head)))
            else:
                out.append((stem, None))
        return out

    def target_requests(self) -> list[str]:
        return [p[len("/targets/") :] for p in self.requests if p.startswith("/targets/")]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sign_document(signed: dict[str, Any], signers: list[Signer]) -> bytes:
    """Sign a hand-edited ``signed`` dict (for shapes python-tuf refuses to build)."""
    from securesystemslib.formats import encode_canonical

    payload = encode_canonical(signed).encode("utf-8")
    sigs = [s.sign(payload).to_dict() for s in signers]
    import json

    return json.dumps({"signed": signed, "signatures": sigs}).encode()
