"""`trustkeep verify` end to end through main(argv): exit codes, JSON, human tree, inputs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from tufrepo import Repo

from trustkeep.adapters.metadata_source import Limits, read_metadata
from trustkeep.errors import InputError

AT = "2030-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def repo_files() -> dict[str, bytes]:
    return Repo.build(root_versions=2).files()


@pytest.fixture
def repo_dir(tmp_path: Path, repo_files: dict[str, bytes]) -> Path:
    d = tmp_path / "metadata"
    d.mkdir()
    for name, data in repo_files.items():
        (d / name).write_bytes(data)
    return d


def test_valid_json_document(run_cli: Any, repo_dir: Path) -> None:
    code, out, err = run_cli(
        "verify", str(repo_dir), "--root", str(repo_dir / "1.root.json"), "--at", AT, "--json"
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert list(doc) == [
        "schema", "valid", "format", "reference_time", "anchor", "roles", "findings",
    ]  # fmt: skip
    assert doc["schema"] == 1 and doc["valid"] is True and doc["format"] == "tuf"
    assert doc["anchor"] == {
        "type": "root",
        "source": str(repo_dir / "1.root.json"),
        "version": 1,
        "gun": None,
        "mechanism": None,
        "sha256": hashlib.sha256((repo_dir / "1.root.json").read_bytes()).hexdigest(),
    }
    assert doc["reference_time"] == "2030-01-01T00:00:00Z"
    assert doc["roles"][1] == {
        "role": "root",
        "file": "2.root.json",
        "version": 2,
        "expires": "2031-01-01T00:00:00Z",
        "signatures": 1,
        "threshold": 1,
        "keyids": doc["roles"][1]["keyids"],
        "delegated_by": None,
        "valid": True,
        "verified": True,
        "unverified_reason": None,
    }
    assert len(doc["roles"][1]["keyids"]) == 1
    assert [r["role"] for r in doc["roles"]] == [
        "root", "root", "timestamp", "snapshot", "targets", "releases",
    ]  # fmt: skip
    assert doc["findings"] == []


def test_human_tree_and_findings(run_cli: Any, repo_dir: Path) -> None:
    (repo_dir / "1.releases.json").unlink()
    code, out, err = run_cli("verify", str(repo_dir), "--at", AT)
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"{repo_dir}: tuf metadata — INVALID (1 error(s), 1 warning(s))"
    assert lines[1] == "anchor: none (chain checked from its own first root)"
    assert lines[2] == "reference time: 2030-01-01T00:00:00Z"
    assert lines[3] == "root v1 → v2"
    assert lines[4].startswith("  ✓ root v1  expires 2031-01-01T00:00:00Z  signatures 1/1")
    assert lines[6].startswith("✓ timestamp v1  expires 2030-01-08T00:00:00Z")
    assert lines[7].startswith("  └─ ✓ snapshot v1")
    assert lines[8].startswith("    └─ ✓ targets v1")
    assert "findings:" in lines
    assert "  error   missing-role [releases]: " in out
    assert "  warning no-anchor: no --root or --pins given" in out


def test_broken_root_chain_leaves_the_roles_below_unverified(
    run_cli: Any, repo_dir: Path, tmp_path: Path
) -> None:
    """Root v2 not signed by root v1: nothing checked with v2's keys is shown as verified."""
    doc = json.loads((repo_dir / "2.root.json").read_text())
    doc["signatures"] = []
    (repo_dir / "2.root.json").write_text(json.dumps(doc))
    code, out, _ = run_cli(
        "verify", str(repo_dir), "--root", str(repo_dir / "1.root.json"), "--at", AT, "--json"
    )
    assert code == 1
    roles = {(r["role"], r["version"]): r for r in json.loads(out)["roles"]}
    assert roles[("root", 1)]["verified"] is True
    assert roles[("root", 2)]["verified"] is False
    for role in ("timestamp", "snapshot", "targets", "releases"):
        (entry,) = [r for (name, _), r in roles.items() if name == role]
        assert entry["valid"] is True and entry["verified"] is False, entry
        assert (
            "not trusted" in entry["unverified_reason"]
            or "not verified" in (entry["unverified_reason"])
        )
    code, out, _ = run_cli("verify", str(repo_dir), "--root", str(repo_dir / "1.root.json"),
                           "--at", AT)  # fmt: skip
    assert "? timestamp v1" in out and "✓ timestamp" not in out
    assert "[unverified: root v2 (2.root.json) failed: its keys are not trusted]" in out


