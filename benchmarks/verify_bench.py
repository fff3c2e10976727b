"""Benchmark: trustkeep verify vs python-tuf's Metadata API vs the floor (one run).

Repository: 100,000 targets in 1,024 succinct hash bins (ed25519), snapshot
recording version, length and sha256 of every targets file. In the same process:

* trustkeep — ``verify_tuf`` over the in-memory files (every check of the report);
* python-tuf — ``Metadata.from_bytes`` + ``verify_delegate`` + ``verify_length_and_hashes``
  for every file, chained from root like a client;
* floor — ``json.loads`` + sha256 + one ed25519 verification per file over canonical
  bytes prepared in advance (one process, pyca/cryptography's verify, as python-tuf);
  beside it the same floor with msgspec's parser (the fastest exact one, which
  trustkeep uses on large repositories), with libsodium's verify (PyNaCl, which
  trustkeep asks first: ``trustkeep/core/verify/_sodium.py``), and both floors split
  over two forked processes (the best two cores give here).

The repository is written twice: pretty-printed (python-tuf's default serializer)
and compact (canonical JSON as signed: Notary, python-tuf ``compact=True``).

Times are the best of ``--repeat`` rounds, contenders measured round-robin; both wall
time and this process's CPU time are shown (CPU time is steadier on a busy machine).

Signatures are always checked over the canonical JSON of the parsed ``signed``
object, as python-tuf does (never over the bytes as written, which a duplicate key
could make differ from what they parse to): the line "canonical encoding" shows
what that re-encoding costs in this run.

Also: peak memory of the trustkeep run (tracemalloc) against the metadata size, the
full CLI path (read files + verify), and a 1,000-version root chain.

Scenarios (``--scenario``):

* ``compare`` (default): the above, 100,000 targets in 1,024 bins;
* ``million``: 1,000,000 targets in 16,384 bins (issue 13: under 3 s wall, peak RSS
  under 2x the metadata size, measured in a fresh process), then whole processes
  round-robin, files read from disk: ``trustkeep verify``, python-tuf's checks, and a
  floor process (reading every file, then only the work the verdict needs per bin,
  over two forked processes);
* ``no-snapshot``: 16,384 bins and no snapshot (no quadratic file-name scans);
* ``terminating``: 1,000 delegated roles x 1,000 targets with terminating edges
  (issue 8 §5: under 10 s);
* ``process``: whole processes, 10,000 targets in 64 bins: ``trustkeep verify`` (the
  CLI, start-up included) against a ``python`` process running the python-tuf checks
  above (issue 13: at most half python-tuf's time).

Built repositories are cached under ``$TMPDIR/trustkeep-verify-bench/``. The machine
may be shared: the 1-minute load average is printed with the figures.

Run: ``.venv/bin/python benchmarks/verify_bench.py [--scenario S] [--targets N]
[--bins-bits B] [--format pretty|compact|both]``
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import inspect
import json
import os
import subprocess
import sys
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
from trustkeep.adapters.process_pool import choose_workers, free_cores, parallel_map, workers
from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._envelope import canonical_bytes

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


def floor_sodium(prepared: list[tuple[bytes, bytes, bytes, object]]) -> None:
    """The floor with libsodium's ed25519 verify (what trustkeep's fast path calls)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from nacl.bindings import crypto_sign_open

    raw_keys: dict[int, bytes] = {}
    for raw, canonical, sig, key in prepared:
        json.loads(raw)
        hashlib.sha256(raw).digest()
        public = raw_keys.get(id(key))
        if public is None:
            public = raw_keys[id(key)] = key.public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[attr-defined]
        crypto_sign_open(sig + canonical, public)


def floor_msgspec(prepared: list[tuple[bytes, bytes, bytes, object]]) -> None:
    """The floor with the fastest exact parser (msgspec, as trustkeep's fast path)."""
    import msgspec

    decode = msgspec.json.Decoder().decode
    for raw, canonical, sig, key in prepared:
        decode(raw)
        hashlib.sha256(raw).digest()
        key.verify(sig, canonical)  # type: ignore[attr-defined]


