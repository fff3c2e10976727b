"""A large directory's delegated files are read when they are checked, by the process
that checks them (``read_metadata(defer_bytes=...)``), and the report is the one the
files read at once give: problem for problem, in one process and through the pool.

The read really happens at the check (a file changed on disk after the listing is what
the report describes), a file read twice must be the same bytes both times, and a file
that cannot be read any more is an input error (exit 2), also inside a worker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from test_verify_pool import _adversarial
from tuf.api.metadata import DelegatedRole, Delegations
from tufrepo import NOW, Repo

import trustkeep.service.verify as verify_service
from trustkeep.adapters import process_pool
from trustkeep.adapters.metadata_source import read_metadata
from trustkeep.adapters.process_pool import parallel_map
from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify._tuftargets import sequential
from trustkeep.core.verify.bundle import FileSource
from trustkeep.errors import InputError

POOL = partial(parallel_map, max_workers=2)


def _write(directory: Path, files: dict[str, bytes]) -> Path:
    directory.mkdir()
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


@pytest.mark.parametrize("mapper", [sequential, POOL], ids=["one process", "pool"])
def test_files_read_on_demand_give_the_report_files_read_at_once_give(
    tmp_path: Path, mapper: Any
) -> None:
    directory = _write(tmp_path / "repo", _adversarial())
    at_once = read_metadata(directory)
    on_demand = read_metadata(directory, defer_bytes=0)
    assert not at_once.on_demand and on_demand.on_demand
    assert list(on_demand.files) == list(at_once.files)  # same names, same order
    assert on_demand.total_size() == at_once.total_size()
    if mapper is POOL:
        assert process_pool._usable(2, 128)  # the pool does run here: the test can fail
    anchor = at_once.files["1.root.json"]
    expected = verify_tuf(at_once, at=NOW, trusted_root=anchor, mapper=sequential).to_dict()
    got = verify_tuf(on_demand, at=NOW, trusted_root=anchor, mapper=mapper).to_dict()
    assert got == expected
    assert any(f["code"] == "malformed" and f["role"] == "bin-08" for f in got["findings"])


def test_a_bin_is_read_when_it_is_checked_not_when_listed(tmp_path: Path) -> None:
    """The proof the bytes are not held: a bin rewritten after the listing is what the
    report describes (a version edited: its signature breaks), for the workers too."""
    directory = _write(tmp_path / "repo", _adversarial())
    anchor = (directory / "1.root.json").read_bytes()
    bundle = read_metadata(directory, defer_bytes=0)
    before = verify_tuf(bundle, at=NOW, trusted_root=anchor)
    assert not any(f.role == "bin-0c" for f in before.findings)
    target = directory / "1.bin-0c.json"
    raw = target.read_bytes()
    target.write_bytes(raw.replace(b'"version":1', b'"version":2', 1))  # the same size
    assert target.read_bytes() != raw
    for mapper in (sequential, POOL):
        report = verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=mapper)
        found = {(f.code, f.role) for f in report.errors}
        assert {("version-mismatch", "bin-0c"), ("threshold-not-met", "bin-0c")} <= found


def test_a_small_directory_is_read_at_once(tmp_path: Path) -> None:
    directory = _write(tmp_path / "repo", _adversarial())
    bundle = read_metadata(directory, defer_bytes=10**9)
    assert not bundle.on_demand
    (directory / "1.bin-0c.json").unlink()  # read already: the bundle does not change
    assert bundle.files["1.bin-0c.json"].startswith(b"{")


@pytest.mark.parametrize("mapper", [sequential, POOL], ids=["one process", "pool"])
@pytest.mark.parametrize("change", ["removed", "fifo", "grown"])
def test_a_file_that_cannot_be_read_when_checked_is_an_input_error(
    tmp_path: Path, mapper: Any, change: str
) -> None:
    directory = _write(tmp_path / "repo", _adversarial())
    anchor = (directory / "1.root.json").read_bytes()
    bundle = read_metadata(directory, defer_bytes=0)
    target = directory / "1.bin-20.json"
    if change == "removed":
        target.unlink()
        message = "cannot read: No such file"
    elif change == "fifo":
        target.unlink()
        os.mkfifo(target)
        message = "no longer a regular file"
    else:
        target.write_bytes(b" " * 4096 + target.read_bytes())
        message = "changed since it was listed"
    with pytest.raises(InputError, match=message) as e:
        verify_tuf(bundle, at=NOW, trusted_root=anchor, mapper=mapper)
    assert str(target) in str(e.value)


class _Racing(FileSource):
    """Files on demand whose ``racing`` file has other bytes from its second read on:
    a writer changing the directory while it is verified."""

    def __init__(self, files: dict[str, bytes], racing: str) -> None:
        self.files, self.racing, self.reads = files, racing, 0

    def __getitem__(self, name: str) -> bytes:
        data = self.files[name]
        if name == self.racing:
            self.reads += 1
            if self.reads > 1:
                return data.replace(b'"version": 1', b'"version": 1 ', 1)
        return data

    def __contains__(self, name: object) -> bool:
        return name in self.files

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def size(self, name: str) -> int:
        return len(self.files[name])


def _two_delegators() -> dict[str, bytes]:
    """``releases`` is delegated by ``targets`` and by ``other``: checked twice."""
    repo = Repo.build(delegations=True, n_targets=2)
    repo._delegate("targets", "other", ["other/*"], 1)
    key = repo.keys["releases"][0].public_key
    repo.targets["other"].signed.delegations = Delegations(
        keys={key.keyid: key},
        roles={"releases": DelegatedRole("releases", [key.keyid], 1, False, ["releases/*"])},
    )
    repo.refresh()
    return repo.files()


def test_a_file_read_twice_must_be_the_same_bytes() -> None:
    files = _two_delegators()
    anchor = files["1.root.json"]
    steady = verify_tuf(MetadataBundle(_Racing(files, "none"), source="t"), at=NOW,
                        trusted_root=anchor)  # fmt: skip
    assert steady.valid, steady.errors
    racing = _Racing(files, "1.releases.json")
    report = verify_tuf(MetadataBundle(racing, source="t"), at=NOW, trusted_root=anchor)
    assert racing.reads == 2  # the check, then the second delegator's threshold
    assert [(f.code, f.role) for f in report.errors] == [("malformed", "releases")]
    assert "changed while it was being verified" in report.errors[0].message


def _record_on_demand(monkeypatch: Any, module: Any, name: str) -> list[bool]:
    """Wrap the verifier ``module.name``: the list fills with each bundle's ``on_demand``."""
    seen: list[bool] = []
    original = getattr(module, name)

    def recording(bundle: MetadataBundle, **kwargs: Any) -> Any:
        seen.append(bundle.on_demand)
        return original(bundle, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return seen


def test_the_cli_reads_on_demand_from_the_threshold_and_reports_the_same(
    tmp_path: Path, monkeypatch: Any, run_cli: Any
) -> None:
    directory = _write(tmp_path / "repo", _adversarial())
    argv = ["verify", str(directory), "--root", str(directory / "1.root.json"),
            "--at", "2030-01-01T00:00:00Z", "--json"]  # fmt: skip
    at_once = run_cli(*argv)
    monkeypatch.setattr(verify_service, "MIN_WORK_BYTES", 0)
    seen = _record_on_demand(monkeypatch, verify_service, "verify_tuf")
    on_demand = run_cli(*argv)
    assert seen == [True]
    assert at_once[0] == on_demand[0] == 1
    assert json.loads(on_demand[1]) == json.loads(at_once[1])


def test_a_notary_directory_is_read_at_once_even_when_large(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Notary's checks read a file more than once: its bundle is read whole first."""
    import trustkeep.core.verify.notary as notary_module

    signed = {"_type": "Root", "version": 1, "expires": "2031-01-01T00:00:00Z", "keys": {},
              "roles": {}, "consistent_snapshot": False}  # fmt: skip
    directory = _write(tmp_path / "repo", {
        "root.json": json.dumps({"signed": signed, "signatures": []}).encode(),
    })  # fmt: skip
    (directory / "targets").mkdir()
    (directory / "targets" / "releases.json").write_bytes(b"{}")
    monkeypatch.setattr(verify_service, "MIN_WORK_BYTES", 0)
    assert read_metadata(directory, defer_bytes=0).on_demand  # would be, but for Notary
    seen = _record_on_demand(monkeypatch, notary_module, "verify_notary")
    result = verify_service.VerifyService().verify(
        verify_service.VerifyRequest(directory=directory, at=NOW)
    )
    assert seen == [False]
    assert result.report.format == "notary"
