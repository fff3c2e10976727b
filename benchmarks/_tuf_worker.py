"""python-tuf doing the work of one trustkeep command, as a whole process (for the benchmarks).

Plain ``tuf.api.metadata`` as its documentation shows it: ``Metadata.from_file``, ``sign``,
``to_file`` with the pretty-printing serializer (one fsync per file, as python-tuf writes).
Keys are the trustkeep keys exported as encrypted PKCS#8 (same KDF as the key store), so
both sides pay the same unlock. The same work as the trustkeep command: ``bins`` and
``add`` change targets metadata and then publish, as trustkeep does, a new snapshot and a
new timestamp (the online key unlocked once for both). Run by ``repo_bench.py`` and
``startup_bench.py``:

    python _tuf_worker.py bins DIR KEYDIR COUNT
    python _tuf_worker.py add DIR KEYDIR FILES_DIR
    python _tuf_worker.py snapshot DIR KEYDIR
    python _tuf_worker.py timestamp DIR KEYDIR
    python _tuf_worker.py verify DIR
"""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Delegations,
    Metadata,
    MetaFile,
    Root,
    SuccinctRoles,
    TargetFile,
    Targets,
)
from tuf.api.serialization.json import JSONSerializer

PASSPHRASE = os.environ.get("TRUSTKEEP_PASSPHRASE", "").encode()
PRETTY = JSONSerializer(compact=False)
NOW = datetime.now(UTC).replace(microsecond=0)


def signer(keydir: Path, name: str, root: Root | None = None, role: str | None = None) -> Any:
    private = load_pem_private_key((keydir / f"{name}.pem").read_bytes(), PASSPHRASE)
    if root is None or role is None:
        return CryptoSigner(private)  # type: ignore[arg-type]
    keyid = root.roles[role].keyids[0]
    return CryptoSigner(private, root.get_key(keyid))  # type: ignore[arg-type]


def load(directory: Path, name: str) -> Metadata[Any]:
    return Metadata.from_file(str(directory / name))


def bump(md: Metadata[Any], days: int) -> None:
    md.signed.version += 1
    md.signed.expires = NOW + timedelta(days=days)
    md.signatures.clear()


def bins(directory: Path, keydir: Path, count: int) -> None:
    root = load(directory, "root.json").signed
    targets = load(directory, "targets.json")
    bin_signer = signer(keydir, "bins")
    key = bin_signer.public_key
    succinct = SuccinctRoles([key.keyid], 1, count.bit_length() - 1, "bins")
    targets.signed.delegations = Delegations({key.keyid: key}, succinct_roles=succinct)
    for name in succinct.get_roles():
        md = Metadata(Targets(expires=NOW + timedelta(days=90)))
        md.sign(bin_signer)
        md.to_file(str(directory / f"{name}.json"), PRETTY)
    bump(targets, 90)
    targets.sign(signer(keydir, "targets", root, "targets"))
    targets.to_file(str(directory / "targets.json"), PRETTY)
    publish(directory, keydir, root, targets)


def snapshot_meta(directory: Path, targets: Metadata[Any]) -> dict[str, MetaFile]:
    """The snapshot's meta: the version of targets and of each of its succinct bins."""
    meta = {"targets.json": MetaFile(targets.signed.version)}
    delegations = targets.signed.delegations
    names = list(delegations.succinct_roles.get_roles()) if delegations else []
    for name in names:
        meta[f"{name}.json"] = MetaFile(load(directory, f"{name}.json").signed.version)
    return meta


def publish(directory: Path, keydir: Path, root: Root, targets: Metadata[Any]) -> None:
    """What trustkeep writes after a targets change: snapshot of every targets role, then
    timestamp of that snapshot, both signed by the online key (unlocked once)."""
    online = signer(keydir, "online", root, "snapshot")
    snap = load(directory, "snapshot.json")
    snap.signed.meta = snapshot_meta(directory, targets)
    bump(snap, 7)
    snap.sign(online)
    snap.to_file(str(directory / "snapshot.json"), PRETTY)
    data = (directory / "snapshot.json").read_bytes()
    ts = load(directory, "timestamp.json")
    ts.signed.snapshot_meta = MetaFile(
        snap.signed.version, len(data), {"sha256": hashlib.sha256(data).hexdigest()}
    )
    bump(ts, 1)
    ts.sign(online)
    ts.to_file(str(directory / "timestamp.json"), PRETTY)


def _hashes(path: str) -> tuple[int, dict[str, str]]:
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    length = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha256.update(chunk)
            sha512.update(chunk)
            length += len(chunk)
    return length, {"sha256": sha256.hexdigest(), "sha512": sha512.hexdigest()}


def add(directory: Path, keydir: Path, files: Path) -> None:
    root = load(directory, "root.json").signed
    targets = load(directory, "targets.json")
    for dirpath, _dirs, names in os.walk(files):
        for name in names:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, files).replace(os.sep, "/")
            length, hashes = _hashes(full)
            targets.signed.targets[rel] = TargetFile(length, hashes, rel)
    bump(targets, 90)
    targets.sign(signer(keydir, "targets", root, "targets"))
    targets.to_file(str(directory / "targets.json"), PRETTY)
    publish(directory, keydir, root, targets)


def snapshot(directory: Path, keydir: Path) -> None:
    root = load(directory, "root.json").signed
    snap = load(directory, "snapshot.json")
    snap.signed.meta = snapshot_meta(directory, load(directory, "targets.json"))
    bump(snap, 7)
    snap.sign(signer(keydir, "online", root, "snapshot"))
    snap.to_file(str(directory / "snapshot.json"), PRETTY)


def timestamp(directory: Path, keydir: Path) -> None:
    root = load(directory, "root.json").signed
    ts = load(directory, "timestamp.json")
    data = (directory / "snapshot.json").read_bytes()
    version = Metadata.from_bytes(data).signed.version
    ts.signed.snapshot_meta = MetaFile(
        version, len(data), {"sha256": hashlib.sha256(data).hexdigest()}
    )
    bump(ts, 1)
    ts.sign(signer(keydir, "online", root, "timestamp"))
    ts.to_file(str(directory / "timestamp.json"), PRETTY)


def verify(directory: Path) -> None:
    """What a python-tuf client checks, offline: every role through TrustedMetadataSet."""
    from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
    from tuf.ngclient.config import EnvelopeType

    tms = TrustedMetadataSet((directory / "root.json").read_bytes(), EnvelopeType.METADATA)
    tms.update_timestamp((directory / "timestamp.json").read_bytes())
    tms.update_snapshot((directory / "snapshot.json").read_bytes())
    targets = tms.update_targets((directory / "targets.json").read_bytes())
    delegations = targets.delegations
    names = list(delegations.succinct_roles.get_roles()) if delegations else []
    for name in names:
        tms.update_delegated_targets((directory / f"{name}.json").read_bytes(), name, "targets")


def main(argv: list[str]) -> None:
    op, directory = argv[0], Path(argv[1])
    if op == "verify":
        verify(directory)
        return
    keydir = Path(argv[2])
    if op == "bins":
        bins(directory, keydir, int(argv[3]))
    elif op == "add":
        add(directory, keydir, Path(argv[3]))
    elif op == "snapshot":
        snapshot(directory, keydir)
    elif op == "timestamp":
        timestamp(directory, keydir)
    else:
        raise SystemExit(f"unknown operation {op!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
