"""Generated TUF repositories (python-tuf Metadata API + CryptoSigner) and the python-tuf oracle."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.exceptions import DownloadError, DownloadHTTPError, RepositoryError
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer
from tuf.ngclient import FetcherInterface, Updater
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType

from trustkeep.core.rolenames import role_filename
from trustkeep.core.verify import MetadataBundle

NOW = datetime(2030, 1, 1, tzinfo=UTC)
Files = dict[str, bytes]
_SIGNERS: dict[str, list[Signer]] = {}


def signers(name: str, n: int = 1) -> list[Signer]:
    """Deterministic reuse of generated keys per name (key generation is the slow part)."""
    pool = _SIGNERS.setdefault(name, [])
    while len(pool) < n:
        pool.append(CryptoSigner.generate_ed25519())
    return pool[:n]


def _expiry(days: int = 365) -> datetime:
    return (NOW + timedelta(days=days)).replace(microsecond=0)


@dataclass
class Repo:
    """An in-memory TUF repository; ``files()`` renders its metadata directory."""

    roots: list[Metadata[Root]] = field(default_factory=list)
    timestamp: Metadata[Timestamp] | None = None
    snapshot: Metadata[Snapshot] | None = None
    targets: dict[str, Metadata[Targets]] = field(default_factory=dict)
    keys: dict[str, list[Signer]] = field(default_factory=dict)
    delegators: dict[str, str] = field(default_factory=dict)
    consistent: bool = True

    @classmethod
    def build(
        cls,
        *,
        delegations: bool = True,
        succinct_bits: int = 0,
        root_versions: int = 1,
        threshold: int = 1,
        consistent: bool = True,
        n_targets: int = 3,
    ) -> Repo:
        repo = cls(consistent=consistent)
        for role in ("root", "timestamp", "snapshot", "targets"):
            repo.keys[role] = signers(role, max(threshold, 1))
        root = Root(expires=_expiry(), consistent_snapshot=consistent)
        for role in ("root", "timestamp", "snapshot", "targets"):
            for s in repo.keys[role][:threshold]:
                root.add_key(s.public_key, role)
            root.roles[role].threshold = threshold
        repo.roots.append(Metadata(root))
        targets = Targets(expires=_expiry())
        for i in range(n_targets):
            targets.targets[f"file{i}.txt"] = TargetFile(
                i + 1, {"sha256": f"{i:064x}"}, f"file{i}.txt"
            )
        repo.targets["targets"] = Metadata(targets)
        if delegations:
            repo._delegate("targets", "releases", ["releases/*"], n_targets)
        if succinct_bits:
            repo._succinct(succinct_bits, n_targets)
        for _ in range(root_versions - 1):
            repo.rotate_root()
        repo.timestamp = Metadata(Timestamp(expires=_expiry(7)))
        repo.snapshot = Metadata(Snapshot(expires=_expiry(30)))
        repo.refresh()
        return repo

    def _delegate(
        self, delegator: str, name: str, paths: list[str], n: int, terminating: bool = False
    ) -> None:
        signer = signers(name)[0]
        self.keys[name] = [signer]
        parent = self.targets[delegator].signed
        if parent.delegations is None:
            parent.delegations = Delegations(keys={}, roles={})
        assert parent.delegations.roles is not None
        parent.delegations.keys[signer.public_key.keyid] = signer.public_key
        parent.delegations.roles[name] = DelegatedRole(
            name, [signer.public_key.keyid], 1, terminating, paths
        )
        child = Targets(expires=_expiry())
        for i in range(n):
            path = paths[0].replace("*", f"pkg{i}.tgz")
            child.targets[path] = TargetFile(10 + i, {"sha256": f"{i + 7:064x}"}, path)
        self.targets[name] = Metadata(child)
        self.delegators[name] = delegator

    def _succinct(self, bits: int, n: int) -> None:
        signer = signers("bins")[0]
        top = self.targets["targets"].signed
        sr = SuccinctRoles([signer.public_key.keyid], 1, bits, "bin")
        top.delegations = Delegations(
            keys={signer.public_key.keyid: signer.public_key}, succinct_roles=sr
        )
        for name in sr.get_roles():
            self.targets[name] = Metadata(Targets(expires=_expiry()))
            self.keys[name] = [signer]
            self.delegators[name] = "targets"
        for i in range(n):
            path = f"bins/file{i}.bin"
            self.targets[sr.get_role_for_target(path)].signed.targets[path] = TargetFile(
                i + 1, {"sha256": f"{i:064x}"}, path
            )

    def rotate_root(self, new_key: bool = True) -> None:
        old = self.roots[-1]
        root = copy.deepcopy(old.signed)
        root.version += 1
        if new_key:
            signer = CryptoSigner.generate_ed25519()
            for k in list(root.roles["root"].keyids):
                root.revoke_key(k, "root")
            root.add_key(signer.public_key, "root")
            self.keys.setdefault("root-history", []).extend(self.keys["root"])
            self.keys["root"] = [signer]
        self.roots.append(Metadata(root))

    def refresh(self) -> None:
        """Re-sign everything bottom-up and record versions/hashes in snapshot and timestamp."""
        assert self.snapshot is not None and self.timestamp is not None
        for i, md in enumerate(self.roots):
            md.signatures.clear()
            signers_now = self.keys["root"] if i == len(self.roots) - 1 else []
            prev = self.roots[i - 1].signed if i else None
            self._sign_root(md, prev, signers_now)
        for name, md in self.targets.items():
            self.sign(md, name)
            self.snapshot.signed.meta[f"{name}.json"] = MetaFile(md.signed.version)
        self.sign(self.snapshot, "snapshot")
        self.timestamp.signed.snapshot_meta = MetaFile(self.snapshot.signed.version)
        self.sign(self.timestamp, "timestamp")

    def _sign_root(self, md: Metadata[Root], prev: Root | None, latest: list[Signer]) -> None:
        pool = [*self.keys.get("root-history", []), *self.keys["root"]]
        wanted = set(md.signed.roles["root"].keyids) | set(
            prev.roles["root"].keyids if prev else ()
        )
        for s in pool:
            if s.public_key.keyid in wanted and s.public_key.keyid not in md.signatures:
                md.sign(s, append=True)

    def sign(self, md: Metadata[Any], role: str) -> None:
        md.signatures.clear()
        for s in self.keys[role]:
            md.sign(s, append=True)

    def files(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        ser = JSONSerializer(compact=False)
        for md in self.roots:
            out[f"{md.signed.version}.root.json"] = md.to_bytes(ser)
        out["root.json"] = self.roots[-1].to_bytes(ser)
        assert self.snapshot is not None and self.timestamp is not None
        out["timestamp.json"] = self.timestamp.to_bytes(ser)
        snap = self.snapshot.to_bytes(ser)
        if self.consistent:
            out[f"{self.snapshot.signed.version}.snapshot.json"] = snap
            for name, md in self.targets.items():
                out[role_filename(name, md.signed.version)] = md.to_bytes(ser)
        else:
            out["snapshot.json"] = snap
            for name, md in self.targets.items():
                out[role_filename(name)] = md.to_bytes(ser)
        return out

    def bundle(self, files: dict[str, bytes] | None = None) -> MetadataBundle:
        return MetadataBundle(files if files is not None else self.files(), source="repo")

    def write(self, directory: Path, files: dict[str, bytes] | None = None) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in (files if files is not None else self.files()).items():
            (directory / name).write_bytes(data)
        return directory


Mutation = Callable[[Repo], None]


def oracle(
    files: dict[str, bytes], trusted_root: bytes, delegators: dict[str, str], at: datetime = NOW
) -> bool:
    """python-tuf's verdict: every role of the tree loads in TrustedMetadataSet."""
    try:
        tms = TrustedMetadataSet(trusted_root, EnvelopeType.METADATA)
    except (RepositoryError, ValueError):
        return False
    tms.reference_time = at
    try:
        version = tms.root.version
        while f"{version + 1}.root.json" in files:
            tms.update_root(files[f"{version + 1}.root.json"])
            version += 1
        tms.update_timestamp(files["timestamp.json"])
        snap_v = tms.timestamp.snapshot_meta.version
        snap = files.get(f"{snap_v}.snapshot.json", files.get("snapshot.json"))
        if snap is None:
            return False
        tms.update_snapshot(snap)
        order = ["targets", *_preorder(delegators)]
        for name in order:
            meta = tms.snapshot.meta.get(f"{name}.json")
            data = None
            if meta is not None:
                data = files.get(role_filename(name, meta.version), files.get(role_filename(name)))
            if data is None:
                return False
            if name == "targets":
                tms.update_targets(data)
            else:
                tms.update_delegated_targets(data, name, delegators[name])
    except (RepositoryError, KeyError, ValueError):
        return False
    return True


