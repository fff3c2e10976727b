"""Delegation trees: nested roles, ECDSA keys, removal, refresh by glob, foreign repositories."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from repo_oracle import fetch_target, updater
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp
from tuf.api.serialization.json import JSONSerializer

pytestmark = pytest.mark.interop


def _files(base: Path, files: dict[str, bytes]) -> list[str]:
    for rel, data in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    return [str(base / rel) for rel in files]


def test_nested_delegations_through_the_tree(tk, tkj, basic_repo, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("team-ec", key_type="ecdsa-p256")
    make_keys("ci-ec", key_type="ecdsa-p384")
    assert tk("delegation", "add", str(repo), "team", "--key", "team-ec",
              "--paths", "team/*", "--paths", "team/*/*")[0] == 0  # fmt: skip
    code, _, err = tk(
        "delegation", "add", str(repo), "team-ci", "--delegator", "team", "--key", "ci-ec",
        "--paths", "team/ci/*", "--terminating",
    )  # fmt: skip
    assert code == 0, err
    code, doc, _ = tkj("delegation", "list", str(repo))
    assert [(d["delegator"], d["role"], d["terminating"]) for d in doc["delegations"]] == [
        ("targets", "team", False), ("team", "team-ci", True),
    ]  # fmt: skip
    assert doc["delegations"][1]["keys"][0]["name"] == "ci-ec"

    base = tmp_path / "files"
    paths = _files(base, {"team/ci/build.log": b"ci", "team/app.bin": b"app", "top.txt": b"t"})
    code, doc, err = tkj("targets", "add", str(repo), *paths, "--base", str(base))
    assert code == 0, err
    assert doc["placed"] == {
        "team-ci": ["team/ci/build.log"], "team": ["team/app.bin"], "targets": ["top.txt"],
    }  # fmt: skip

    # --role must cover the path
    extra = _files(base, {"other/x": b"x"})
    code, _, err = tk("targets", "add", str(repo), *extra, "--base", str(base), "--role", "team-ci")
    assert code == 2 and "target 'other/x' is not delegated to role 'team-ci'" in err

    assert tk("refresh", str(repo))[0] == 0
    code, out, err = tk("status", str(repo))
    assert code == 0, out + err
    for path, data in (("team/ci/build.log", b"ci"), ("team/app.bin", b"app"), ("top.txt", b"t")):
        assert fetch_target(repo, tmp_path / path.replace("/", "_"), path, base) == data

    # remove a target, python-tuf no longer finds it
    code, doc, _ = tkj("targets", "remove", str(repo), "team/app.bin")
    assert code == 0 and doc["removed"] == {"team": ["team/app.bin"]}
    assert tk("refresh", str(repo))[0] == 0
    up, _ = updater(repo, tmp_path / "after-remove", targets_dir=base)
    up.refresh()
    assert up.get_targetinfo("team/app.bin") is None


def test_removed_delegation_keeps_clients_working(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    assert tk("delegation", "add", str(repo), "docs", "--key", "dele", "--paths", "docs/*")[0] == 0
    base = tmp_path / "files"
    assert tk("targets", "add", str(repo), *_files(base, {"docs/a.md": b"# a"}),
              "--base", str(base))[0] == 0  # fmt: skip
    assert tk("refresh", str(repo))[0] == 0
    client = tmp_path / "client"
    up, _ = updater(repo, client, targets_dir=base)
    up.refresh()
    assert up.get_targetinfo("docs/a.md") is not None

    code, doc, err = tkj("delegation", "remove", str(repo), "docs")
    assert code == 0, err
    assert (repo / "docs.json").is_file()  # kept for history
    assert tk("refresh", str(repo))[0] == 0
    snapshot = json.loads((repo / "snapshot.json").read_bytes())["signed"]
    assert "docs.json" in snapshot["meta"]  # clients refuse a snapshot that drops a role
    # the same client (holding the previous snapshot) updates without error
    up, _ = updater(repo, client, targets_dir=base, bootstrap=(repo / "1.root.json").read_bytes())
    up.refresh()
    assert up.get_targetinfo("docs/a.md") is None
    code, doc, _ = tkj("delegation", "list", str(repo))
    assert doc["delegations"] == []


def test_refresh_bins_by_glob_and_status_summary(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    assert tk("delegation", "bins", str(repo), "--count", "32", "--key", "binkey")[0] == 0
    assert tk("refresh", str(repo))[0] == 0
    code, doc, err = tkj("refresh", str(repo), "--role", "bins-*", "--expires", "bins-00=5d")
    assert code == 0, err
    changed = [r["role"] for r in doc["roles"]]
    assert changed[:32] == [f"bins-{i:02x}" for i in range(32)]
    assert changed[32:] == ["snapshot", "timestamp"]
    assert all(r["version"] == 2 for r in doc["roles"][:32])
    code, out, _ = tk("status", str(repo))
    assert code == 0
    assert "… and 32 more delegated role(s), all signed by threshold and unexpired" in out
    # 5 days from "now" at refresh time, whole seconds: 4 or 5 whole days left at status time
    assert re.search(r"warning: bins-00: expires in [45] day\(s\)", out), out
    code, _, err = tk("refresh", str(repo), "--role", "nothing-*")
    assert code == 2 and "no role of this repository matches 'nothing-*'" in err


def test_root_show_and_threshold_staging(tk, tkj, basic_repo):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    code, doc, _ = tkj("root", "show", str(repo))
    assert code == 0
    assert doc["version"] == 1 and doc["consistent_snapshot"] is False
    assert doc["roles"]["root"]["threshold"] == 2
    assert [k["name"] for k in doc["roles"]["root"]["keys"]] == ["alice", "bob", "carol"]
    # all three root keys are here: threshold 3 is staged and fully signed at once
    code, doc, err = tkj("root", "threshold", str(repo), "3", "--expires", "2y")
    assert code == 0, err
    assert doc["roles"][0]["version"] == 2 and doc["roles"][0]["verified"] is True
    code, doc, _ = tkj("root", "add-key", str(repo), "--key", "dave", "--no-sign")
    assert doc["roles"][0]["version"] == 3  # v2 was complete: a new version
    code, doc, _ = tkj("root", "remove-key", str(repo), "--key", ids["carol"][:10], "--no-sign")
    assert doc["roles"][0]["version"] == 3  # v3 unsigned: amended
    code, doc, _ = tkj("root", "show", str(repo))  # the published root: unchanged
    assert doc["version"] == 2
    assert [k["name"] for k in doc["roles"]["root"]["keys"]] == ["alice", "bob", "carol"]
    code, doc, _ = tkj("diff", str(repo))
    changes = [(c["kind"], c["subject"]) for c in doc["roles"][0]["changes"]]
    assert ("key-added", "root") in changes and ("key-removed", "root") in changes


def _foreign_repo(directory: Path) -> None:
    """A repository written by another tool: a wrong keyid and an unreachable threshold."""
    now = datetime.now(UTC).replace(microsecond=0)
    signer = CryptoSigner.generate_ed25519()
    pub = signer.public_key
    odd = SSlibKey("0" * 64, pub.keytype, pub.scheme, dict(pub.keyval))
    root = Root(expires=now + timedelta(days=200))
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.add_key(pub, role)
    root.keys[odd.keyid] = odd
    root.roles["targets"].keyids.append(odd.keyid)
    root.roles["targets"].threshold = 3
    mds = {
        "root": Metadata(root),
        "targets": Metadata(Targets(expires=now + timedelta(days=100))),
        "snapshot": Metadata(Snapshot(expires=now + timedelta(days=7))),
        "timestamp": Metadata(
            Timestamp(expires=now + timedelta(days=1), snapshot_meta=MetaFile(1))
        ),
    }
    directory.mkdir()
    for name, md in mds.items():
        md.sign(signer)
        md.to_file(str(directory / f"{name}.json"), JSONSerializer())
    (directory / "1.root.json").write_bytes((directory / "root.json").read_bytes())


def test_status_of_a_foreign_repository(tkj, home, tmp_path):  # type: ignore[no-untyped-def]
    repo = tmp_path / "foreign"
    _foreign_repo(repo)
    code, doc, err = tkj("status", str(repo))
    assert code == 1, err
    warnings = [w["message"] for w in doc["warnings"]]
    assert "targets: threshold 3 > its 2 key(s)" in warnings
    assert f"keyid {'0' * 16}… is not the sha256 of its key (some clients reject it)" in warnings
    assert any("shared by online role(s) snapshot, timestamp" in w for w in warnings)
    assert "threshold-above-keys" in [w["code"] for w in doc["warnings"]]
    targets = doc["roles"][1]
    assert targets["signatures"][0]["threshold"] == 3 and targets["ok"] is False
