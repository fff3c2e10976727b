"""Bins checked in worker processes give the report one process gives, problem for problem.

A repository of 128 succinct bins where many bins are broken in a different way
(outside paths, expiry, a missing file, broken JSON, a float, a negative length, a
foreign signature, a duplicate key, wrong snapshot hashes and length, a version
mismatch) is verified in this process and through the process pool, with the
reference parser and with the fast one: the four reports are identical.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import MetaFile, TargetFile
from tufrepo import NOW, Repo

import trustkeep.core.verify.tuf as tuf_module
from trustkeep.adapters import process_pool
from trustkeep.adapters.process_pool import parallel_map
from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._tuftargets import sequential


def _bin(_repo: Repo, i: int) -> str:
    return f"bin-{i:02x}"


def _adversarial() -> dict[str, bytes]:
    repo = Repo.build(delegations=False, succinct_bits=7, n_targets=400)
    t = repo.targets
    outside = TargetFile(1, {"sha256": "ab" * 32}, "elsewhere/x.tgz")
    t[_bin(repo, 1)].signed.targets[outside.path] = outside
    t[_bin(repo, 2)].signed.expires = NOW - timedelta(days=1)
    t[_bin(repo, 4)].signed.version = 2
    repo.refresh()
    repo.sign(t[_bin(repo, 5)], "root")  # a key the delegation does not name
    assert repo.snapshot is not None and repo.timestamp is not None
    repo.snapshot.signed.meta[f"{_bin(repo, 6)}.json"] = MetaFile(1, 5, {"sha256": "00" * 32})
    repo.snapshot.signed.meta[f"{_bin(repo, 4)}.json"] = MetaFile(1)  # file says v2
    repo.sign(repo.snapshot, "snapshot")
    repo.timestamp.signed.snapshot_meta = MetaFile(repo.snapshot.signed.version)
    repo.sign(repo.timestamp, "timestamp")
    files = repo.files()
    files["1.bin-04.json"] = files.pop("2.bin-04.json")

    def edit(i: int, change: Any) -> None:
        name = f"1.{_bin(repo, i)}.json"
        files[name] = change(files[name])

    del files["1.bin-07.json"]
    edit(8, lambda raw: raw[: len(raw) // 2])  # broken JSON
    edit(9, lambda raw: raw.replace(b'"version": 1', b'"version": 1.0', 1))  # a float
    edit(10, lambda raw: raw.replace(b'"version": 1', b'"version": 1, "version": 3', 1))
    edit(11, lambda raw: raw.replace(b'"length": ', b'"length": -', 1))
    edit(12, lambda raw: json.dumps(json.loads(raw), separators=(",", ":")).encode())
    bad = CryptoSigner.generate_ed25519().sign(b"other").signature
    edit(
        13, lambda raw: raw.replace(json.loads(raw)["signatures"][0]["sig"].encode(), bad.encode())
    )
    edit(3, lambda raw: raw.replace(b'"_type": "targets"', b'"_type": "root"', 1))
    return files


@pytest.mark.parametrize("fast", [False, True])
def test_pool_and_one_process_give_the_same_report(fast: bool, monkeypatch: Any) -> None:
    files = _adversarial()
    if fast:
        monkeypatch.setattr(tuf_module, "FAST_PARSE_BYTES", 0)
    bundle = MetadataBundle(files, source="pool")
    bins = [n for n in files if ".bin-" in n]
    assert len(bins) >= process_pool.MIN_TASKS
    assert process_pool._usable(2, len(bins))  # the pool does run here: the test can fail
    anchor = files["1.root.json"]
    one = verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=sequential)
    pool = partial(parallel_map, max_workers=2)
    many = verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=pool)
    assert one.to_dict() == many.to_dict()
    found = {(f.code, f.role) for f in one.errors}
    assert found >= {
        ("path-not-delegated", "bin-01"),
        ("expired", "bin-02"),
        ("malformed", "bin-03"),
        ("version-mismatch", "bin-04"),
        ("threshold-not-met", "bin-05"),
        ("hash-mismatch", "bin-06"),
        ("length-mismatch", "bin-06"),
        ("missing-role", "bin-07"),
        ("malformed", "bin-08"),
        ("malformed", "bin-09"),
        ("threshold-not-met", "bin-0a"),  # a duplicate key: the last one is signed over
        ("version-mismatch", "bin-0a"),
        ("malformed", "bin-0b"),
        ("threshold-not-met", "bin-0d"),
    }, sorted(found)
    assert not any(f.role == "bin-0c" for f in one.findings)  # compact, same signed: valid
    unverified = {r.role for r in one.roles if not r.verified}
    assert {"bin-01", "bin-05", "bin-0d"} <= unverified
    assert "bin-0c" not in unverified


def test_fast_and_reference_parsers_give_the_same_report(monkeypatch: Any) -> None:
    files = _adversarial()
    bundle = MetadataBundle(files, source="pool")
    anchor = files["1.root.json"]
    reference = verify_tuf(bundle, at=NOW, trusted_root=anchor).to_dict()
    monkeypatch.setattr(tuf_module, "FAST_PARSE_BYTES", 0)
    assert verify_tuf(bundle, at=NOW, trusted_root=anchor).to_dict() == reference


def test_the_collector_is_off_while_a_run_verifies_and_back_after() -> None:
    """verify_tuf pauses the cyclic collector (in this process and in the workers it
    forks, which inherit it) and restores the caller's setting, also on an error."""
    import gc

    files = _adversarial()
    bundle = MetadataBundle(files, source="pool")
    anchor = files["1.root.json"]
    seen: list[bool] = []

    def recording(fn: Any, tasks: Any) -> list[Any]:
        seen.append(gc.isenabled())
        return [fn(t) for t in tasks]

    assert gc.isenabled()
    one = verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=recording)
    assert seen and not any(seen)
    assert gc.isenabled()
    # a caller that turned the collector off gets the same report, and keeps it off
    gc.disable()
    try:
        again = verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=sequential)
        assert not gc.isenabled()  # a caller's own setting is left as it was
    finally:
        gc.enable()
    assert one.to_dict() == again.to_dict()

    def failing(fn: Any, tasks: Any) -> list[Any]:
        raise RuntimeError("a mapper that breaks")

    with pytest.raises(RuntimeError):
        verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=failing)
    assert gc.isenabled()