def floor_forked(
    prepared: list[tuple[bytes, bytes, bytes, object]],
    n: int = 2,
    fn: Callable[[list[tuple[bytes, bytes, bytes, object]]], None] = floor,
) -> None:
    """The floor split over ``n`` forked processes (what ``n`` cores give at best here)."""
    pids = []
    for i in range(n):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                fn(prepared[i::n])
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)


def floor_for_verdict(
    prepared: list[tuple[bytes, bytes, bytes, object]], parsed: list[dict[str, object]]
) -> None:
    """The floor plus what any verifier reaching trustkeep's verdict must also do.

    The floor checks signatures over canonical bytes prepared in advance; a verifier
    has only the file, so it must encode the parsed ``signed`` canonically (the C
    encoder: the cheapest proof of what the signature covers, see
    ``_envelope.canonical_bytes``), and for ``path-not-delegated`` hash every target
    path of a hash bin once.
    """
    floor(prepared)
    sha, encode = hashlib.sha256, str.encode
    for signed in parsed:
        canonical_bytes(signed)
        targets = signed.get("targets")
        if isinstance(targets, dict) and signed.get("_type") == "targets":
            [sha(encode(p)).digest() for p in targets]


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
    report = verify_tuf(bundle, at=NOW, trusted_root=root1)
    assert report.valid, report.findings[:3]
    python_tuf_checks(files)
    prepared = floor_setup(files)
    parsed = [json.loads(raw)["signed"] for raw in files.values()]
    # the benchmark's own inputs (a million parsed targets) are no contender's heap: the
    # collector leaves them alone, as it would in a process that holds only the files
    gc.freeze()
    wall, cpu = interleaved(
        [
            lambda: verify_tuf(bundle, at=NOW, trusted_root=root1),
            lambda: verify_tuf(bundle, at=NOW, trusted_root=root1, mapper=parallel_map),
            lambda: python_tuf_checks(files),
            lambda: floor(prepared),
            lambda: [canonical_bytes(signed) for signed in parsed],
            lambda: floor_for_verdict(prepared, parsed),
            lambda: floor_msgspec(prepared),
            lambda: floor_forked(prepared),
            lambda: floor_sodium(prepared),
            lambda: floor_forked(prepared, fn=floor_sodium),
        ],
        repeat,
    )
    gc.unfreeze()
    tasks = [type("T", (), {"size": len(raw)})() for raw in files.values()]
    print(
        f"{label}: {len(files)} files, {size / 1e6:.1f} MB; load {os.getloadavg()[0]:.1f} on "
        f"{workers()} CPUs; the pool would use {choose_workers(tasks)} worker(s) "
        f"({free_cores()} free)"
    )
    names = [
        "trustkeep, one process ",
        "trustkeep, process pool",
        "python-tuf Metadata API",
        "floor                  ",
        "  canonical encoding   ",
        "floor for the verdict  ",
        "floor, msgspec parse   ",
        "floor, 2 processes     ",
        "floor, libsodium verify",
        "  the same, 2 processes",
    ]
    print("                           wall            CPU (this process)")
    for i, name in enumerate(names):
        if i == 1:  # the workers' CPU time is not this process's
            cpu_text = "     n/a          (auto: work and free cores)"
        elif i in (7, 9):
            cpu_text = "     n/a          (forked: the floor on 2 cores)"
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


def _cached(label: str, build: Callable[[], dict[str, bytes]]) -> Path:
    """The repository ``build`` makes, written once under $TMPDIR and reused."""
    where = Path(tempfile.gettempdir()) / "trustkeep-verify-bench" / label
    if not (where / ".complete").exists():
        t0 = time.perf_counter()
        files = build()
        where.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (where / name).write_bytes(data)
        (where / ".complete").write_text("")
        print(f"[{label} built in {time.perf_counter() - t0:.1f} s]")
    return where


