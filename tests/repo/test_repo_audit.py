"""Acceptance audit of issues 3 and 10: gaps found by trying the workflow as a user.

A root N+1 that travels (a staged file signed on other machines) comes back through
``merge``; a copy dropped over published files makes status and verify agree it is
invalid; python-tuf's client accepts the published result.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from repo_oracle import fetch_target

pytestmark = pytest.mark.interop


def _sigs(path: Path) -> set[str]:
    return {s["keyid"] for s in json.loads(path.read_bytes())["signatures"]}


def _stage_travelling_root(tk, repo: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Stage root v2 unsigned, sign a copy elsewhere (alice, bob)."""
    code, _, err = tk("root", "threshold", str(repo), "3", "--no-sign")
    assert code == 0, err
    travel = tmp_path / "usb"
    travel.mkdir()
    shutil.copy(repo / "staged" / "root.json", travel / "2.root.json")
    shutil.copy(repo / "1.root.json", travel / "1.root.json")
    for holder in ("alice", "bob"):
        code, _, err = tk("sign", str(travel / "2.root.json"), "--key", holder)
        assert code == 0, err
    return travel


def test_a_copy_put_over_published_files_makes_status_and_verify_agree(  # type: ignore[no-untyped-def]
    tk, tkj, basic_repo, tmp_path
) -> None:
    """The old README mistake: a signed copy dropped beside root.json. Both say invalid."""
    repo, _ = basic_repo
    _stage_travelling_root(tk, repo, tmp_path)
    one = json.loads((repo / "1.root.json").read_bytes())
    one["signatures"] = one["signatures"][:1]  # a copy of v1 with fewer signatures
    (repo / "1.root.json").write_text(json.dumps(one))
    code, doc, _ = tkj("status", str(repo))
    assert code == 1
    assert [p["code"] for p in doc["problems"]] == ["twins-differ"]
    assert tk("verify", str(repo))[0] == 1
    assert tk("pin", "export", "--from", str(repo), "--format", "tuf")[0] != 0


