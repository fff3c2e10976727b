"""Benchmark: start-up as whole processes — ``trustkeep --help`` and ``trustkeep verify``.

Side by side in one run, best of ``--repeat`` (a busy machine only ever adds time), wall
time and CPU time (user + system):

* ``--help``: trustkeep against the floor, ``python -c pass``;
* ``verify`` of a repository of ``--targets`` targets in ``--bins`` succinct bins (built
  by trustkeep): trustkeep's CLI against python-tuf's client checks
  (``TrustedMetadataSet`` over every role, ``_tuf_worker.py verify``) and the floor
  (start an interpreter, read and parse every file, one ed25519 verification each).

Run: ``.venv/bin/python benchmarks/startup_bench.py [--targets 10000] [--bins 64]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from repo_bench import Bench, compile_bytecode, make_files
from securesystemslib.signer import CryptoSigner


def best(argv: Sequence[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])}: exit {proc.returncode}\n{proc.stderr!r}")
    return min(walls), min(cpus)


def floor_verify(repo: Path, base: float, repeat: int) -> float:
    key = CryptoSigner.generate_ed25519()
    signature = key.sign(b"payload")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for path in repo.iterdir():
            json.loads(path.read_bytes())
            key.public_key.verify_signature(signature, b"payload")
        times.append(time.perf_counter() - start)
    return min(times) + base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--bins", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="tk-startup-bench-") as tmp:
        bench = Bench(Path(tmp))
        repo = bench.new_repo("repo")
        bench.tk("delegation", "bins", str(repo), "--count", str(args.bins), "--key", "bins")
        files = make_files(bench.work, args.targets)
        bench.tk("targets", "add", str(repo), str(files), "--base", str(files))
        bench.tk("snapshot", str(repo))
        bench.tk("timestamp", str(repo))
        env, n = bench.env, args.repeat
        print(f"load average {os.getloadavg()}; best of {n}")
        base = best([sys.executable, "-c", "pass"], env, n)
        tk_help = best([sys.executable, "-m", "trustkeep", "--help"], env, n)
        tk_verify = best([sys.executable, "-m", "trustkeep", "verify", str(repo)], env, n)
        worker = str(Path(__file__).parent / "_tuf_worker.py")
        pt_verify = best([sys.executable, worker, "verify", str(repo)], env, n)
        fl_verify = floor_verify(repo, base[0], n)
        print(f"{'work':<40} {'trustkeep':>17} {'python-tuf':>17} {'floor':>8}")
        print(f"{'':<40} {'wall (cpu)':>17} {'wall (cpu)':>17} {'wall':>8}")
        print(f"{'--help':<40} {tk_help[0]:>8.3f}s ({tk_help[1]:.3f}) {'':>17} {base[0]:>7.3f}s")
        label = f"verify, {args.targets:,} targets / {args.bins} bins"
        print(
            f"{label:<40} {tk_verify[0]:>8.3f}s ({tk_verify[1]:.3f}) "
            f"{pt_verify[0]:>8.3f}s ({pt_verify[1]:.3f}) {fl_verify:>7.3f}s"
        )
        print(
            f"trustkeep verify / python-tuf: {tk_verify[0] / pt_verify[0]:.2f}x wall, "
            f"{tk_verify[1] / pt_verify[1]:.2f}x cpu"
        )
        print(f"load average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
