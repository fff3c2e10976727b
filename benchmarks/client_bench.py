"""Benchmark: trustkeep's TUF client vs python-tuf's ``Updater`` over local HTTP (one run).

Repository: ``2**bits`` succinct hash bins holding ``--targets`` targets (ed25519,
consistent snapshot, snapshot recording length and sha256), written to a temporary
directory and served by ``http.server`` on 127.0.0.1. For each client, from an empty
metadata directory (cold) and again from the one it just filled (warm):

* trustkeep — ``ClientSession.refresh()`` then ``find()`` for ``--lookups`` targets;
* python-tuf — ``Updater.refresh()`` then ``get_targetinfo()`` for the same targets.

Both make the same requests (cold: root 2 (404), timestamp, snapshot, targets, one bin per
distinct bin looked up; warm: root 2 and timestamp). Times are the best of ``--repeat``
rounds, contenders alternating; wall and CPU time of this process.

Run: ``.venv/bin/python benchmarks/client_bench.py [--targets N] [--bits B] [--lookups K]``
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _repo_builder import hashed_meta, new_root, signed_bytes, succinct_bins
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Snapshot, TargetFile, Timestamp
from tuf.api.serialization.json import JSONSerializer
from tuf.ngclient import Updater

from trustkeep.service.pull import ClientSession

EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365)


def build(directory: Path, n_targets: int, bits: int) -> list[str]:
    """Write the repository's metadata into ``directory``; return the target paths."""
    keys = {r: CryptoSigner.generate_ed25519() for r in ("root", "timestamp", "snapshot")}
    keys["targets"] = CryptoSigner.generate_ed25519()
    ser = JSONSerializer(compact=True)
    root = new_root(keys, EXPIRES, consistent=True)
    bin_key = CryptoSigner.generate_ed25519()
    top, roles, bins = succinct_bins(bin_key, bits, "bin", EXPIRES)
    paths = [f"files/{i:06d}.tar.gz" for i in range(n_targets)]
    for path in paths:
        info = TargetFile(1000, {"sha256": "0" * 64}, path)
        bins[roles.get_role_for_target(path)].targets[path] = info
    snapshot = Snapshot(expires=EXPIRES)
    for name, signed in bins.items():
        data = signed_bytes(signed, bin_key, ser)
        (directory / f"1.{name}.json").write_bytes(data)
        snapshot.meta[f"{name}.json"] = hashed_meta(data)
    data = signed_bytes(top, keys["targets"], ser)
    (directory / "1.targets.json").write_bytes(data)
    snapshot.meta["targets.json"] = hashed_meta(data)
    snap = signed_bytes(snapshot, keys["snapshot"], ser)
    (directory / "1.snapshot.json").write_bytes(snap)
    timestamp = Timestamp(expires=EXPIRES, snapshot_meta=hashed_meta(snap))
    (directory / "timestamp.json").write_bytes(signed_bytes(timestamp, keys["timestamp"], ser))
    (directory / "1.root.json").write_bytes(signed_bytes(root, keys["root"], ser))
    return paths


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def run_trustkeep(md: Path, url: str, lookups: list[str]) -> None:
    session = ClientSession(metadata_dir=md, metadata_url=url, at=datetime.now(UTC))
    session.refresh()
    for path in lookups:
        session.find(path)


def run_python_tuf(md: Path, url: str, lookups: list[str]) -> None:
    updater = Updater(str(md), url, bootstrap=None)
    updater.refresh()
    for path in lookups:
        assert updater.get_targetinfo(path) is not None


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=20_000)
    parser.add_argument("--bits", type=int, default=6)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = base / "repo"
        repo.mkdir()
        paths = build(repo, args.targets, args.bits)
        lookups = paths[:: max(1, len(paths) // args.lookups)][: args.lookups]
        size = sum(p.stat().st_size for p in repo.glob("*.json"))
        httpd, url = serve(repo)
        contenders = {"trustkeep": run_trustkeep, "python-tuf": run_python_tuf}
        best: dict[tuple[str, str], tuple[float, float]] = {}
        for _ in range(args.repeat):
            for name, fn in contenders.items():
                md = base / name
                shutil.rmtree(md, ignore_errors=True)
                md.mkdir()
                shutil.copy(repo / "1.root.json", md / "root.json")
                for phase in ("cold", "warm"):
                    result = timed(functools.partial(fn, md, url, lookups))
                    key = (name, phase)
                    best[key] = min(best.get(key, result), result)
        httpd.shutdown()
    print(
        f"{args.targets} targets in {2**args.bits} bins ({size / 1e6:.1f} MB of metadata), "
        f"{len(lookups)} lookups"
    )
    for (name, phase), (wall, cpu) in sorted(best.items()):
        print(f"{name:>10} {phase}: wall {wall * 1000:8.1f} ms   cpu {cpu * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
