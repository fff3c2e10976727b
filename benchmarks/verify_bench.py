"""Benchmark: trustkeep verify vs python-tuf's Metadata API vs the floor (one run).

Repository: 100,000 targets in 1,024 succinct hash bins (ed25519), snapshot
recording version, length and sha256 of every targets file. In the same process:

* trustkeep — ``verify_tuf`` over the in-memory files (every check of the report);
* python-tuf — ``Metadata.from_bytes`` + ``verify_delegate`` + ``verify_length_and_hashes``
  for every file, chained from root like a client;
* floor — ``json.loads`` + sha256 + one ed25519 verification per file over canonical
  bytes prepared in advance.

The repository is written twice: pretty-printed (python-tuf's default serializer)
and compact (canonical JSON as signed: Notary, python-tuf ``compact=True``). On compact
files trustkeep verifies signatures over the ``signed`` bytes as written; pretty-printed
ones must be re-encoded canonically first, which the floor never pays.

Times are the best of ``--repeat`` rounds, contenders measured round-robin; both wall
time and this process's CPU time are shown (CPU time is steadier on a busy machine).

Also: the share of signatures checked over the bytes as written, peak memory of the
trustkeep run (tracemalloc) against the metadata size, the full CLI path (read files +
verify), and a 1,000-version root chain.

Run: ``.venv/bin/python benchmarks/verify_bench.py [--targets N] [--bins-bits B]
[--format pretty|compact|both]``
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _repo_builder import hashed_meta, new_root, signed_bytes, succinct_bins
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from trustkeep.adapters.metadata_source import read_metadata
from trustkeep.adapters.process_pool import parallel_map, workers
from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._envelope import STATS

NOW = datetime(2030, 1, 1, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=365)


def build_bins(n_targets: int, bits: int, *, compact: bool = False) -> dict[str, bytes]:
    """A consistent-snapshot repository with succinct hash bins, as python-tuf writes it."""
    keys = {
        r: CryptoSigner.generate_ed25519() for r in ("root", "timestamp", "snapshot", "targets")
    }
    bins_key = CryptoSigner.generate_ed25519()
    ser = JSONSerializer(compact=compact)
    root = new_root(keys, EXPIRES, consistent=True)
    top, sr, bins = succinct_bins(bins_key, bits, "bin", EXPIRES)
    for i in range(n_targets):
        path = f"packages/{i % 997}/package-{i}.tar.gz"
        bins[sr.get_role_for_target(path)].targets[path] = TargetFile(
            1000 + i, {"sha256": hashlib.sha256(path.encode()).hexdigest()}, path
        )
    files: dict[str, bytes] = {}
    snapshot = Snapshot(expires=EXPIRES)
    for name, signed in [("targets", top), *bins.items()]:
        data = signed_bytes(signed, bins_key if name != "targets" else keys["targets"], ser)
        files[f"1.{name}.json"] = data
        snapshot.meta[f"{name}.json"] = hashed_meta(data)
    files["1.root.json"] = files["root.json"] = signed_bytes(root, keys["root"], ser)
    files["1.snapshot.json"] = snap_data = signed_bytes(snapshot, keys["snapshot"], ser)
    ts = Timestamp(expires=EXPIRES, snapshot_meta=hashed_meta(snap_data))
    files["timestamp.json"] = signed_bytes(ts, keys["timestamp"], ser)
    return files


def python_tuf_checks(files: dict[str, bytes]) -> None:
    """The same checks with python-tuf's Metadata API (what a client library does)."""
    root = Metadata[Root].from_bytes(files["1.root.json"])
    root.signed.verify_delegate("root", root.signed_bytes, root.signatures)
    ts = Metadata[Timestamp].from_bytes(files["timestamp.json"])
    root.signed.verify_delegate("timestamp", ts.signed_bytes, ts.signatures)
    snap_data = files["1.snapshot.json"]
    ts.signed.snapshot_meta.verify_length_and_hashes(snap_data)
    snap = Metadata[Snapshot].from_bytes(snap_data)
    root.signed.verify_delegate("snapshot", snap.signed_bytes, snap.signatures)
    top_data = files["1.targets.json"]
    snap.signed.meta["targets.json"].verify_length_and_hashes(top_data)
    top = Metadata[Targets].from_bytes(top_data)
    root.signed.verify_delegate("targets", top.signed_bytes, top.signatures)
    assert top.signed.delegations is not None and top.signed.delegations.succinct_roles
    for name in top.signed.delegations.succinct_roles.get_roles():
        data = files[f"1.{name}.json"]
        meta = snap.signed.meta[f"{name}.json"]
        meta.verify_length_and_hashes(data)
        md = Metadata[Targets].from_bytes(data)
        top.signed.verify_delegate(name, md.signed_bytes, md.signatures)
        assert md.signed.version == meta.version and not md.signed.is_expired(NOW)


def floor_setup(files: dict[str, bytes]) -> list[tuple[bytes, bytes, bytes, object]]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    out = []
    for raw in files.values():
        doc = json.loads(raw)
        canonical = str(encode_canonical(doc["signed"])).encode()
        sig = bytes.fromhex(doc["signatures"][0]["sig"])
        out.append((raw, canonical, sig, doc))
    root = json.loads(files["1.root.json"])["signed"]
    key_hexes = {k: v["keyval"]["public"] for k, v in root["keys"].items()}
    top = json.loads(files["1.targets.json"])["signed"]
    key_hexes.update({k: v["keyval"]["public"] for k, v in top["delegations"]["keys"].items()})
    keys = {k: Ed25519PublicKey.from_public_bytes(bytes.fromhex(h)) for k, h in key_hexes.items()}
    return [
        (raw, canonical, sig, keys[doc["signatures"][0]["keyid"]])
        for raw, canonical, sig, doc in out
    ]


