"""``trustkeep pull``: exit codes, the --json report, --at, offline verify, round trip."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from simulator import Repository, Server, days

Run = Callable[..., tuple[int, str, str]]


def _pull(run_cli: Run, server: Server, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli("pull", server.metadata_url, str(out), *extra)  # type: ignore[no-any-return]


@pytest.fixture
def root_file(tmp_path: Path, repo: Repository) -> Path:
    path = tmp_path / "trusted-root.json"
    path.write_bytes(repo.published["root"][1])
    return path


def test_pull_mirrors_every_role_then_verify_works_offline(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    repo.delegate("targets", "releases", paths=["releases/*"])
    repo.delegate("releases", "nightly", paths=["releases/n*"])
    repo.add_target("nightly", b"build", "releases/n1")
    repo.bump_root()
    repo.publish_all()
    out = tmp_path / "mirror"
    code, stdout, err = _pull(run_cli, server, out, "--root", str(root_file), "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["schema"] == 1 and report["valid"] is True and report["findings"] == []
    assert report["anchor"]["type"] == "root" and report["anchor"]["version"] == 1
    roles = {(r["role"], r["version"], r["delegated_by"]) for r in report["roles"]}
    assert roles == {
        ("root", 1, None),
        ("root", 2, None),
        ("timestamp", 2, None),
        ("snapshot", 2, None),
        ("targets", 1, None),
        ("releases", 1, "targets"),
        ("nightly", 1, "releases"),
    }
    assert sorted(p.name for p in out.glob("*.json")) == [
        "nightly.json",
        "releases.json",
        "root.json",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    server.close()  # offline from here on
    code, stdout, err = run_cli("verify", str(out), "--root", str(root_file), "--json")
    assert code == 0, stdout
    assert json.loads(stdout)["valid"] is True


def test_later_pull_starts_from_the_directory(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    out = tmp_path / "mirror"
    assert _pull(run_cli, server, out, "--root", str(root_file))[0] == 0
    repo.update_targets()
    server.clear()
    code, _, err = _pull(run_cli, server, out)
    assert code == 0, err
    assert server.metadata_requests() == [
        ("root", 2),
        ("timestamp", None),
        ("snapshot", 2),
        ("targets", 2),
    ]


def test_first_pull_needs_an_anchor(run_cli: Run, tmp_path: Path, server: Server) -> None:
    code, _, err = _pull(run_cli, server, tmp_path / "new")
    assert code == 2
    assert "no trusted root yet" in err and "--root FILE" in err
    assert server.requests == []


def test_pins_are_for_notary(run_cli: Run, tmp_path: Path, server: Server, root_file: Path) -> None:
    code, _, err = _pull(run_cli, server, tmp_path / "x", "--pins", str(root_file), "--gun", "g")
    assert code == 2 and "anchored with --root" in err
    assert server.requests == []


def test_trust_failure_exits_1_with_the_finding_code(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    repo.md["snapshot"].signed.expires = days(-2)
    repo.update_snapshot()
    code, stdout, err = _pull(run_cli, server, tmp_path / "m", "--root", str(root_file), "--json")
    assert code == 1
    assert json.loads(stdout)["findings"][0]["code"] == "expired"
    assert "pull failed: expired (snapshot): snapshot v2 expired" in err
    assert len(err.strip().splitlines()) == 1


def test_network_failure_exits_3(run_cli: Run, tmp_path: Path, root_file: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run_cli(
        "pull", f"http://127.0.0.1:{port}/m", str(tmp_path / "m"), "--root", str(root_file)
    )
    assert code == 3
    assert err.startswith(f"trustkeep: error: http://127.0.0.1:{port}/m/2.root.json: ")
    assert "Connection refused" in err and "Traceback" not in err


def test_at_expired_local_timestamp_still_guards_against_rollback(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    """Spec §5.3.11: an expired local timestamp is the rollback reference."""
    repo.md["timestamp"].signed.expires = days(7)
    repo.md["timestamp"].signed.version = 5
    repo.publish_timestamp(bump=False)
    out = tmp_path / "m"
    assert _pull(run_cli, server, out, "--root", str(root_file))[0] == 0
    later = days(18).strftime("%Y-%m-%dT%H:%M:%SZ")
    repo.md["timestamp"].signed.expires = days(30)
    repo.md["timestamp"].signed.version = 4
    repo.publish_timestamp(bump=False)
    code, _, err = _pull(run_cli, server, out, "--at", later)
    assert code == 1 and "rollback (timestamp)" in err
    repo.md["timestamp"].signed.version = 6
    repo.publish_timestamp(bump=False)
    code, _, err = _pull(run_cli, server, out, "--at", later)
    assert code == 0, err
    assert json.loads((out / "timestamp.json").read_bytes())["signed"]["version"] == 6


def test_targets_are_downloaded_verified(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    repo.add_target("targets", b"payload", "dist/app.tar")
    repo.update_targets()
    got = tmp_path / "got"
    args = [
        "--root",
        str(root_file),
        "--target",
        "dist/app.tar",
        "--targets-url",
        server.targets_url,
        "--target-dir",
        str(got),
    ]
    code, stdout, err = _pull(run_cli, server, tmp_path / "m", *args)
    assert code == 0, err
    assert (got / "dist%2Fapp.tar").read_bytes() == b"payload"
    assert "target dist/app.tar: downloaded, 7 bytes, verified" in stdout
    code, stdout, _ = _pull(run_cli, server, tmp_path / "m", *args)
    assert code == 0 and "already present" in stdout
    code, stdout, _ = _pull(run_cli, server, tmp_path / "m", *args, "--json")
    assert json.loads(stdout)["targets"] == [
        {"path": "dist/app.tar", "file": str(got / "dist%2Fapp.tar"), "length": 7,
         "downloaded": False},
    ]  # fmt: skip
    code, _, err = _pull(run_cli, server, tmp_path / "m", *args[:2], "--target", "nope", *args[4:])
    assert code == 1 and "missing-role" in err and "'nope'" in err


def test_target_needs_its_urls(
    run_cli: Run, tmp_path: Path, server: Server, root_file: Path
) -> None:
    code, _, err = _pull(run_cli, server, tmp_path / "m", "--root", str(root_file), "--target", "x")
    assert code == 2 and "--targets-url" in err


def test_round_trip_with_a_repository_trustkeep_writes(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trustkeep repo init`` + delegation + target, served as files; ``pull`` verifies it."""
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "round-trip")
    home = ["--home", str(tmp_path / "home")]
    code, _, err = run_cli(*home, "--json", "key", "generate", "--type", "ed25519", "--name", "k")
    assert code == 0, err
    repo_dir, dist = tmp_path / "repo", tmp_path / "dist"
    (dist / "releases").mkdir(parents=True)
    (dist / "releases" / "app.txt").write_bytes(b"hello from trustkeep")
    steps = [
        [
            "repo",
            "init",
            str(repo_dir),
            "--root-key",
            "k",
            "--targets-key",
            "k",
            "--snapshot-key",
            "k",
            "--timestamp-key",
            "k",
            "--consistent-snapshot",
        ],
        ["delegation", "add", str(repo_dir), "releases", "--key", "k", "--paths", "releases/*"],
        ["targets", "add", str(repo_dir), str(dist / "releases" / "app.txt"), "--base", str(dist)],
        ["snapshot", str(repo_dir)],
        ["timestamp", str(repo_dir)],
    ]
    for step in steps:
        code, _, err = run_cli(*home, *step)
        assert code == 0, (step, err)
    repo = Repository(static=repo_dir, static_targets=dist)
    server = Server(repo)
    try:
        got = tmp_path / "got"
        code, stdout, err = run_cli(
            "pull",
            server.metadata_url,
            str(tmp_path / "m"),
            "--root",
            str(repo_dir / "1.root.json"),
            "--target",
            "releases/app.txt",
            "--targets-url",
            server.targets_url,
            "--target-dir",
            str(got),
            "--json",
        )
        assert code == 0, (stdout, err)
        assert (got / "releases%2Fapp.txt").read_bytes() == b"hello from trustkeep"
        assert {r["role"] for r in json.loads(stdout)["roles"]} >= {"releases", "targets"}
    finally:
        server.close()
    code, stdout, _ = run_cli(
        "verify", str(tmp_path / "m"), "--root", str(repo_dir / "1.root.json")
    )
    assert code == 0, stdout


