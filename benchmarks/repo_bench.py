"""Benchmark: trustkeep's write commands against python-tuf doing the same work (one run).

Every figure is a whole process, wall time, from one run on this machine:

* trustkeep — the CLI command itself (``delegation bins``, ``targets add``, ``snapshot``,
  ``timestamp``), start-up, key unlock, atomic writes and all;
* python-tuf — ``_tuf_worker.py``: plain ``tuf.api.metadata`` doing the same change on a
  copy of the same repository, with the same keys (exported PKCS#8, same KDF);
* floor — start an interpreter, unlock one key, then one ed25519 signature and one
  fsynced write per file the command wrote, over the bytes trustkeep wrote.

The repositories start identical (built by trustkeep, then copied). Bins are succinct
(TAP 15), ed25519. The load average is printed beside the figures: other work on the
machine slows every column alike. Run:

    .venv/bin/python benchmarks/repo_bench.py [--bins 1024,16384] [--files 10000,100000]
        [--snapshot-targets 100000] [--big]      # --big adds 65,536 bins
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_tuf_worker.py"
PASSPHRASE = "benchmark-passphrase"
KEYS = ("root", "targets", "online", "bins")


def load() -> str:
    return os.getloadavg().__repr__()


class Bench:
    """A home with the four keys, their PKCS#8 exports, and the commands to time."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.home = work / "home"
        self.keydir = work / "pem"
        self.keydir.mkdir(parents=True)
        self.env = {
            **os.environ,
            "TRUSTKEEP_HOME": str(self.home),
            "TRUSTKEEP_PASSPHRASE": PASSPHRASE,
            "TRUSTKEEP_NEW_PASSPHRASE": PASSPHRASE,
        }
        for name in KEYS:
            self.tk("key", "generate", "--type", "ed25519", "--name", name)
            self.tk(
                "key", "export", name, "--format", "pkcs8", "-o", str(self.keydir / f"{name}.pem")
            )

    def tk(self, *argv: str) -> float:
        return self._run([sys.executable, "-m", "trustkeep", *argv])

    def tuf(self, *argv: str) -> float:
        return self._run([sys.executable, str(WORKER), *argv])

    def _run(self, argv: list[str]) -> float:
        start = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])}...: exit {proc.returncode}\n{proc.stderr}")
        return elapsed

    def new_repo(self, name: str) -> Path:
        repo = self.work / name
        self.tk("repo", "init", str(repo), "--root-key", "root", "--targets-key", "targets",
                "--snapshot-key", "online", "--timestamp-key", "online")  # fmt: skip
        return repo

    def twin(self, repo: Path, name: str) -> Path:
        copy = self.work / name
        shutil.copytree(repo, copy)
        return copy


def compile_bytecode() -> None:
    """Byte-compile trustkeep as an installed package is (editable installs may not be)."""
    import trustkeep

    package = Path(trustkeep.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def startup() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def floor(bench: Bench, repo: Path, since: float, base: float) -> float:
    """Interpreter start + one unlock + sign and fsync-write each file changed since ``since``."""
    changed = [p for p in repo.iterdir() if p.stat().st_mtime >= since and p.is_file()]
    datas = [p.read_bytes() for p in changed]
    out = bench.work / f"floor-{time.monotonic_ns()}"
    out.mkdir()
    start = time.perf_counter()
    pem = (bench.keydir / "bins.pem").read_bytes()
    key = CryptoSigner(load_pem_private_key(pem, PASSPHRASE.encode()))  # type: ignore[arg-type]
    for n, data in enumerate(datas):
        key.sign(data)
        fd = os.open(out / f"{n}.json", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
    elapsed = time.perf_counter() - start + base
    shutil.rmtree(out)
    return elapsed


def row(label: str, tk: float, pt: float, fl: float) -> None:
    print(f"{label:<40} {tk:>9.2f}s {pt:>10.2f}s {fl:>8.2f}s {tk / pt:>8.2f}x", flush=True)


def make_files(root: Path, count: int) -> Path:
    files = root / f"files-{count}"
    for n in range(count):
        d = files / f"v{n % 97}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"artifact-{n}.tar.gz").write_bytes(f"content of artifact {n}\n".encode())
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bins", default="1024,16384")
    parser.add_argument("--files", default="10000,100000")
    parser.add_argument("--snapshot-targets", type=int, default=100_000)
    parser.add_argument("--big", action="store_true", help="also 65,536 bins")
    args = parser.parse_args()
    bin_counts = [int(b) for b in args.bins.split(",") if b] + ([65536] if args.big else [])
    file_counts = [int(f) for f in args.files.split(",") if f]
    with tempfile.TemporaryDirectory(prefix="tk-repo-bench-") as tmp:
        compile_bytecode()
        bench = Bench(Path(tmp))
        base = startup()
        print(f"load average at start {load()}; python -c pass: {base:.3f}s")
        print(f"{'work':<40} {'trustkeep':>10} {'python-tuf':>11} {'floor':>9} {'tk/tuf':>9}")
        for count in bin_counts:
            tk_repo = bench.new_repo(f"bins-{count}")
            pt_repo = bench.twin(tk_repo, f"bins-{count}-tuf")
            since = time.time() - 0.05
            tk = bench.tk(
                "delegation", "bins", str(tk_repo), "--count", str(count), "--key", "bins"
            )
            pt = bench.tuf("bins", str(pt_repo), str(bench.keydir), str(count))
            row(f"delegation bins --count {count:,}", tk, pt, floor(bench, tk_repo, since, base))
        for count in file_counts:
            files = make_files(bench.work, count)
            tk_repo = bench.new_repo(f"add-{count}")
            pt_repo = bench.twin(tk_repo, f"add-{count}-tuf")
            since = time.time() - 0.05
            tk = bench.tk("targets", "add", str(tk_repo), str(files), "--base", str(files))
            pt = bench.tuf("add", str(pt_repo), str(bench.keydir), str(files))
            row(f"targets add, {count:,} files", tk, pt, floor(bench, tk_repo, since, base))
        big = bench.new_repo("snap")
        bench.tk("delegation", "bins", str(big), "--count", "1024", "--key", "bins")
        files = make_files(bench.work / "snap-files", args.snapshot_targets)
        bench.tk("targets", "add", str(big), str(files), "--base", str(files))
        pt_big = bench.twin(big, "snap-tuf")
        since = time.time() - 0.05
        tk = bench.tk("snapshot", str(big))
        pt = bench.tuf("snapshot", str(pt_big), str(bench.keydir))
        label = f"snapshot, {args.snapshot_targets:,} targets / 1,024 bins"
        row(label, tk, pt, floor(bench, big, since, base))
        since = time.time() - 0.05
        tk = bench.tk("timestamp", str(big))
        pt = bench.tuf("timestamp", str(pt_big), str(bench.keydir))
        row("timestamp, same repository", tk, pt, floor(bench, big, since, base))
        for count in bin_counts[1:]:
            repo, twin = bench.work / f"bins-{count}", bench.work / f"bins-{count}-tuf"
            bench.tk("snapshot", str(repo))
            bench.tuf("snapshot", str(twin), str(bench.keydir))
            since = time.time() - 0.05
            tk = bench.tk("timestamp", str(repo))
            pt = bench.tuf("timestamp", str(twin), str(bench.keydir))
            row(f"timestamp, {count:,} bins", tk, pt, floor(bench, repo, since, base))
        print(f"load average at end {load()}")


if __name__ == "__main__":
    main()