def test_expired_exit_1_and_at_option(run_cli: Any, repo_dir: Path) -> None:
    code, out, _ = run_cli("verify", str(repo_dir), "--at", "2030-02-01", "--json")
    assert code == 1
    doc = json.loads(out)
    assert {(f["code"], f["role"]) for f in doc["findings"] if f["severity"] == "error"} == {
        ("expired", "timestamp"),
        ("expired", "snapshot"),
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "yesterday"], "--at 'yesterday' is not an ISO 8601 time"),
        (["--root", "/nonexistent/root.json"], "/nonexistent/root.json: trusted root not found"),
        (["--pins", "p.json"], "--pins applies to Notary metadata"),
        (["--root", "r.json", "--pins", "p.json"], "give one trust anchor"),
        (["--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2(run_cli: Any, repo_dir: Path, args: list[str], message: str) -> None:
    code, out, err = run_cli("verify", str(repo_dir), *args)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


def test_missing_directory_exit_2(run_cli: Any, tmp_path: Path) -> None:
    code, out, err = run_cli("verify", str(tmp_path / "nope"))
    assert (code, out) == (2, "")
    assert err == f"trustkeep: error: {tmp_path / 'nope'}: no such file or directory\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "trusted root is not signed metadata"),
        ("{not json", "trusted root is not valid JSON"),
        ("\ufeff{}", "trusted root starts with a byte order mark"),
        (
            '{"signed": {"_type": "targets"}, "signatures": []}',
            "trusted root has _type 'targets', not root",
        ),
    ],
)
def test_malformed_trusted_root_is_an_input_error(
    run_cli: Any, repo_dir: Path, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad-root.json"
    bad.write_text(content)
    code, out, err = run_cli("verify", str(repo_dir), "--root", str(bad), "--json")
    assert code == 2
    error = json.loads(out)["error"]
    assert error["code"] == "input" and error["message"].startswith(f"{bad}: {message}")
    assert f"{bad}: {message}" in err
    assert "Traceback" not in err


def test_previous_dir_rollback(run_cli: Any, repo_dir: Path, tmp_path: Path) -> None:
    repo = Repo.build(root_versions=3)
    newer = repo.write(tmp_path / "newer")
    anchor = tmp_path / "anchor.json"
    anchor.write_bytes((repo_dir / "1.root.json").read_bytes())
    code, out, _ = run_cli(
        "verify", str(repo_dir), "--root", str(anchor), "--previous", str(newer), "--json",
        "--at", AT,
    )  # fmt: skip
    doc = json.loads(out)
    assert code == 1
    assert ("rollback", "root") in {(f["code"], f["role"]) for f in doc["findings"]}
    # without --root the previous root v3 is the anchor: the directory's v1 is only older
    code, out, _ = run_cli("verify", str(repo_dir), "--previous", str(newer), "--json", "--at", AT)
    doc = json.loads(out)
    assert doc["anchor"]["type"] == "previous" and doc["anchor"]["version"] == 3
    assert ("warning", "rollback", "root") in {
        (f["severity"], f["code"], f["role"]) for f in doc["findings"]
    }


def test_format_forced(run_cli: Any, repo_dir: Path) -> None:
    code, out, _ = run_cli("verify", str(repo_dir), "--format", "notary", "--json", "--at", AT)
    doc = json.loads(out)
    assert code == 1 and doc["format"] == "notary"
    assert "malformed" in {f["code"] for f in doc["findings"]}


# -- inputs: tarballs and directories ------------------------------------------------


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_tarball_verifies_in_memory(
    run_cli: Any, tmp_path: Path, repo_files: dict[str, bytes]
) -> None:
    archive = _tar(tmp_path / "m.tar.gz", {f"metadata/{n}": d for n, d in repo_files.items()})
    code, out, _ = run_cli("verify", str(archive), "--json", "--at", AT)
    assert code == 0
    assert json.loads(out)["roles"][0]["file"] == "1.root.json"
    assert not any(p.suffix == ".json" for p in tmp_path.rglob("*"))  # nothing extracted


def test_tarball_traversal_and_links_are_skipped(
    run_cli: Any, tmp_path: Path, repo_files: dict[str, bytes]
) -> None:
    members = {f"m/{n}": d for n, d in repo_files.items()}
    members["../../evil.json"] = b"{}"
    members["/abs.json"] = b"{}"
    archive = tmp_path / "m.tar"
    _tar(archive, members, "w")
    with tarfile.open(archive, "a") as tar:
        link = tarfile.TarInfo("m/link.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    code, out, err = run_cli("verify", str(archive), "--json", "--at", AT)
    assert code == 0, out
    assert "skipped unsafe path '../../evil.json'" in err
    assert "skipped unsafe path '/abs.json'" in err
    assert "skipped non-regular entry 'm/link.json'" in err
    assert not (tmp_path.parent / "evil.json").exists()


def test_tarball_size_limits(tmp_path: Path, repo_files: dict[str, bytes]) -> None:
    archive = _tar(tmp_path / "m.tar.gz", {n: d for n, d in repo_files.items()})
    with pytest.raises(InputError, match="is larger than 100 bytes"):
        read_metadata(archive, limits=Limits(file_bytes=100))
    with pytest.raises(InputError, match="more than 2 metadata files"):
        read_metadata(archive, limits=Limits(files=2))
    garbage = tmp_path / "g.tar.gz"
    garbage.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(InputError, match="not a readable tar archive"):
        read_metadata(garbage)


def test_directory_limits_and_symlinks(tmp_path: Path, repo_dir: Path) -> None:
    os.symlink("/etc/hostname", repo_dir / "linked.json")
    bundle = read_metadata(repo_dir)
    assert "linked.json" not in bundle.files
    assert bundle.notes == ("skipped symbolic link linked.json",)
    with pytest.raises(InputError, match=r"metadata: 1\.releases\.json is larger than 10 bytes"):
        read_metadata(repo_dir, limits=Limits(file_bytes=10))


def test_a_file_that_turns_special_after_the_listing_is_skipped(
    tmp_path: Path, repo_dir: Path
) -> None:
    """The size of a directory's file comes from the open file; one that is a FIFO by
    the time it is opened (swapped after the listing) is skipped with a note, not waited
    on, and the other files are read whole."""
    from trustkeep.adapters.metadata_source import DEFAULT_LIMITS, _Reader

    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    reader = _Reader("metadata", DEFAULT_LIMITS)
    reader.add_file("swapped.json", str(fifo))
    real = next(p for p in sorted(repo_dir.iterdir()) if p.name.endswith(".json"))
    reader.add_file(real.name, str(real))
    assert reader.notes == ["skipped special file swapped.json"]
    assert reader.files == {real.name: real.read_bytes()}
    with pytest.raises(InputError, match=r"metadata: \S+ is larger than 10 bytes"):
        _Reader("metadata", Limits(file_bytes=10)).add_file(real.name, str(real))


def test_quoted_delegated_role_names(tmp_path: Path) -> None:
    from tufrepo import NOW

    from trustkeep.core.verify import MetadataBundle, verify_tuf

    repo = Repo.build(delegations=False)
    repo._delegate("targets", "a/b c", ["ab/*"], 2)
    repo.refresh()
    files = repo.files()
    assert "1.a%2Fb%20c.json" in files
    d = repo.write(tmp_path / "q", files)
    bundle = read_metadata(d)
    report = verify_tuf(MetadataBundle(bundle.files, source="q"), at=NOW)
    assert report.valid
    assert [r.role for r in report.roles][-1] == "a/b c"


def test_python_tuf_client_cache_verifies(run_cli: Any, tmp_path: Path) -> None:
    """python-tuf's Updater cache: root.json is a symlink into root_history/."""
    from tufrepo import updater_finds

    repo = Repo.build(root_versions=3)
    files = repo.files()
    cache = tmp_path / "client"
    assert updater_finds(files, files["1.root.json"], "releases/pkg0.tgz", cache)
    assert (cache / "root.json").is_symlink()
    assert sorted(p.name for p in (cache / "root_history").iterdir()) == [
        "1.root.json", "2.root.json", "3.root.json",
    ]  # fmt: skip
    bundle = read_metadata(cache)
    assert {"1.root.json", "2.root.json", "3.root.json", "root.json"} <= set(bundle.files)
    assert bundle.notes == ()
    anchor = tmp_path / "anchor.json"
    anchor.write_bytes(files["1.root.json"])
    code, out, err = run_cli("verify", str(cache), "--root", str(anchor), "--at", AT, "--json")
    assert (code, err) == (0, ""), out
    doc = json.loads(out)
    assert [r["version"] for r in doc["roles"] if r["role"] == "root"] == [1, 2, 3]
    assert [r["role"] for r in doc["roles"]][-1] == "releases"


def test_python_tuf_client_cache_as_tarball(run_cli: Any, tmp_path: Path) -> None:
    from tufrepo import updater_finds

    files = Repo.build(root_versions=2).files()
    cache = tmp_path / "client"
    assert updater_finds(files, files["1.root.json"], "releases/pkg0.tgz", cache)
    archive = tmp_path / "cache.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cache, arcname="client")
    code, out, err = run_cli("verify", str(archive), "--at", AT, "--json")
    assert code == 0, out
    assert "skipped non-regular entry 'client/root.json'" in err
    doc = json.loads(out)
    assert [r["file"] for r in doc["roles"] if r["role"] == "root"] == [
        "1.root.json",
        "2.root.json",
    ]


@pytest.mark.parametrize("option", ["--root", "--previous", None])
def test_fifo_inputs_are_input_errors(
    run_cli: Any, repo_dir: Path, tmp_path: Path, option: str | None
) -> None:
    """A FIFO never blocks verify: --root, --previous or DIR, one line, exit 2."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    argv = ["verify", str(repo_dir), option, str(fifo)] if option else ["verify", str(fifo)]
    code, out, err = run_cli(*argv)
    assert (code, out) == (2, "")
    assert err.startswith(f"trustkeep: error: {fifo}"), err
    assert len(err.strip().splitlines()) == 1
