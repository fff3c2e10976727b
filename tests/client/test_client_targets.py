"""Target files: verified before writing, cached, substitution, hashes, sizes, URLs."""

from __future__ import annotations

import hashlib

import pytest
from client_support import Clients
from simulator import ENDLESS, Repository


def test_download_in_subdirectory_with_consistent_url(clients: Clients, repo: Repository) -> None:
    info = repo.add_target("targets", b"contents", "path/to/file.txt")
    repo.update_targets()
    out = clients.both("path/to/file.txt")
    assert out.ok
    assert out.targets == {"path%2Fto%2Ffile.txt": b"contents"}
    digest = info.hashes["sha256"]
    assert clients.server.target_requests() == [f"path/to/{digest}.file.txt"]


def test_non_consistent_repository_urls(tmp_path, server) -> None:  # type: ignore[no-untyped-def]
    repo = Repository.create(consistent=False)
    server.repo = repo
    clients = Clients(tmp_path, repo, server)
    repo.add_target("targets", b"plain", "a/b.txt")
    repo.update_targets()
    out = clients.both("a/b.txt")
    assert out.ok
    assert out.requests == [("root", 2), ("timestamp", None), ("snapshot", None), ("targets", None)]
    assert clients.server.target_requests() == ["a/b.txt"]


def test_present_matching_target_is_not_downloaded_again(
    clients: Clients, repo: Repository
) -> None:
    repo.add_target("targets", b"cached", "file")
    repo.update_targets()
    assert clients.both("file").ok
    clients.server.clear()
    assert clients.trustkeep("file").ok
    assert clients.server.target_requests() == []


def test_substituted_content_keeps_the_good_file(clients: Clients, repo: Repository) -> None:
    repo.add_target("targets", b"good one", "one")
    repo.add_target("targets", b"good two", "two")
    repo.update_targets()
    assert clients.both("one").ok
    repo.artifacts["one"] = b"malicious"
    repo.artifacts["two"] = b"malicious"
    assert clients.both("one").ok  # cached: the good file matches, no download
    out = clients.both("two")
    assert not out.ok
    assert out.targets == {"one": b"good one"}  # nothing else written, no temp files


def test_changed_target_replaces_the_file_under_the_same_name(
    clients: Clients, repo: Repository
) -> None:
    repo.add_target("targets", b"v1", "file")
    repo.update_targets()
    assert clients.both("file").ok
    repo.add_target("targets", b"version 2", "file")
    repo.update_targets()
    out = clients.both("file")
    assert out.ok and out.targets == {"file": b"version 2"}
    repo.artifacts["file"] = b"evil 3!!!"  # same length, metadata not updated
    repo.md["targets"].signed.version += 1
    repo.publish("targets")
    repo.update_snapshot()
    out = clients.both("file")
    assert out.targets == {"file": b"version 2"}


@pytest.mark.parametrize("served", [b"short", b"same len", b"much longer content"])
def test_hash_and_length_mismatch(clients: Clients, repo: Repository, served: bytes) -> None:
    repo.add_target("targets", b"same len", "file")
    repo.update_targets()
    repo.artifacts["file"] = served[:7] + b"X" if served == b"same len" else served
    out = clients.both("file")
    assert not out.ok and out.targets == {}


@pytest.mark.parametrize("algorithms", [("sha256",), ("sha512",), ("sha256", "sha512")])
def test_hash_algorithms(clients: Clients, repo: Repository, algorithms: tuple[str, ...]) -> None:
    repo.add_target("targets", b"data", "file", algorithms=algorithms)
    repo.update_targets()
    out = clients.both("file")
    assert out.ok and out.targets == {"file": b"data"}
    first = next(iter(repo.md["targets"].signed.targets["file"].hashes.values()))
    assert clients.server.target_requests() == [f"{first}.file"]


def test_unknown_hash_algorithm_fails_with_nothing_stored(
    clients: Clients, repo: Repository
) -> None:
    info = repo.add_target("targets", b"data", "file")
    info.hashes = {"md7": "00" * 16, "sha256": hashlib.sha256(b"data").hexdigest()}
    repo.update_targets()
    mine = clients.trustkeep("file")
    assert not mine.ok and mine.targets == {}
    assert clients.server.target_requests() == []  # refused before any download
    theirs = clients.oracle("file")
    assert not theirs.ok and theirs.targets == {}


