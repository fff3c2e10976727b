"""The repository lifecycle through the CLI, checked by python-tuf's own client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_oracle import fetch_target, updater

pytestmark = pytest.mark.interop


def _write_targets(base: Path, files: dict[str, bytes]) -> list[str]:
    out = []
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out.append(str(path))
    return out


def test_init_add_targets_refresh_and_python_tuf_downloads(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    assert sorted(p.name for p in repo.iterdir()) == [
        "1.root.json", "root.json", "snapshot.json", "targets.json", "timestamp.json",
    ]  # fmt: skip
    assert (repo / "1.root.json").read_bytes() == (repo / "root.json").read_bytes()

    code, doc, err = tkj("status", str(repo))
    assert code == 0, err
    assert doc["schema"] == 1 and doc["ok"] is True
    assert [r["role"] for r in doc["roles"]] == ["root", "targets", "snapshot", "timestamp"]
    root = doc["roles"][0]
    assert root["version"] == 1 and root["days_left"] in (364, 365)
    assert root["signatures"][0]["threshold"] == 2
    assert {k["name"] for k in root["signatures"][0]["signed"]} == {"alice", "bob", "carol"}

    base = tmp_path / "files"
    paths = _write_targets(base, {"app/v1.tar.gz": b"release one\n", "README": b"hi\n"})
    code, doc, err = tkj("targets", "add", str(repo), *paths, "--base", str(base))
    assert code == 0, err
    assert doc["placed"] == {"targets": ["app/v1.tar.gz", "README"]}
    # every key is here: targets, then a snapshot and a timestamp recording it, published at once
    assert doc["published"] is True
    assert [(r["role"], r["version"]) for r in doc["roles"]] == [
        ("targets", 2), ("snapshot", 2), ("timestamp", 2),
    ]  # fmt: skip
    assert not (repo / "staged").exists()
    data = fetch_target(repo, tmp_path / "client", "app/v1.tar.gz", base)
    assert data == b"release one\n"
    code, out, _ = tk("status", str(repo))
    assert code == 0 and "records" not in out

    code, doc, err = tkj("refresh", str(repo))
    assert code == 0, err
    assert [(r["role"], r["version"]) for r in doc["roles"]] == [
        ("targets", 3), ("snapshot", 3), ("timestamp", 3),
    ]  # fmt: skip
    data = fetch_target(repo, tmp_path / "client2", "app/v1.tar.gz", base)
    assert data == b"release one\n"

    code, doc, _ = tkj("targets", "list", str(repo))
    assert [(t["path"], t["role"], t["length"]) for t in doc["targets"]] == [
        ("README", "targets", 3), ("app/v1.tar.gz", "targets", 12),
    ]  # fmt: skip


def test_root_rotation_2of3_to_3of4_multi_party(tk, tkj, basic_repo, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    ids |= make_keys("dave", "erin")
    bootstrap = (repo / "1.root.json").read_bytes()

    # carol is replaced by dave and erin; threshold 3. Nobody signs yet (holders elsewhere).
    code, doc, err = tkj(
        "root", "rotate", str(repo), "--old", "carol", "--new", "dave,erin",
        "--threshold", "3", "--no-sign",
    )  # fmt: skip
    assert code == 0, err
    assert "root v2 needs more signatures" in err
    assert doc["published"] is False
    # nothing under-signed is published: clients still see root v1 alone
    assert sorted(p.name for p in repo.glob("*.root.json")) == ["1.root.json"]
    checks = doc["roles"][0]["checks"]
    assert [(c["label"], c["threshold"], c["valid_signatures"]) for c in checks] == [
        ("root v1 keys", 2, 0), ("root v2 keys", 3, 0),
    ]  # fmt: skip

    code, doc, _ = tkj("status", str(repo))
    assert code == 0 and doc["published"] is True  # the published repository is whole
    assert [(r["role"], r["version"], r["verified"]) for r in doc["staged"]] == [("root", 2, False)]
    code, _, err = tk("publish", str(repo))
    assert code == 1 and "bob" in err and "dave" in err  # who must still sign, by name

    staged = repo / "staged" / "root.json"
    code, out, err = tk("sign", str(staged), "--key", "alice")
    assert code == 0, err
    assert "root v1 keys: 1 of 2 — still missing: bob (" in out
    assert "root v2 keys: 1 of 3 — still missing: bob (" in out
    assert "erin (" in out and "dave (" in out and "carol" in out
    code, out, err = tk("sign", str(staged), "--key", "dave")
    assert code == 0, err
    assert "root v1 keys: 1 of 2 — still missing" in out
    code, doc, err = tkj("sign", str(staged), "--key", "bob")
    assert code == 0, err
    assert doc["verified"] is True and doc["already_signed"] is False
    assert [c["verified"] for c in doc["checks"]] == [True, True]
    code, doc, err = tkj("sign", str(staged), "--key", "bob")
    assert code == 0 and doc["already_signed"] is True  # nothing written
    signed = json.loads(staged.read_bytes())["signatures"]
    assert {s["keyid"] for s in signed} == {ids["alice"], ids["bob"], ids["dave"]}
    assert not (repo / "2.root.json").exists()

    code, doc, err = tkj("publish", str(repo))
    assert code == 0, err
    assert (repo / "2.root.json").read_bytes() == (repo / "root.json").read_bytes()
    assert not (repo / "staged").exists()
    code, doc, err = tkj("status", str(repo))
    assert code == 0, err

    # python-tuf's client walks 1 -> 2 and still downloads targets
    base = tmp_path / "files"
    paths = _write_targets(base, {"pkg.bin": b"\x00\x01binary"})
    assert tk("targets", "add", str(repo), *paths, "--base", str(base))[0] == 0
    assert tk("refresh", str(repo))[0] == 0
    up, fetcher = updater(repo, tmp_path / "client", bootstrap=bootstrap, targets_dir=base)
    up.refresh()
    assert any(u.endswith("/2.root.json") for u in fetcher.fetched)
    info = up.get_targetinfo("pkg.bin")
    assert info is not None
    assert Path(up.download_target(info)).read_bytes() == b"\x00\x01binary"


def test_rotation_signed_by_one_old_and_two_new_is_rejected(tk, basic_repo, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("dave", "erin", "frank")
    bootstrap = (repo / "1.root.json").read_bytes()
    code, _, err = tk(
        "root", "rotate", str(repo), "--old", "alice,bob,carol", "--new", "dave,erin,frank",
        "--no-sign",
    )  # fmt: skip
    assert code == 0, err
    for holder in ("alice", "dave", "erin"):
        assert tk("sign", str(repo / "staged" / "root.json"), "--key", holder)[0] == 0
    code, out, _ = tk("status", str(repo))
    assert code == 0  # published root v1 is fine; the staged v2 waits
    assert "root v1 keys: 1 of 2" not in out and "missing: bob" in out
    code, _, err = tk("publish", str(repo))
    assert code == 1 and "root v1 keys have 1 of 2 signatures; 1 more from: bob, carol" in err
    assert not (repo / "2.root.json").exists()
    up, _ = updater(repo, tmp_path / "client", bootstrap=bootstrap)
    up.refresh()  # clients never saw the under-signed root v2
    assert up._trusted_set.root.version == 1


@pytest.mark.parametrize("style", ["succinct", "classic"])
def test_hashed_bins_load_in_python_tuf(tk, tkj, basic_repo, make_keys, tmp_path, style):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    code, doc, err = tkj(
        "delegation", "bins", str(repo), "--count", "16", "--key", "binkey", "--style", style
    )
    assert code == 0, err
    assert doc["bins_written"] == 16 and doc["bins_unsigned"] == []
    names = sorted(p.name for p in repo.glob("bins-*.json"))
    assert names == [f"bins-{i:x}.json" for i in range(16)]
    targets = json.loads((repo / "targets.json").read_bytes())["signed"]
    if style == "succinct":
        assert targets["delegations"]["succinct_roles"]["bit_length"] == 4
    else:
        roles = targets["delegations"]["roles"]
        assert [r["path_hash_prefixes"] for r in roles[:2]] == [["0"], ["1"]]

    base = tmp_path / "files"
    files = {f"dist/pkg-{n}.whl": f"wheel {n}".encode() for n in range(12)}
    paths = _write_targets(base, files)
    code, doc, err = tkj("targets", "add", str(repo), *paths, "--base", str(base))
    assert code == 0, err
    assert len(doc["placed"]) > 3  # spread over several bins
    assert all(role.startswith("bins-") for role in doc["placed"])
    assert tk("refresh", str(repo))[0] == 0
    code, out, err = tk("status", str(repo))
    assert code == 0, out + err
    for n in (0, 7, 11):
        got = fetch_target(repo, tmp_path / f"client-{n}", f"dist/pkg-{n}.whl", base)
        assert got == f"wheel {n}".encode()

    code, doc, _ = tkj("delegation", "list", str(repo))
    if style == "succinct":
        assert [(d["role"], d["bins"]) for d in doc["delegations"]] == [("bins-*", 16)]
    else:
        assert len(doc["delegations"]) == 16


def test_consistent_snapshot_repository(tk, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    make_keys("root1", "online")
    repo = tmp_path / "repo"
    code, _, err = tk(
        "repo", "init", str(repo), "--root-key", "root1", "--targets-key", "online",
        "--snapshot-key", "online", "--timestamp-key", "online", "--consistent-snapshot",
        "--expires", "root=2y,targets=30d,snapshot=2d,timestamp=6h",
    )  # fmt: skip
    assert code == 0, err
    assert {"1.targets.json", "1.snapshot.json", "1.root.json"} <= {p.name for p in repo.iterdir()}
    base = tmp_path / "files"
    paths = _write_targets(base, {"a/b/c.txt": b"deep"})
    assert tk("targets", "add", str(repo), *paths, "--base", str(base))[0] == 0
    assert tk("snapshot", str(repo))[0] == 0
    assert tk("timestamp", str(repo))[0] == 0
    assert (repo / "2.targets.json").is_file() and (repo / "2.snapshot.json").is_file()
    assert fetch_target(repo, tmp_path / "client", "a/b/c.txt", base) == b"deep"
    code, out, _ = tk("status", str(repo))
    assert code == 0
    assert (
        "warning: key online (" in out
        and "is shared by online role(s) snapshot, timestamp and offline role(s) targets" in out
    )


def test_refresh_on_an_online_machine_leaves_targets_alone(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    """Only the snapshot and timestamp keys are here: refresh must not unsign targets."""
    repo, _ = basic_repo
    targets_before = (repo / "targets.json").read_bytes()
    assert tk("key", "remove", "tgt", "--yes")[0] == 0
    code, doc, err = tkj("refresh", str(repo))
    assert code == 0, err
    assert [(r["role"], r["version"], r["verified"]) for r in doc["roles"]] == [
        ("snapshot", 2, True), ("timestamp", 2, True),
    ]  # fmt: skip
    assert (repo / "targets.json").read_bytes() == targets_before
    assert tk("status", str(repo))[0] == 0
    # asked explicitly, targets v2 is staged for its holder to sign; clients still see v1
    code, doc, err = tkj("refresh", str(repo), "--role", "targets")
    assert code == 0
    assert doc["published"] is False
    assert doc["roles"][0]["role"] == "targets" and doc["roles"][0]["verified"] is False
    assert f"holders run 'trustkeep sign {repo / 'staged' / 'targets.json'} --key K'" in err
    assert (repo / "targets.json").read_bytes() == targets_before
    code, doc, _ = tkj("status", str(repo))
    assert code == 0  # the published repository is still whole
    assert [(r["role"], r["version"], r["verified"]) for r in doc["staged"]] == [
        ("targets", 2, False)
    ]
    missing = doc["staged"][0]["signatures"][0]["missing"][0]["keyid"]
    assert doc["staged"][0]["waiting"] == [missing[:8]]  # the removed key has no name left


def test_timestamp_hashes_the_snapshot_bytes_on_disk(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    """A snapshot re-serialised by another tool: timestamp must hash the file, not a re-dump."""
    repo, _ = basic_repo
    snapshot = repo / "snapshot.json"
    compact = json.dumps(json.loads(snapshot.read_bytes()), separators=(",", ":")).encode()
    assert compact != snapshot.read_bytes()
    snapshot.write_bytes(compact)
    code, doc, _ = tkj("status", str(repo))
    assert code == 1
    assert [(p["code"], p["role"], p["message"]) for p in doc["problems"]] == [
        (
            "snapshot-hash-mismatch",
            "timestamp",
            "timestamp: the length or hash it records for snapshot.json does not match the file "
            "(was snapshot signed again?): run `trustkeep timestamp DIR`",
        )
    ]
    code, out, _ = tk("status", str(repo))
    assert code == 1 and f"run `trustkeep timestamp {repo}`" in out  # the advice names the repo
    code, _, err = tk("timestamp", str(repo))
    assert code == 0, err
    assert snapshot.read_bytes() == compact  # snapshot itself untouched
    recorded = json.loads((repo / "timestamp.json").read_bytes())["signed"]["meta"]
    assert recorded["snapshot.json"]["length"] == len(compact)
    assert tk("status", str(repo))[0] == 0
    up, _ = updater(repo, tmp_path / "client")
    up.refresh()  # python-tuf checks the recorded length and sha256 against the file


def test_repository_with_only_versioned_files_loads(tk, tkj, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    """Some publishers keep only N.root.json / V.targets.json: status still reads them."""
    make_keys("root1", "online")
    repo = tmp_path / "repo"
    assert tk(
        "repo", "init", str(repo), "--root-key", "root1", "--targets-key", "root1",
        "--snapshot-key", "online", "--timestamp-key", "online", "--consistent-snapshot",
    )[0] == 0  # fmt: skip
    assert tk("delegation", "add", str(repo), "ops", "--key", "online", "--paths", "ops/*")[0] == 0
    assert tk("refresh", str(repo))[0] == 0
    for name in ("root.json", "targets.json", "snapshot.json", "ops.json"):
        (repo / name).unlink()
    code, doc, err = tkj("status", str(repo))
    assert code == 0, err
    assert [(r["role"], r["version"]) for r in doc["roles"]] == [
        ("root", 1), ("targets", 3), ("ops", 1), ("snapshot", 3), ("timestamp", 3),
    ]  # fmt: skip