_RSS_SCRIPT = """
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from trustkeep.adapters.metadata_source import read_metadata
from trustkeep.adapters.process_pool import MIN_WORK_BYTES, parallel_map
from trustkeep.core.verify import verify_tuf
def hwm():  # peak RSS of this process (VmHWM: reset by exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
base = hwm()
start = time.perf_counter()
bundle = read_metadata(Path(sys.argv[1]), defer_bytes=MIN_WORK_BYTES)  # as `verify` reads
report = verify_tuf(bundle, at=datetime(2030, 1, 1, tzinfo=UTC),
                    trusted_root=bundle.files["1.root.json"], mapper=parallel_map)
wall = time.perf_counter() - start
assert report.valid, report.findings[:3]
print(base, hwm(), wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
"""


#: the floor as a whole process: read every file, then the least work any verifier
#: reaching trustkeep's verdict does per bin (the fastest parser, the canonical
#: encoding the signature covers, the file's sha256, libsodium's ed25519 verify, one
#: sha256 per target path), split over two forked processes; no checks of shape,
#: versions, expiry or thresholds, no report
_FLOOR_PROCESS_SCRIPT = """
import hashlib, os, sys
import msgspec, orjson
from nacl.bindings import crypto_sign_open
where = sys.argv[1]
files = {}
for entry in sorted(os.scandir(where), key=lambda e: e.name):
    if entry.name.endswith(".json"):
        fd = os.open(entry.path, os.O_RDONLY)
        files[entry.name] = os.read(fd, os.fstat(fd).st_size + 1)
        os.close(fd)
decode = msgspec.json.Decoder().decode
top = decode(files["1.targets.json"])["signed"]["delegations"]["keys"]
keys = {k: bytes.fromhex(v["keyval"]["public"]) for k, v in top.items()}
bins = [raw for name, raw in files.items() if ".bin-" in name]
sha, encode = hashlib.sha256, str.encode
def work(part):
    for raw in part:
        doc = decode(raw)
        sha(raw).digest()
        sig = doc["signatures"][0]
        data = orjson.dumps(doc["signed"], option=orjson.OPT_SORT_KEYS)
        crypto_sign_open(bytes.fromhex(sig["sig"]) + data, keys[sig["keyid"]])
        [sha(encode(p)).digest() for p in doc["signed"]["targets"]]
pid = os.fork()
if pid == 0:
    work(bins[1::2])
    os._exit(0)
work(bins[0::2])
os.waitpid(pid, 0)
"""


def million_processes(where: Path, repeat: int) -> None:
    """Whole processes on the million targets, start-up and reading the files included:
    ``trustkeep verify`` (the CLI), python-tuf's checks, and the floor process."""
    floor_label = "floor, 2 processes"
    commands = _verify_commands(where)
    commands[floor_label] = [sys.executable, "-c", _FLOOR_PROCESS_SCRIPT, str(where)]
    times = _round_robin(commands, repeat)
    print(f"whole processes, files read from disk (load {os.getloadavg()[0]:.1f}), "
          f"best and median of {repeat}:")  # fmt: skip
    floor_best = times[floor_label][0]
    for label, runs in times.items():
        best, median = runs[0], runs[len(runs) // 2]
        print(f"  {label:<23}  best {best:6.3f} s {best / floor_best:5.2f}x   "
              f"median {median:6.3f} s")  # fmt: skip


def _verify_commands(where: Path) -> dict[str, list[str]]:
    """``trustkeep verify`` of ``where`` and a python process running the python-tuf checks."""
    script = _PYTUF_SCRIPT.format(checks=inspect.getsource(python_tuf_checks))
    cli = Path(sys.executable).with_name("trustkeep")
    at = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "trustkeep verify": [str(cli), "verify", str(where), "--root",
                             str(where / "1.root.json"), "--at", at],
        "python-tuf": [sys.executable, "-c", script, str(where)],
    }  # fmt: skip