def test_odd_target_paths_get_one_safe_file_each(clients: Clients, repo: Repository) -> None:
    for path in ["../escape", "a/../../b", ".", "..", "x%2Fy"]:
        repo.add_target("targets", path.encode(), path)
    repo.update_targets()
    for path in ["../escape", "a/../../b", "x%2Fy"]:
        out = clients.trustkeep(path)
        assert out.ok, path
    names = sorted(p.name for p in clients.target_dir("trustkeep").iterdir())
    assert names == ["..%2Fescape", "a%2F..%2F..%2Fb", "x%252Fy"]
    assert sorted(p.name for p in clients.dirs["trustkeep"].iterdir()) == [
        "metadata",
        "root.json",
        "targets",
    ]


@pytest.mark.parametrize(
    "name", ["timestamp.json", "1.snapshot.json", "1.targets.json", "2.root.json"]
)
def test_endless_metadata_is_cut_at_the_limit(
    clients: Clients, repo: Repository, name: str
) -> None:
    repo.raw[name] = ENDLESS
    out = clients.both()
    assert not out.ok


def test_endless_target_is_cut_at_its_length(clients: Clients, repo: Repository) -> None:
    repo.add_target("targets", b"ten bytes!", "file")
    repo.update_targets()
    info = repo.md["targets"].signed.targets["file"]
    repo.artifacts["file"] = b"x" * 10_000_000
    out = clients.both("file")
    assert not out.ok and out.targets == {}
    assert info.length == 10


def test_metadata_longer_than_snapshot_records(clients: Clients, repo: Repository) -> None:
    repo.hashes = True
    repo.update_targets()
    assert clients.both().ok
    repo.md["targets"].signed.version += 1
    data = repo.publish("targets")
    repo.update_snapshot()
    repo.published["targets"][repo.md["targets"].signed.version] = data + b" " * 10
    out = clients.both()
    assert not out.ok and out.versions["targets.json"] == 2


def test_targets_content_changed_without_snapshot_hashes(
    clients: Clients, repo: Repository
) -> None:
    repo.hashes = True
    repo.update_snapshot()
    assert clients.both().ok
    recorded = repo.meta_for("targets")
    repo.md["targets"].signed.version += 1
    repo.publish("targets")
    repo.md["snapshot"].signed.meta["targets.json"] = type(recorded)(
        repo.md["targets"].signed.version, recorded.length, recorded.hashes
    )
    repo.md["snapshot"].signed.version += 1
    repo.publish("snapshot")
    repo.publish_timestamp()
    out = clients.both()
    assert not out.ok
    assert out.versions["targets.json"] == 1 and out.versions["snapshot.json"] == 3


def test_succinct_hash_bins(clients: Clients, repo: Repository) -> None:
    from simulator import days, new_signer
    from tuf.api.metadata import Delegations, Metadata, SuccinctRoles, Targets

    signer = new_signer()
    bins = SuccinctRoles([signer.public_key.keyid], 1, 2, "bin")
    repo.md["targets"].signed.delegations = Delegations(
        keys={signer.public_key.keyid: signer.public_key}, succinct_roles=bins
    )
    for name in bins.get_roles():
        repo.md[name] = Metadata(Targets(expires=days(30)))
        repo.signers[name] = [signer]
    target = "files/thing.bin"
    repo.add_target(bins.get_role_for_target(target), b"in a bin", target)
    repo.publish_all()
    out = clients.both(target)
    assert out.ok and out.targets == {"files%2Fthing.bin": b"in a bin"}
    assert out.requests[4:] == [(bins.get_role_for_target(target), 1)]


def test_long_target_path_gets_a_short_stable_name(clients: Clients, repo: Repository) -> None:
    path = "deep/" * 60 + "file.txt"
    repo.add_target("targets", b"long", path)
    repo.update_targets()
    assert clients.trustkeep(path).ok
    (name,) = [p.name for p in clients.target_dir("trustkeep").iterdir()]
    assert name == "deep%2F" * 9 + "d%~" + hashlib.sha256(path.encode()).hexdigest()
    clients.server.clear()
    assert clients.trustkeep(path).ok and clients.server.target_requests() == []


def test_download_stops_at_the_first_failure(clients: Clients, repo: Repository) -> None:
    repo.add_target("targets", b"one", "one")
    repo.add_target("targets", b"two", "two")
    repo.update_targets()
    mine = clients.trustkeep("one", "missing", "two")
    assert not mine.ok and mine.targets == {"one": b"one"}
    assert len(clients.server.target_requests()) == 1  # "two" is never asked for
    theirs = clients.oracle("one", "missing", "two")
    assert not theirs.ok and theirs.targets == mine.targets