def test_travelled_copy_merges_back_and_publishes(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    travel = _stage_travelling_root(tk, repo, tmp_path)
    code, doc, err = tkj("merge", str(repo), str(travel / "2.root.json"))
    assert code == 0, err
    assert {k["name"] for k in doc["files"][0]["added"]} == {"alice", "bob"}
    code, doc, err = tkj("sign", str(repo / "staged" / "root.json"), "--key", "carol")
    assert code == 0, err
    assert doc["verified"] is True
    assert [c["valid_signatures"] for c in doc["checks"]] == [3, 3]
    assert _sigs(repo / "staged" / "root.json") == {ids["alice"], ids["bob"], ids["carol"]}
    assert tk("publish", str(repo))[0] == 0
    code, doc, err = tkj("status", str(repo))
    assert code == 0, err
    # python-tuf's client, trusting root v1, rotates to v2 and downloads a target
    base = tmp_path / "files"
    base.mkdir()
    (base / "a.txt").write_bytes(b"after rotation")
    code, _, err = tk("targets", "add", str(repo), str(base / "a.txt"), "--base", str(base))
    assert code == 0, err
    assert fetch_target(repo, tmp_path / "client", "a.txt", base) == b"after rotation"


def test_signing_a_travelling_delegated_role_names_the_problem(tk, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    code, _, err = tk("delegation", "add", str(repo), "team", "--key", "dele", "--paths", "t/*")
    assert code == 0, err
    travel = tmp_path / "usb"
    travel.mkdir()
    shutil.copy(repo / "team.json", travel / "team.json")
    before = (travel / "team.json").read_bytes()
    code, out, err = tk("sign", str(travel / "team.json"), "--key", "dele")
    assert code == 2 and out == ""
    assert f"{travel / 'team.json'}: role 'team' is delegated; sign it inside a copy" in err
    assert "Traceback" not in err
    assert (travel / "team.json").read_bytes() == before


def test_hash_prefix_delegation_routes_targets_for_python_tuf(tk, tkj, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    """``delegation add --hash-prefixes``: the target goes to the role whose prefix matches."""
    import hashlib

    repo, _ = basic_repo
    base = tmp_path / "files"
    base.mkdir()
    names = ["a.bin", "b.bin"]
    for n in names:
        (base / n).write_bytes(n.encode())
    prefix = hashlib.sha256(b"a.bin").hexdigest()[:2]
    assert not hashlib.sha256(b"b.bin").hexdigest().startswith(prefix)
    code, _, err = tk("delegation", "add", str(repo), "hp", "--key", "dele",
                      "--hash-prefixes", prefix)  # fmt: skip
    assert code == 0, err
    code, doc, err = tkj("targets", "add", str(repo), *[str(base / n) for n in names],
                         "--base", str(base))  # fmt: skip
    assert code == 0, err
    assert doc["placed"] == {"hp": ["a.bin"], "targets": ["b.bin"]}
    assert tk("refresh", str(repo))[0] == 0
    assert fetch_target(repo, tmp_path / "c1", "a.bin", base) == b"a.bin"
    assert fetch_target(repo, tmp_path / "c2", "b.bin", base) == b"b.bin"
    hp = json.loads((repo / "hp.json").read_bytes())["signed"]["targets"]
    assert list(hp) == ["a.bin"]


def test_a_root_dropped_into_the_directory_is_judged_as_clients_do(  # type: ignore[no-untyped-def]
    tk, tkj, basic_repo, tmp_path
) -> None:
    """N+1.root.json copied in by hand: status follows it like python-tuf, as verify does."""
    from repo_oracle import updater
    from tuf.api.exceptions import UnsignedMetadataError

    repo, _ = basic_repo
    travel = _stage_travelling_root(tk, repo, tmp_path)  # alice and bob of 3 for root v2
    shutil.copy(travel / "2.root.json", repo / "2.root.json")  # under-signed: 2 of 3
    code, doc, _ = tkj("status", str(repo))
    assert code == 1
    assert [(p["code"], p["values"]["version"]) for p in doc["problems"]] == [
        ("root-chain-broken", 2)
    ]
    assert tk("verify", str(repo))[0] == 1
    up, _ = updater(repo, tmp_path / "client-a")
    with pytest.raises(UnsignedMetadataError):
        up.refresh()

    assert tk("sign", str(travel / "2.root.json"), "--key", "carol")[0] == 0
    shutil.copy(travel / "2.root.json", repo / "2.root.json")  # now 3 of 3 (and 2 of 2 old)
    code, doc, err = tkj("status", str(repo))
    assert code == 0, err
    assert doc["roles"][0]["version"] == 2  # what a client now trusts
    assert tk("verify", str(repo))[0] == 0
    up, _ = updater(repo, tmp_path / "client-b")
    up.refresh()
    assert up._trusted_set.root.version == 2


@pytest.mark.parametrize("damage", ["missing", "unsigned"])
def test_status_walks_the_whole_root_chain_like_verify(tk, tkj, basic_repo, damage) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    for _ in range(2):  # every root key is here: root v2, then v3, published at once
        assert tk("root", "expire", str(repo))[0] == 0
    assert tk("status", str(repo))[0] == 0 and tk("verify", str(repo))[0] == 0
    middle = repo / "2.root.json"
    if damage == "missing":
        middle.unlink()
    else:
        doc = json.loads(middle.read_bytes())
        doc["signatures"] = []
        middle.write_text(json.dumps(doc))
    code, doc, _ = tkj("status", str(repo))
    assert code == 1
    (problem,) = doc["problems"]
    assert problem["code"] == "root-chain-broken"
    assert problem["values"] == {
        "version": 2, "file": "2.root.json", "missing": damage == "missing"
    }  # fmt: skip
    assert tk("verify", str(repo))[0] == 1