def _preorder(delegators: dict[str, str]) -> list[str]:
    out: list[str] = []

    def walk(parent: str) -> None:
        for child, p in delegators.items():
            if p == parent:
                out.append(child)
                walk(child)

    walk("targets")
    return out


class DictFetcher(FetcherInterface):
    """A python-tuf fetcher over an in-memory metadata directory (offline Updater)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def _fetch(self, url: str) -> Iterator[bytes]:
        name = unquote(url.rsplit("/", 1)[-1])
        name = role_filename(name[:-5]) if name.endswith(".json") and "/" in name else name
        data = self.files.get(url.rsplit("/", 1)[-1], self.files.get(name))
        if data is None:
            raise DownloadHTTPError(f"{name} not found", 404)
        return iter([data])


def updater_finds(files: dict[str, bytes], trusted_root: bytes, path: str, workdir: Path) -> bool:
    """python-tuf's Updater (offline, reference time = now): is ``path`` a known target?"""
    from tuf.ngclient import Updater

    workdir.mkdir(parents=True, exist_ok=True)
    updater = Updater(
        metadata_dir=str(workdir),
        metadata_base_url="http://repo.invalid/metadata/",
        target_dir=str(workdir),
        target_base_url="http://repo.invalid/targets/",
        fetcher=DictFetcher(files),
        bootstrap=trusted_root,
    )
    updater.refresh()
    return updater.get_targetinfo(path) is not None