def _round_robin(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Each command's wall times over ``repeat`` rounds, sorted; round-robin, so that the
    machine's changes of speed hit all alike."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            times[label].append(time.perf_counter() - start)
    return {label: sorted(runs) for label, runs in times.items()}


def million(args: argparse.Namespace) -> None:
    """1,000,000 targets in 16,384 bins: wall time against the floor, and peak RSS."""
    n, bits, fmt = args.targets, args.bins_bits, args.format if args.format != "both" else "pretty"
    where = _cached(f"bins-{n}-{bits}-{fmt}", lambda: build_bins(n, bits, compact=fmt == "compact"))
    bundle = read_metadata(where)
    files = dict(bundle.files)
    compare(files, f"{n} targets in {2**bits} bins, {fmt}", args.repeat)
    size = sum(len(v) for v in files.values())
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(where)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    base, peak, wall, worker = int(out[0]), int(out[1]), float(out[2]), int(out[3])
    print(f"read + verify (fresh process, files from disk, process pool): {wall:.3f} s wall")
    print(
        f"peak RSS of read + verify (fresh process): {peak / 1e6:.0f} MB, "
        f"{(peak - base) / 1e6:.0f} MB above the interpreter with trustkeep imported "
        f"({(peak - base) / size:.2f}x the {size / 1e6:.0f} MB of metadata); its forked "
        f"worker's peak {worker / 1e6:.0f} MB (the pages it shares with it counted again)"
    )
    million_processes(where, args.repeat)


def no_snapshot(args: argparse.Namespace) -> None:
    """16,384 bins and no snapshot: each bin's file is found from an index, not a scan."""
    bits = 14
    where = _cached(f"bins-16384-{bits}-nosnap", lambda: build_bins(16384, bits, compact=True))
    files = {k: v for k, v in read_metadata(where).files.items() if not k.endswith("snapshot.json")}
    bundle = MetadataBundle(files, source="bench")
    root1 = files["1.root.json"]
    wall, _ = interleaved(
        [lambda: verify_tuf(bundle, at=NOW, trusted_root=root1, mapper=partial_one)], args.repeat
    )
    report = verify_tuf(bundle, at=NOW, trusted_root=root1)
    print(
        f"no snapshot, {2**bits} bins: {wall[0]:.2f} s one process "
        f"(load {os.getloadavg()[0]:.1f}); errors: {sorted(report.codes())}"
    )


def partial_one(fn: Callable[[object], object], tasks: object) -> list[object]:
    return parallel_map(fn, tasks, max_workers=1)  # type: ignore[arg-type]


def build_terminating(n_roles: int, n_targets: int) -> dict[str, bytes]:
    """targets delegates to ``n_roles`` roles (every other one terminating), each listing
    ``n_targets`` targets under its own prefix, plus one ``*`` role at the end."""
    from tuf.api.metadata import DelegatedRole, Delegations

    keys = {
        r: CryptoSigner.generate_ed25519() for r in ("root", "timestamp", "snapshot", "targets")
    }
    key = CryptoSigner.generate_ed25519()
    ser = JSONSerializer(compact=True)
    root = new_root(keys, EXPIRES, consistent=True)
    kid = key.public_key.keyid
    roles = {
        f"role-{i}": DelegatedRole(f"role-{i}", [kid], 1, i % 2 == 0, [f"pkg-{i}/*"])
        for i in range(n_roles)
    }
    roles["catch-all"] = DelegatedRole("catch-all", [kid], 1, False, ["*"])
    top = Targets(expires=EXPIRES, delegations=Delegations({kid: key.public_key}, roles=roles))
    files: dict[str, bytes] = {}
    snapshot = Snapshot(expires=EXPIRES)
    for name in roles:
        t = Targets(expires=EXPIRES)
        for j in range(n_targets if name != "catch-all" else 0):
            path = f"pkg-{name.split('-')[1]}/file-{j}.tgz"
            t.targets[path] = TargetFile(j + 1, {"sha256": "ab" * 32}, path)
        files[f"1.{name}.json"] = data = signed_bytes(t, key, ser)
        snapshot.meta[f"{name}.json"] = hashed_meta(data)
    files["1.targets.json"] = data = signed_bytes(top, keys["targets"], ser)
    snapshot.meta["targets.json"] = hashed_meta(data)
    files["1.root.json"] = files["root.json"] = signed_bytes(root, keys["root"], ser)
    files["1.snapshot.json"] = snap_data = signed_bytes(snapshot, keys["snapshot"], ser)
    ts = Timestamp(expires=EXPIRES, snapshot_meta=hashed_meta(snap_data))
    files["timestamp.json"] = signed_bytes(ts, keys["timestamp"], ser)
    return files


def terminating(args: argparse.Namespace) -> None:
    where = _cached("terminating-1000x1000", lambda: build_terminating(1000, 1000))
    files = dict(read_metadata(where).files)
    bundle = MetadataBundle(files, source="bench")
    root1 = files["1.root.json"]
    report = verify_tuf(bundle, at=NOW, trusted_root=root1)
    assert report.valid, report.findings[:3]
    wall, cpu = interleaved(
        [lambda: verify_tuf(bundle, at=NOW, trusted_root=root1, mapper=partial_one)], args.repeat
    )
    print(
        f"1,000 roles x 1,000 targets, terminating edges: {wall[0]:.2f} s wall, {cpu[0]:.2f} s "
        f"CPU, one process (goal < 10 s; load {os.getloadavg()[0]:.1f})"
    )


_PYTUF_SCRIPT = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
NOW = datetime(2030, 1, 1, tzinfo=UTC)
{checks}
where = Path(sys.argv[1])
python_tuf_checks({{p.name: p.read_bytes() for p in where.glob("*.json")}})
"""


def whole_process(args: argparse.Namespace) -> None:
    """``trustkeep verify`` and a python-tuf process on the same files, start-up included."""
    n, bits = args.targets or 10_000, args.bins_bits or 6
    where = _cached(f"bins-{n}-{bits}-compact", lambda: build_bins(n, bits, compact=True))
    commands = _verify_commands(where)
    commands["python -c pass"] = [sys.executable, "-c", "pass"]
    for argv in commands.values():  # warm the page cache and the compiled modules
        subprocess.run(argv, check=True, capture_output=True)
    best = {label: runs[0] for label, runs in _round_robin(commands, args.repeat).items()}
    print(f"whole processes, {n} targets in {2**bits} bins (load {os.getloadavg()[0]:.1f}):")
    pytuf = best["python-tuf"]
    for label, t in best.items():
        print(f"  {label:<16}  {t:6.3f} s wall  {t / pytuf:5.2f}x python-tuf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenario",
        choices=["compare", "million", "no-snapshot", "terminating", "process"],
        default="compare",
    )
    parser.add_argument("--targets", type=int, default=None)
    parser.add_argument("--bins-bits", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--roots", type=int, default=1000)
    parser.add_argument("--format", choices=["pretty", "compact", "both"], default="both")
    args = parser.parse_args()
    if args.scenario == "million":
        args.targets = args.targets or 1_000_000
        args.bins_bits = args.bins_bits or 14
        million(args)
        return
    if args.scenario == "no-snapshot":
        no_snapshot(args)
        return
    if args.scenario == "terminating":
        terminating(args)
        return
    if args.scenario == "process":
        whole_process(args)
        return
    args.targets = args.targets or 100_000
    args.bins_bits = args.bins_bits or 10

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
