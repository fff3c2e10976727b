"""Benchmark: trustkeep's write commands against python-tuf doing the same work (one run).

Every figure is a whole process, from one run on this machine: wall time, and in
parentheses CPU time (user + system; steadier than wall time when the machine is busy,
but blind to the waits for fsync):

* trustkeep — the CLI command itself (``delegation bins``, ``targets add``, ``snapshot``,
  ``timestamp``), start-up, key unlock, atomic writes and all;
* python-tuf — ``_tuf_worker.py``: plain ``tuf.api.metadata`` doing the same change on a
  copy of the same repository, with the same keys (exported PKCS#8, same KDF);
* floor — start an interpreter, unlock one key, then one ed25519 signature and one
  fsynced write per file the command wrote, over the bytes trustkeep wrote (16 writes
  in flight, as trustkeep's writer; python-tuf writes one file after the other).

Each round starts both from fresh copies of one repository built by trustkeep, in
alternating order; the best of ``--repeat`` rounds is shown. Bins are succinct
(TAP 15), ed25519. The load average is printed beside the figures: other work on the
machine slows every column alike. Run:

    .venv/bin/python benchmarks/repo_bench.py [--bins 1024,16384] [--files 10000,100000]
        [--snapshot-targets 100000] [--repeat 3] [--quick-repeat 11]
        [--big]   # --big adds 65,536 bins
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
        self.cpu = 0.0
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
        """Wall time of the process; its CPU time (user + system) goes to ``self.cpu``."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
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
    """Interpreter start + one unlock + one signature and one fsynced write per file changed
    since ``since`` (over the bytes trustkeep wrote; the writes 16 at a time, as trustkeep's)."""
    changed = [p for p in repo.iterdir() if p.stat().st_mtime >= since and p.is_file()]
    datas = [p.read_bytes() for p in changed]
    out = bench.work / f"floor-{time.monotonic_ns()}"
    out.mkdir()

    def write(item: tuple[int, bytes]) -> None:
        fd = os.open(out / f"{item[0]}.json", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, item[1])
        os.fsync(fd)
        os.close(fd)

    start = time.perf_counter()
    pem = (bench.keydir / "bins.pem").read_bytes()
    key = CryptoSigner(load_pem_private_key(pem, PASSPHRASE.encode()))  # type: ignore[arg-type]
    for data in datas:
        key.sign(data)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, enumerate(datas)))
    elapsed = time.perf_counter() - start + base
    shutil.rmtree(out)
    return elapsed


Times = tuple[float, float]  # (wall, cpu)


def row(label: str, tk: Times, pt: Times, fl: float) -> None:
    print(
        f"{label:<38} {tk[0]:>7.2f}s ({tk[1]:>5.2f}) {pt[0]:>7.2f}s ({pt[1]:>5.2f}) "
        f"{fl:>7.2f}s {tk[0] / pt[0]:>6.2f}x {tk[1] / pt[1]:>6.2f}x",
        flush=True,
    )


def measure(
    bench: Bench,
    label: str,
    source: Path,
    tk_argv: Callable[[Path], list[str]],
    pt_argv: Callable[[Path], list[str]],
    repeat: int,
    base: float,
) -> None:
    """Best of ``repeat`` rounds, each on fresh copies of ``source``, the order alternating."""
    tk_times: list[Times] = []
    pt_times: list[Times] = []
    floors = []
    for n in range(repeat):
        tk_repo = bench.twin(source, f"{source.name}-tk-{n}")
        pt_repo = bench.twin(source, f"{source.name}-pt-{n}")
        since = time.time() - 0.05
        if n % 2:
            pt_times.append((bench.tuf(*pt_argv(pt_repo)), bench.cpu))
        tk_times.append((bench.tk(*tk_argv(tk_repo)), bench.cpu))
        if not n % 2:
            pt_times.append((bench.tuf(*pt_argv(pt_repo)), bench.cpu))
        floors.append(floor(bench, tk_repo, since, base))
        shutil.rmtree(tk_repo)
        shutil.rmtree(pt_repo)
    row(label, min(tk_times), min(pt_times), min(floors))


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
    parser.add_argument("--big", action="store_true", help="also 65,536 bins (one round)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of the smaller sizes; the best is shown"
    )
    parser.add_argument(
        "--quick-repeat", type=int, default=11,
        help="rounds of snapshot and timestamp (under a second: one run's noise is larger "
        "than the difference measured); the best is shown",
    )  # fmt: skip
    args = parser.parse_args()
    bin_counts = [int(b) for b in args.bins.split(",") if b] + ([65536] if args.big else [])
    file_counts = [int(f) for f in args.files.split(",") if f]
    with tempfile.TemporaryDirectory(prefix="tk-repo-bench-") as tmp:
        compile_bytecode()
        bench = Bench(Path(tmp))
        base = startup()
        print(f"load average at start {load()}; python -c pass: {base:.3f}s")
        print(f"{'':<38} {'trustkeep':>16} {'python-tuf':>16} {'floor':>8} {'tk/tuf':>14}")
        print(
            f"{'work':<38} {'wall (cpu)':>16} {'wall (cpu)':>16} {'wall':>8} {'wall':>7} {'cpu':>6}"
        )
        keys = str(bench.keydir)
        for count in bin_counts:
            empty = bench.new_repo(f"empty-{count}")
            measure(
                bench, f"delegation bins --count {count:,}", empty,
                lambda r, n=str(count): ["delegation", "bins", str(r), "--count", n, "--key=bins"],
                lambda r, n=str(count): ["bins", str(r), keys, n],
                args.repeat if count <= 4096 else 1, base,
            )  # fmt: skip
        for count in file_counts:
            files = make_files(bench.work, count)
            empty = bench.new_repo(f"add-{count}")
            measure(
                bench, f"targets add, {count:,} files", empty,
                lambda r, f=files: ["targets", "add", str(r), str(f), "--base", str(f)],
                lambda r, f=files: ["add", str(r), keys, str(f)],
                args.repeat if count <= 10_000 else 1, base,
            )  # fmt: skip
        big = bench.new_repo("snap")
        bench.tk("delegation", "bins", str(big), "--count", "1024", "--key", "bins")
        files = make_files(bench.work / "snap-files", args.snapshot_targets)
        bench.tk("targets", "add", str(big), str(files), "--base", str(files))
        label = f"snapshot, {args.snapshot_targets:,} targets / 1,024 bins"
        measure(
            bench, label, big, lambda r: ["snapshot", str(r)],
            lambda r: ["snapshot", str(r), keys], args.quick_repeat, base,
        )  # fmt: skip
        bench.tk("snapshot", str(big))
        measure(
            bench, "timestamp, same repository", big, lambda r: ["timestamp", str(r)],
            lambda r: ["timestamp", str(r), keys], args.quick_repeat, base,
        )  # fmt: skip
        for count in bin_counts[1:]:
            repo = bench.new_repo(f"ts-{count}")
            bench.tk("delegation", "bins", str(repo), "--count", str(count), "--key", "bins")
            bench.tk("snapshot", str(repo))
            measure(
                bench, f"timestamp, {count:,} bins", repo, lambda r: ["timestamp", str(r)],
                lambda r: ["timestamp", str(r), keys], args.quick_repeat, base,
            )  # fmt: skip
        print(f"load average at end {load()}")


if __name__ == "__main__":
    main()