def floor(prepared: list[tuple[bytes, bytes, bytes, object]]) -> None:
    for raw, canonical, sig, key in prepared:
        json.loads(raw)
        hashlib.sha256(raw).digest()
        key.verify(sig, canonical)  # type: ignore[attr-defined]


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(fns: list[Callable[[], object]], repeat: int) -> tuple[list[float], list[float]]:
    """Best wall and CPU time of each function, round-robin so load changes hit all alike."""
    wall = [float("inf")] * len(fns)
    cpu = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[i] = min(cpu[i], time.process_time() - start_cpu)
            wall[i] = min(wall[i], time.perf_counter() - start)
    return wall, cpu


def root_chain(n: int) -> dict[str, bytes]:
    """n root versions, each rotating to a new key, signed by the old and the new key."""
    ser = JSONSerializer(compact=True)
    signers = {r: CryptoSigner.generate_ed25519() for r in ("timestamp", "snapshot", "targets")}
    current = CryptoSigner.generate_ed25519()
    root = new_root({**signers, "root": current}, EXPIRES, consistent=True)
    files: dict[str, bytes] = {"1.root.json": signed_bytes(root, current, ser)}
    for version in range(2, n + 1):
        nxt = CryptoSigner.generate_ed25519()
        root = copy.deepcopy(root)
        root.version = version
        root.revoke_key(current.public_key.keyid, "root")
        root.add_key(nxt.public_key, "root")
        md = Metadata(root)
        md.sign(current)
        md.sign(nxt, append=True)
        files[f"{version}.root.json"] = md.to_bytes(ser)
        current = nxt
    return files


def compare(files: dict[str, bytes], label: str, repeat: int) -> None:
    """trustkeep (one process, pool) vs python-tuf vs the floor on one repository."""
    size = sum(len(v) for v in files.values())
    bundle = MetadataBundle(files, source="bench")
    root1 = files["1.root.json"]
    STATS.reset()
    report = verify_tuf(bundle, at=NOW, trusted_root=root1)
    assert report.valid, report.findings[:3]
    fast, slow = STATS.as_written, STATS.canonicalised
    python_tuf_checks(files)
    prepared = floor_setup(files)
    wall, cpu = interleaved(
        [
            lambda: verify_tuf(bundle, at=NOW, trusted_root=root1),
            lambda: verify_tuf(bundle, at=NOW, trusted_root=root1, mapper=parallel_map),
            lambda: python_tuf_checks(files),
            lambda: floor(prepared),
        ],
        repeat,
    )
    print(
        f"{label}: {len(files)} files, {size / 1e6:.1f} MB; signatures over the bytes as "
        f"written: {fast}, files re-encoded canonically: {slow}"
    )
    names = [
        "trustkeep, one process ",
        "trustkeep, process pool",
        "python-tuf Metadata API",
        "floor                  ",
    ]
    print("                           wall            CPU (this process)")
    for i, name in enumerate(names):
        if i == 1:  # the workers' CPU time is not this process's
            cpu_text = f"     n/a          ({workers()} workers)"
        else:
            cpu_text = f"{cpu[i]:6.3f} s {cpu[i] / cpu[3]:5.2f}x"
        print(f"  {name}  {wall[i]:6.3f} s {wall[i] / wall[3]:5.2f}x   {cpu_text}")


def read_and_memory(files: dict[str, bytes], repeat: int) -> None:
    size = sum(len(v) for v in files.values())
    root1 = files["1.root.json"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        t_cli = timed(
            lambda: verify_tuf(
                read_metadata(Path(tmp)), at=NOW, trusted_root=root1, mapper=parallel_map
            ),
            repeat,
        )
        print(f"trustkeep read + verify  {t_cli:7.3f} s   (files from disk, process pool)")
        gc.collect()
        tracemalloc.start()
        verify_tuf(read_metadata(Path(tmp)), at=NOW, trusted_root=root1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(
        f"peak memory, read + verify {peak / 1e6:5.1f} MB   {peak / size:4.2f}x metadata size "
        "(Python allocations, input bytes included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--bins-bits", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--roots", type=int, default=1000)
    parser.add_argument("--format", choices=["pretty", "compact", "both"], default="both")
    args = parser.parse_args()

    print(f"repository: {args.targets} targets in {2**args.bins_bits} succinct bins (ed25519)")
    formats = ["pretty", "compact"] if args.format == "both" else [args.format]
    files: dict[str, bytes] = {}
    for fmt in formats:
        t0 = time.perf_counter()
        files = build_bins(args.targets, args.bins_bits, compact=fmt == "compact")
        print(f"[{fmt} built in {time.perf_counter() - t0:.1f} s]")
        compare(files, fmt, args.repeat)
    read_and_memory(files, args.repeat)

    chain = root_chain(args.roots)
    chain_bundle = MetadataBundle(chain, source="chain")
    first = chain["1.root.json"]
    report = verify_tuf(chain_bundle, at=NOW, trusted_root=first)
    assert [f.code for f in report.errors] == ["missing-role"] * 3, report.errors
    (t_chain, t_chain_pool), _ = interleaved(
        [
            lambda: verify_tuf(chain_bundle, at=NOW, trusted_root=first),
            lambda: verify_tuf(chain_bundle, at=NOW, trusted_root=first, mapper=parallel_map),
        ],
        args.repeat,
    )
    print(
        f"root chain of {args.roots} versions: {t_chain:.3f} s one process, "
        f"{t_chain_pool:.3f} s process pool"
    )


if __name__ == "__main__":
    main()
