"""Benchmark: 100,000 targets in 1,024 succinct hash bins (TAP 15), ed25519.

Times, side by side in the same run:

* trustkeep: core operations (``add_bins``, ``add_targets`` through the delegation tree,
  ``update_snapshot`` / ``update_timestamp``, signing) and the atomic directory writer;
  then loading the directory back and computing ``status`` (every signature verified).
* plain python-tuf: the same repository built directly with ``tuf.api.metadata``.

Target file entries (length + sha256) are prepared before the clock starts, for both.
Run: ``.venv/bin/python benchmarks/repo_bench.py [--targets N] [--bins N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from _repo_builder import hashed_meta, new_root, signed_bytes, succinct_bins
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

from trustkeep.adapters import repo_dir
from trustkeep.core.rolenames import role_filename
from trustkeep.core.tuf_repo import delegation, online, rootops, targetsops
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.state import RepoState, apply_signatures
from trustkeep.core.tuf_repo.status import repo_status

T = TypeVar("T")
NOW = datetime.now(UTC).replace(microsecond=0)


def timed(label: str, results: dict[str, float], fn: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    return value


def make_targets(count: int) -> list[TargetFile]:
    out = []
    for n in range(count):
        data = f"content of artifact {n}\n".encode()
        out.append(
            TargetFile(
                len(data),
                {"sha256": hashlib.sha256(data).hexdigest()},
                f"releases/v{n % 97}/artifact-{n}.tar.gz",
            )
        )
    return out


def trustkeep_run(tfs: list[TargetFile], bins: int, out: Path) -> dict[str, float]:
    r: dict[str, float] = {}
    root_key, targets_key, online_key, bin_key = (CryptoSigner.generate_ed25519() for _ in range(4))
    policy = ExpiryPolicy()
    state = rootops.new_repository(
        keys={
            "root": [root_key.public_key],
            "targets": [targets_key.public_key],
            "snapshot": [online_key.public_key],
            "timestamp": [online_key.public_key],
        },
        thresholds={},
        now=NOW,
        policy=policy,
        consistent_snapshot=False,
    )
    signers = {k.public_key.keyid: k for k in (root_key, targets_key, online_key, bin_key)}

    def setup() -> None:
        delegation.add_bins(
            state, delegator="targets", count=bins, keys=[bin_key.public_key], threshold=1,
            name_prefix="bins", style="succinct", now=NOW, policy=policy,
        )  # fmt: skip

    timed("delegate to bins", r, setup)
    state.changed.clear()

    def add() -> None:
        targetsops.add_targets(state, tfs, role=None, now=NOW, policy=policy)

    timed("add targets", r, add)

    def sign_and_write() -> None:
        online.update_snapshot(state, now=NOW, policy=policy)
        for role in state.all_roles():
            if role == "timestamp":
                continue
            delegator = state.delegator_of(role) if role != "root" else "root"
            parent = (
                state.root.signed if delegator == "root" else state.targets_role(delegator).signed
            )
            keyids = parent.get_delegated_role(role).keyids
            apply_signatures(state.role(role), [signers[k] for k in keyids])
            state.mark(role)
        snap = repo_dir.serialize(state.snapshot)
        online.update_timestamp(state, snap, now=NOW, policy=policy)
        apply_signatures(state.timestamp, [online_key])
        out.mkdir(parents=True, exist_ok=True)
        repo_dir.write_changed(out, state)

    timed("sign everything + write", r, sign_and_write)
    loaded: list[RepoState] = []
    timed("load directory", r, lambda: loaded.append(repo_dir.load_repo(out)))
    st = timed("status (verify all)", r, lambda: repo_status(loaded[0], now=NOW))
    assert st.ok, st.problems or [p for x in st.roles for p in x.problems][:3]
    assert len(st.roles) == bins + 4
    r["metadata MB"] = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    return r


def python_tuf_run(tfs: list[TargetFile], bins: int, out: Path) -> dict[str, float]:
    r: dict[str, float] = {}
    keys = [CryptoSigner.generate_ed25519() for _ in range(4)]
    root_key, targets_key, online_key, bin_key = keys
    expires = NOW + timedelta(days=30)
    roots: dict[str, Metadata[Any]] = {}
    bin_md: dict[str, Metadata[Targets]] = {}

    def setup() -> None:
        root = new_root(
            {"root": root_key, "targets": targets_key,
             "snapshot": online_key, "timestamp": online_key},
            expires, consistent=False,
        )  # fmt: skip
        roots["root"] = Metadata(root)
        top, _, empty_bins = succinct_bins(bin_key, bins.bit_length() - 1, "bins", expires)
        roots["targets"] = Metadata(top)
        for name, signed in empty_bins.items():
            bin_md[name] = Metadata(signed)

    timed("delegate to bins", r, setup)
    succinct = roots["targets"].signed.delegations.succinct_roles

    def add() -> None:
        for tf in tfs:
            bin_md[succinct.get_role_for_target(tf.path)].signed.targets[tf.path] = tf

    timed("add targets", r, add)

    def sign_and_write() -> None:
        out.mkdir(parents=True, exist_ok=True)
        serializer = JSONSerializer(compact=False)
        meta = {"targets.json": MetaFile(1)}
        roots["root"].sign(root_key)
        roots["root"].to_file(str(out / "1.root.json"), serializer)
        roots["root"].to_file(str(out / "root.json"), serializer)
        roots["targets"].sign(targets_key)
        roots["targets"].to_file(str(out / "targets.json"), serializer)
        for name, md in bin_md.items():
            md.sign(bin_key)
            md.to_file(str(out / role_filename(name)), serializer)
            meta[f"{name}.json"] = MetaFile(1)
        data = signed_bytes(Snapshot(expires=expires, meta=meta), online_key, serializer)
        (out / "snapshot.json").write_bytes(data)
        ts = Timestamp(expires=expires, snapshot_meta=hashed_meta(data))
        (out / "timestamp.json").write_bytes(signed_bytes(ts, online_key, serializer))

    timed("sign everything + write", r, sign_and_write)

    def load_and_verify() -> None:
        root = Metadata[Root].from_file(str(out / "root.json"))
        targets = Metadata[Targets].from_file(str(out / "targets.json"))
        root.signed.verify_delegate("targets", targets.signed_bytes, targets.signatures)
        for name in succinct.get_roles():
            md = Metadata[Targets].from_file(str(out / role_filename(name)))
            targets.signed.verify_delegate(name, md.signed_bytes, md.signatures)

    timed("load + verify all", r, load_and_verify)
    r["metadata MB"] = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    return r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--bins", type=int, default=1024)
    args = parser.parse_args()
    tfs = make_targets(args.targets)
    with tempfile.TemporaryDirectory() as tmp:
        tk = trustkeep_run(tfs, args.bins, Path(tmp) / "trustkeep")
        pt = python_tuf_run(tfs, args.bins, Path(tmp) / "python-tuf")
    print(f"{args.targets:,} targets in {args.bins:,} succinct bins (ed25519)")
    print(f"{'step':<26} {'trustkeep':>10} {'python-tuf':>11}")
    rows = ["delegate to bins", "add targets", "sign everything + write"]
    for row in rows:
        print(f"{row:<26} {tk[row]:>9.2f}s {pt[row]:>10.2f}s")
    total_tk = sum(tk[r] for r in rows)
    total_pt = sum(pt[r] for r in rows)
    print(f"{'total (build + sign)':<26} {total_tk:>9.2f}s {total_pt:>10.2f}s")
    print(f"{'load + verify all':<26} {tk['load directory'] + tk['status (verify all)']:>9.2f}s "
          f"{pt['load + verify all']:>10.2f}s")  # fmt: skip
    print(f"{'metadata size':<26} {tk['metadata MB']:>8.1f}MB {pt['metadata MB']:>9.1f}MB")


if __name__ == "__main__":
    main()
