"""``targets add``: directories, ``--custom``, and the hash-prefixed copies of consistent
snapshots, checked by python-tuf's own client downloading them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from repo_oracle import fetch_target, updater


def _tree(base: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _targets(repo: Path, name: str = "targets.json") -> dict:  # type: ignore[type-arg]
    return json.loads((repo / name).read_bytes())["signed"]["targets"]  # type: ignore[no-any-return]


def _consistent_repo(tk, make_keys, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    make_keys("root1", "online")
    repo = tmp_path / "site" / "metadata"
    code, _, err = tk(
        "repo", "init", str(repo), "--root-key", "root1", "--targets-key", "online",
        "--snapshot-key", "online", "--timestamp-key", "online", "--consistent-snapshot",
    )  # fmt: skip
    assert code == 0, err
    return repo


def test_directories_are_added_recursively(tk, tkj, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    base = tmp_path / "files"
    _tree(base, {"app/v1/a.tar.gz": b"a", "app/v1/deep/b.txt": b"bb", "app/c": b"ccc", "z": b"z"})
    code, doc, err = tkj("targets", "add", str(repo), str(base / "app"), str(base / "z"),
                         "--base", str(base))  # fmt: skip
    assert code == 0, err
    assert doc["placed"] == {"targets": ["app/c", "app/v1/a.tar.gz", "app/v1/deep/b.txt", "z"]}
    listed = _targets(repo)
    assert sorted(listed) == ["app/c", "app/v1/a.tar.gz", "app/v1/deep/b.txt", "z"]
    assert listed["app/v1/deep/b.txt"]["hashes"]["sha256"] == hashlib.sha256(b"bb").hexdigest()
    assert listed["app/c"]["length"] == 3


def test_directory_with_a_linked_directory_is_refused(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    base = tmp_path / "files"
    _tree(base, {"app/a": b"a", "elsewhere/b": b"b"})
    (base / "app" / "more").symlink_to(base / "elsewhere")
    before = (repo / "targets.json").read_bytes()
    code, _, err = tk("targets", "add", str(repo), str(base / "app"), "--base", str(base))
    assert code == 2
    assert "a symbolic link to a directory" in err and "more" in err
    assert (repo / "targets.json").read_bytes() == before


def test_custom_is_stored_and_python_tuf_reads_it(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    base = tmp_path / "files"
    _tree(base, {"pkg.tar.gz": b"package"})
    custom = {"version": "1.2.3", "build": 42, "tags": ["stable"], "signed": True}
    code, _, err = tk("targets", "add", str(repo), str(base / "pkg.tar.gz"), "--base", str(base),
                      "--custom", json.dumps(custom))  # fmt: skip
    assert code == 0, err
    assert _targets(repo)["pkg.tar.gz"]["custom"] == custom
    assert tk("refresh", str(repo))[0] == 0
    up, _ = updater(repo, tmp_path / "client")
    up.refresh()
    info = up.get_targetinfo("pkg.tar.gz")
    assert info is not None and info.custom == custom


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ('{"x": 1.5}', "is not an integer"),
        ('{"x": NaN}', "is not an integer"),
        ("[1, 2]", "a JSON object expected"),
        ("{oops", "not valid JSON"),
    ],
)
def test_bad_custom_is_refused(tk, basic_repo, tmp_path, custom, message) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    (tmp_path / "f").write_bytes(b"f")
    before = (repo / "targets.json").read_bytes()
    code, _, err = tk("targets", "add", str(repo), str(tmp_path / "f"), "--base", str(tmp_path),
                      "--custom", custom)  # fmt: skip
    assert code == 2
    assert err.startswith("trustkeep: error: --custom:") and message in err
    assert (repo / "targets.json").read_bytes() == before


def test_consistent_snapshot_copies_are_what_python_tuf_downloads(  # type: ignore[no-untyped-def]
    tk, make_keys, tmp_path
) -> None:
    repo = _consistent_repo(tk, make_keys, tmp_path)
    base = tmp_path / "files"
    _tree(base, {"a/b/c.txt": b"deep file\n", "top.bin": b"\x00top"})
    code, _, err = tk("targets", "add", str(repo), str(base), "--base", str(base))
    assert code == 0, err
    assert tk("snapshot", str(repo))[0] == 0
    assert tk("timestamp", str(repo))[0] == 0
    served = tmp_path / "site" / "targets"  # the default: DIR/../targets
    digest = hashlib.sha256(b"deep file\n").hexdigest()
    copy = served / "a" / "b" / f"{digest}.c.txt"
    assert copy.read_bytes() == b"deep file\n"
    assert not (served / "a" / "b" / "c.txt").exists()  # only what clients ask for
    up, fetcher = updater(repo, tmp_path / "client", targets_dir=served)
    up.refresh()
    info = up.get_targetinfo("a/b/c.txt")
    assert info is not None
    assert Path(up.download_target(info)).read_bytes() == b"deep file\n"
    assert fetcher.fetched[-1].endswith(f"/a/b/{digest}.c.txt")
    assert fetch_target(repo, tmp_path / "client2", "top.bin", served) == b"\x00top"


def test_consistent_snapshot_targets_dir_and_rerun(tk, make_keys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--targets-dir names the place; adding that same tree again skips the copies in it."""
    repo = _consistent_repo(tk, make_keys, tmp_path)
    served = tmp_path / "www" / "targets"
    _tree(served, {"rel/app.tar.gz": b"app v1"})
    argv = ("targets", "add", str(repo), str(served), "--base", str(served),
            "--targets-dir", str(served))  # fmt: skip
    assert tk(*argv)[0] == 0
    digest = hashlib.sha256(b"app v1").hexdigest()
    assert (served / "rel" / f"{digest}.app.tar.gz").read_bytes() == b"app v1"
    code, _, err = tk(*argv)  # the copy is in the tree now: it is not a target of its own
    assert code == 0, err
    assert list(_targets(repo)) == ["rel/app.tar.gz"]
    assert sorted(p.name for p in (served / "rel").iterdir()) == sorted(
        ["app.tar.gz", f"{digest}.app.tar.gz"]
    )


def test_targets_dir_needs_consistent_snapshots(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    (tmp_path / "f").write_bytes(b"f")
    code, _, err = tk("targets", "add", str(repo), str(tmp_path / "f"), "--base", str(tmp_path),
                      "--targets-dir", str(tmp_path / "t"))  # fmt: skip
    assert code == 2
    assert "does not use consistent snapshots" in err
    assert not (tmp_path / "t").exists()


def test_file_outside_the_base_is_refused(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    _tree(tmp_path, {"inside/a": b"a", "outside/b": b"b"})
    code, _, err = tk("targets", "add", str(repo), str(tmp_path / "outside"),
                      "--base", str(tmp_path / "inside"))  # fmt: skip
    assert code == 2
    assert "outside the target base" in err
