"""``delegation add-key / remove-key / threshold``: the keys of a delegated role, checked
by python-tuf's ``Updater`` fetching a target through the role after each change."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from repo_oracle import fetch_target
from tuf.api.metadata import Metadata, Targets

pytestmark = pytest.mark.interop


def _tree(repo: Path) -> str:
    """sha256 over every file under ``repo`` (names and bytes)."""
    h = hashlib.sha256()
    for p in sorted(repo.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(repo)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _apps(repo: Path) -> tuple[list[str], int, list[str]]:
    """(keyids, threshold, keys targets lists) of the ``apps`` delegation as published."""
    targets = Metadata[Targets].from_file(str(repo / "targets.json")).signed
    assert targets.delegations is not None and targets.delegations.roles is not None
    role = targets.delegations.roles["apps"]
    return list(role.keyids), role.threshold, sorted(targets.delegations.keys)


def _delegate_apps(tk, repo: Path, base: Path) -> None:  # type: ignore[no-untyped-def]
    assert tk("delegation", "add", str(repo), "apps", "--key", "dele", "--paths", "apps/*")[0] == 0
    (base / "apps").mkdir(parents=True)
    (base / "apps" / "a.bin").write_bytes(b"app bytes")
    code, _, err = tk(
        "targets", "add", str(repo), str(base / "apps" / "a.bin"), "--base", str(base)
    )
    assert code == 0, err


def test_add_key_raise_threshold_remove_key(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    base = tmp_path / "files"
    _delegate_apps(tk, repo, base)
    version = Metadata[Targets].from_file(str(repo / "apps.json")).signed.version

    code, doc, err = tkj("delegation", "add-key", str(repo), "apps", "--key", "erin",
                         "--threshold", "2")  # fmt: skip
    assert code == 0, err
    assert doc["schema"] == 1
    assert _apps(repo)[:2] == ([ids["dele"], ids["erin"]], 2)
    apps = Metadata[Targets].from_file(str(repo / "apps.json"))
    assert apps.signed.version == version + 1  # re-signed: one signature no longer met 2 of 2
    assert sorted(apps.signatures) == sorted([ids["dele"], ids["erin"]])
    assert fetch_target(repo, tmp_path / "c1", "apps/a.bin", base) == b"app bytes"

    code, _, err = tk("delegation", "remove-key", str(repo), "apps", "--key", "dele",
                      "--threshold", "1")  # fmt: skip
    assert code == 0, err
    keyids, threshold, listed = _apps(repo)
    assert (keyids, threshold) == ([ids["erin"]], 1)
    assert ids["dele"] not in listed  # no other role uses it: gone from targets' keys
    assert Metadata[Targets].from_file(str(repo / "apps.json")).signed.version == version + 1
    assert fetch_target(repo, tmp_path / "c2", "apps/a.bin", base) == b"app bytes"

    code, _, err = tk("delegation", "add-key", str(repo), "apps", "--key", "frank")
    assert code == 0, err
    code, _, err = tk("delegation", "threshold", str(repo), "apps", "2")
    assert code == 0, err
    assert _apps(repo)[:2] == ([ids["erin"], ids["frank"]], 2)
    assert fetch_target(repo, tmp_path / "c3", "apps/a.bin", base) == b"app bytes"
    code, out, _ = tk("verify", str(repo), "--root", str(repo / "1.root.json"))
    assert code == 0, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remove-key", "apps", "--key", "dele"], "threshold 1 is larger than its 0 key(s)"),
        (["remove-key", "apps", "--key", "erin"], "key 'erin' names none"),
        (["add-key", "apps", "--key", "dele"], "is already one of its keys"),
        (["add-key", "apps", "--key", "nosuchkey"], "nosuchkey"),
        (["threshold", "apps", "2"], "threshold 2 is larger than its 1 key(s)"),
        (["threshold", "apps", "0"], "threshold 0 is below 1"),
        (["threshold", "apps", "1"], "nothing changes"),
        (["threshold", "nobody", "1"], "role 'nobody' is not delegated by any role"),
        (["threshold", "targets", "2"], "'targets' is a top-level role: root holds its keys"),
        (
            ["add-key", "bins-*", "--key", "erin"],
            "no role delegates to succinct hashed bins 'bins-*'",
        ),
    ],
)
def test_bad_key_changes_exit_2_and_change_nothing(tk, basic_repo, tmp_path, argv, message):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    _delegate_apps(tk, repo, tmp_path / "files")
    before = _tree(repo)
    code, out, err = tk("delegation", argv[0], str(repo), *argv[1:])
    assert code == 2, out + err
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2
    assert _tree(repo) == before


def test_succinct_bins_change_keys_together(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    assert tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")[0] == 0
    code, _, err = tk("delegation", "add-key", str(repo), "bins-5", "--key", "erin")
    assert code == 2 and "with the name 'bins-*'" in err
    code, _, err = tk("delegation", "add-key", str(repo), "bins-*", "--key", "erin",
                      "--threshold", "2")  # fmt: skip
    assert code == 0, err
    code, doc, _ = tkj("delegation", "list", str(repo))
    (bins,) = doc["delegations"]
    assert [k["keyid"] for k in bins["keys"]] == [ids["binkey"], ids["erin"]]
    assert bins["threshold"] == 2
    for n in (0, 15):
        md = json.loads((repo / f"bins-{n:x}.json").read_text())
        assert md["signed"]["version"] == 2
        assert {s["keyid"] for s in md["signatures"]} == {ids["binkey"], ids["erin"]}
    code, out, _ = tk("verify", str(repo), "--root", str(repo / "1.root.json"))
    assert code == 0, out

    code, _, err = tk("delegation", "remove", str(repo), "bins-3")
    assert code == 2 and "remove all the bins of 'targets' with the name 'bins-*'" in err
    code, _, err = tk("delegation", "remove", str(repo), "bins-*")
    assert code == 0, err
    code, doc, _ = tkj("delegation", "list", str(repo))
    assert doc["delegations"] == []
    targets = Metadata[Targets].from_file(str(repo / "targets.json")).signed
    assert targets.delegations is None
    assert (repo / "bins-0.json").is_file()  # kept for history
    code, out, _ = tk("verify", str(repo), "--root", str(repo / "1.root.json"))
    assert code == 0, out