def mutate_bytes(data: Any, raw: bytes) -> bytes:
    """One hypothesis-drawn byte edit of ``raw``: replace, delete or insert one byte."""
    from hypothesis import strategies as st

    out = bytearray(raw)
    pos = data.draw(st.integers(0, len(out) - 1))
    action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
    byte = data.draw(st.integers(0, 255))
    if action == "replace":
        out[pos] = byte
    elif action == "delete":
        del out[pos]
    else:
        out.insert(pos, byte)
    return bytes(out)


def updater_accepts(
    files: Files, bootstrap: bytes | None, workdir: Path, *, cache: Files | None = None,
    paths: Sequence[str] = (),
) -> bool:  # fmt: skip
    """python-tuf's Updater: refresh, then find every path (loads the delegated roles)."""
    meta = workdir / "metadata"
    meta.mkdir(parents=True)
    for name, data in (cache or {}).items():
        (meta / name).write_bytes(data)
    try:
        updater = Updater(
            metadata_dir=str(meta),
            metadata_base_url="http://repo.invalid/metadata/",
            target_dir=str(workdir),
            target_base_url="http://repo.invalid/targets/",
            fetcher=DictFetcher(files),
            bootstrap=None if cache else bootstrap,
        )
        updater.refresh()
        return all(updater.get_targetinfo(p) is not None for p in paths)
    except (RepositoryError, DownloadError):
        return False


def doc_of(files: Files, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(files[name])
    return doc


def rewrite(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def resign(doc: dict[str, Any], signer: Signer) -> bytes:
    """``doc`` with one signature over the canonical form of its ``signed`` as it stands."""
    data = encode_canonical(doc["signed"]).encode()  # type: ignore[union-attr]
    sig = signer.sign(data)
    return rewrite({"signed": doc["signed"], "signatures": [sig.to_dict()]})