def test_server_error_exits_3(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    repo.status["timestamp.json"] = 500
    code, _, err = _pull(run_cli, server, tmp_path / "m", "--root", str(root_file))
    assert code == 3
    assert (
        err.strip()
        == f"trustkeep: error: {server.metadata_url}/timestamp.json: server answered HTTP 500"
    )


def test_pull_mirrors_succinct_bins_and_verify_agrees(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    from simulator import new_signer
    from tuf.api.metadata import Delegations, Metadata, SuccinctRoles, Targets

    signer = new_signer()
    bins = SuccinctRoles([signer.public_key.keyid], 1, 3, "bins")
    repo.md["targets"].signed.delegations = Delegations(
        keys={signer.public_key.keyid: signer.public_key}, succinct_roles=bins
    )
    for name in bins.get_roles():
        repo.md[name] = Metadata(Targets(expires=days(30)))
        repo.signers[name] = [signer]
    repo.publish_all()
    out = tmp_path / "m"
    code, _, err = _pull(run_cli, server, out, "--root", str(root_file))
    assert code == 0, err
    assert len(list(out.glob("bins-*.json"))) == 8
    code, stdout, _ = run_cli("verify", str(out), "--root", str(root_file))
    assert code == 0, stdout


def test_at_an_expired_local_delegated_role_is_not_used_and_a_newer_one_is(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    repo.delegate("targets", "delegated", paths=["delegatedpath/*"])
    repo.md["delegated"].signed.expires = days(7)
    repo.add_target("delegated", b"first", "delegatedpath/first")
    repo.add_target("delegated", b"second", "delegatedpath/second")
    repo.publish_all()
    got, out = tmp_path / "got", tmp_path / "m"
    urls = ["--targets-url", server.targets_url, "--target-dir", str(got)]
    first = ["--target", "delegatedpath/first", *urls]
    code, _, err = _pull(run_cli, server, out, "--root", str(root_file), *first)
    assert code == 0, err
    day18 = ["--at", days(18).strftime("%Y-%m-%dT%H:%M:%SZ")]
    second = ["--target", "delegatedpath/second", *urls, *day18]
    code, _, err = _pull(run_cli, server, out, *second)
    assert code == 1 and "expired (delegated)" in err
    assert sorted(p.name for p in got.iterdir()) == ["delegatedpath%2Ffirst"]
    repo.md["delegated"].signed.expires = days(21)
    repo.update_targets("delegated")
    code, _, err = _pull(run_cli, server, out, *second)
    assert code == 0, err
    assert (got / "delegatedpath%2Fsecond").read_bytes() == b"second"


def test_an_older_root_option_does_not_replace_the_state_in_the_directory(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server, root_file: Path
) -> None:
    out = tmp_path / "m"
    repo.bump_root()
    assert _pull(run_cli, server, out, "--root", str(root_file))[0] == 0
    assert sorted(p.name for p in (out / "root_history").iterdir()) == [
        "1.root.json", "2.root.json",
    ]  # fmt: skip
    server.clear()
    code, stdout, err = _pull(run_cli, server, out, "--root", str(root_file), "--json")
    assert code == 0, err
    assert server.metadata_requests()[0] == ("root", 3)  # from v2, the state in DIR
    assert json.loads(stdout)["anchor"]["version"] == 1


@pytest.mark.parametrize("url", ["repo.example.com/metadata", "file:///tmp/m", "http://"])
def test_a_url_that_is_not_http_is_a_usage_error(run_cli: Run, tmp_path: Path, url: str) -> None:
    code, _, err = run_cli("pull", url, str(tmp_path / "m"))
    assert code == 2 and "is not an http:// or https:// URL" in err
    assert not (tmp_path / "m").exists()


def test_an_unsigned_root_option_is_refused_and_not_stored(
    run_cli: Run, tmp_path: Path, repo: Repository, server: Server
) -> None:
    doc = json.loads(repo.published["root"][1])
    doc["signatures"] = []
    bad = tmp_path / "bad-root.json"
    bad.write_text(json.dumps(doc))
    code, stdout, err = _pull(run_cli, server, tmp_path / "m", "--root", str(bad), "--json")
    assert code == 1 and json.loads(stdout)["findings"][0]["code"] == "threshold-not-met"
    assert "pull failed: threshold-not-met (root)" in err
    assert server.requests == []
    assert not (tmp_path / "m" / "root.json").exists()


def test_target_dir_must_not_be_the_metadata_dir(
    run_cli: Run, tmp_path: Path, server: Server, root_file: Path
) -> None:
    out = tmp_path / "m"
    args = ["--target", "timestamp.json", "--targets-url", server.targets_url]
    code, _, err = _pull(run_cli, server, out, "--root", str(root_file), *args,
                         "--target-dir", str(tmp_path / "m" / "."))  # fmt: skip
    assert code == 2 and "must not be the metadata directory" in err
    assert server.requests == []
