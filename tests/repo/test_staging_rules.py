"""Issue 10: merge, publish, discard, diff, staged init, --stage, and the status rules."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from securesystemslib.signer import CryptoSigner, Signature

Tree = dict[str, bytes]


def _tree(root: Path) -> Tree:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _published(repo: Path) -> Tree:
    return {k: v for k, v in _tree(repo).items() if not k.startswith("staged")}


def _stage_root_v2(tk, repo: Path) -> Path:  # type: ignore[no-untyped-def]
    code, _, err = tk("root", "threshold", str(repo), "3", "--no-sign")
    assert code == 0, err
    return repo / "staged" / "root.json"


def _signed_copy(tk, staged: Path, dest: Path, *holders: str) -> Path:  # type: ignore[no-untyped-def]
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(staged, dest)
    for holder in holders:
        code, _, err = tk("sign", str(dest), "--key", holder)
        assert code == 0, err
    return dest


def _doc(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_bytes())  # type: ignore[no-any-return]


def _foreign(copy: Path) -> None:
    """A valid signature over the content, by a key the root does not list."""
    doc = _doc(copy)
    from tuf.api.metadata import Metadata

    md = Metadata.from_bytes(copy.read_bytes())
    signer = CryptoSigner.generate_ed25519()
    sig = signer.sign(md.signed_bytes)
    doc["signatures"].append(sig.to_dict())
    copy.write_text(json.dumps(doc))


def _forged(copy: Path) -> None:
    """alice's keyid over bytes that are not a signature of this content."""
    doc = _doc(copy)
    sig = Signature.from_dict(dict(doc["signatures"][0]))
    bad = bytearray(bytes.fromhex(sig.signature))
    bad[0] ^= 1
    doc["signatures"][0]["sig"] = bad.hex()
    copy.write_text(json.dumps(doc))


def _other_content(copy: Path) -> None:
    doc = _doc(copy)
    doc["signed"]["expires"] = "2031-01-01T00:00:00Z"
    copy.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_foreign, "which is not a key of role 'root'; nothing merged"),
        (_forged, "does not verify over the staged root; nothing merged"),
        (_other_content, "signed content differs from the staged root v2: expires root"),
    ],
    ids=["foreign-signature", "forged-signature", "other-content"],
)
def test_merge_refuses_and_writes_nothing(  # type: ignore[no-untyped-def]
    tk, basic_repo, tmp_path, mutate: Callable[[Path], None], message: str
) -> None:
    repo, _ = basic_repo
    staged = _stage_root_v2(tk, repo)
    good = _signed_copy(tk, staged, tmp_path / "bob" / "root.json", "bob")
    bad = _signed_copy(tk, staged, tmp_path / "alice" / "root.json", "alice")
    mutate(bad)
    before = _tree(repo)
    code, out, err = tk("merge", str(repo), str(good), str(bad))
    assert code == 1 and out == "", err
    assert message in err
    assert _tree(repo) == before  # all or nothing: bob's good copy is not merged either


def test_merge_is_idempotent_and_folds_parallel_copies(tk, tkj, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    staged = _stage_root_v2(tk, repo)
    a = _signed_copy(tk, staged, tmp_path / "a" / "root.json", "alice")
    b = _signed_copy(tk, staged, tmp_path / "b" / "root.json", "bob")
    code, doc, err = tkj("merge", str(repo), str(a), str(b))
    assert code == 0, err
    assert [[k["name"] for k in f["added"]] for f in doc["files"]] == [["alice"], ["bob"]]
    assert {s["keyid"] for s in _doc(staged)["signatures"]} == {ids["alice"], ids["bob"]}
    after = staged.read_bytes()
    code, doc, err = tkj("merge", str(repo), str(a), str(b))
    assert code == 0, err
    assert [f["added"] for f in doc["files"]] == [[], []]
    assert [[k["name"] for k in f["already"]] for f in doc["files"]] == [["alice"], ["bob"]]
    assert staged.read_bytes() == after
    assert doc["staged"][0]["waiting"] == ["carol"]


@pytest.mark.parametrize(
    ("setup", "argv", "code", "message"),
    [
        ("none", ("merge", "{repo}", "{repo}/root.json"), 2, "nothing is staged to merge"),
        ("root", ("merge", "{repo}", "{repo}/targets.json"), 2, "no staged change of role"),
        ("none", ("publish", "{repo}"), 2, "nothing is staged to publish"),
        ("root", ("publish", "{repo}"), 1, "3 more from: alice, bob, carol"),
        ("root", ("discard", "{repo}", "--role", "targets"), 2, "has no staged change"),
        ("root", ("diff", "{repo}", "--role", "targets"), 2, "has no staged change"),
        ("none", ("root", "threshold", "{repo}", "4"), 2, "threshold 4 is larger than its 3"),
    ],
)
def test_refusals_leave_the_repository_unchanged(  # type: ignore[no-untyped-def]
    tk, basic_repo, setup: str, argv: tuple[str, ...], code: int, message: str
) -> None:
    repo, _ = basic_repo
    if setup == "root":
        _stage_root_v2(tk, repo)
    before = _tree(repo)
    got, out, err = tk(*(a.format(repo=repo) for a in argv))
    assert got == code and out == "", err
    assert message in err
    assert _tree(repo) == before


def test_publish_refusal_names_who_must_sign_and_publishes_nothing(tk, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    staged = _stage_root_v2(tk, repo)
    assert tk("sign", str(staged), "--key", "alice")[0] == 0
    before = _published(repo)
    code, _, err = tk("publish", str(repo))
    assert code == 1
    assert "root v2: root v1 keys have 1 of 2 signatures; 1 more from: bob, carol" in err
    assert "root v2: root v2 keys have 1 of 3 signatures; 2 more from: bob, carol" in err
    assert _published(repo) == before
    for holder in ("bob", "carol"):
        assert tk("sign", str(staged), "--key", holder)[0] == 0
    assert tk("publish", str(repo))[0] == 0
    assert _doc(repo / "root.json")["signed"]["version"] == 2
    assert not (repo / "staged").exists()


def test_discard_drops_staged_changes_only(tk, tkj, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    published = _published(repo)
    _stage_root_v2(tk, repo)
    target = tmp_path / "a.txt"
    target.write_bytes(b"a")
    code, doc, err = tkj("targets", "add", str(repo), str(target), "--base", str(tmp_path))
    assert code == 0 and doc["published"] is False, err  # the staging area was not empty
    assert sorted(p.name for p in (repo / "staged").iterdir()) == ["root.json", "targets.json"]
    code, doc, _ = tkj("discard", str(repo), "--role", "targets")
    assert code == 0 and doc["discarded"] == ["targets"]
    code, doc, _ = tkj("discard", str(repo))
    assert code == 0 and doc["discarded"] == ["root"]
    assert not (repo / "staged").exists()
    assert _published(repo) == published
    code, doc, _ = tkj("discard", str(repo))
    assert code == 0 and doc["discarded"] == []


def test_stage_forces_staging_and_diff_shows_the_change(tk, tkj, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    published = _published(repo)
    base = tmp_path / "files"
    base.mkdir()
    (base / "new.txt").write_bytes(b"new")
    code, doc, err = tkj("targets", "add", str(repo), str(base / "new.txt"), "--base", str(base),
                         "--stage")  # fmt: skip
    assert code == 0 and doc["published"] is False, err
    code, doc, err = tkj("delegation", "add", str(repo), "team", "--key", "dele", "--threshold",
                         "1", "--paths", "team/*", "--stage")  # fmt: skip
    assert code == 0, err
    assert _published(repo) == published  # every key is here, yet nothing is published
    code, doc, err = tkj("diff", str(repo))
    assert code == 0, err
    by_role = {d["role"]: d for d in doc["roles"]}
    assert by_role["targets"]["published_version"] == 1
    kinds = {(c["kind"], c["subject"]) for c in by_role["targets"]["changes"]}
    assert {("target-added", "new.txt"), ("delegation-added", "team")} <= kinds
    assert ("key-added", "team") in kinds and ("threshold", "team") in kinds
    assert by_role["team"]["published_version"] is None
    code, out, _ = tk("diff", str(repo), "--role", "targets")
    assert "+ target new.txt (3 bytes)" in out and "+ delegation to team (team/*)" in out
    assert f"+ key dele ({ids['dele'][:8]}) added to team" in out
    code, _, err = tk("publish", str(repo))
    assert code == 0, err
    assert _doc(repo / "timestamp.json")["signed"]["version"] == 2
    assert _doc(repo / "snapshot.json")["signed"]["meta"]["team.json"]["version"] == 1


def test_repo_init_stage_then_publish(tk, tkj, make_keys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    make_keys("root1", "online")
    repo = tmp_path / "repo"
    argv = ("repo", "init", str(repo), "--root-key", "root1", "--targets-key", "online",
            "--snapshot-key", "online", "--timestamp-key", "online")  # fmt: skip
    code, doc, err = tkj(*argv, "--stage")
    assert code == 0 and doc["published"] is False, err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]
    code, _, err = tk(*argv)
    assert code == 2 and "a new repository is already staged here" in err
    assert tk("publish", str(repo))[0] == 0
    assert {"root.json", "1.root.json", "timestamp.json"} <= {p.name for p in repo.iterdir()}
    assert tk("status", str(repo))[0] == 0 and tk("verify", str(repo))[0] == 0


def test_threshold_guard(tk, tkj, make_keys, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    code, doc, err = tkj("root", "threshold", str(repo), "3", "--stage")
    assert code == 0, err
    assert "warning: root: threshold 3 equals its 3 key(s): one lost key means a new root" in err
    assert [(w["code"], w["role"]) for w in doc["warnings"]] == [("threshold-equals-keys", "root")]
    code, _, err = tk("root", "threshold", str(repo), "2", "--stage")
    assert code == 0 and "one lost key" not in err
    make_keys("root1", "online")
    code, _, err = tk("repo", "init", str(tmp_path / "r2"), "--root-key", "root1",
                      "--root-threshold", "2", "--targets-key", "online", "--snapshot-key",
                      "online", "--timestamp-key", "online")  # fmt: skip
    assert code == 2 and "threshold 2 is larger than its 1 key(s)" in err
    assert not (tmp_path / "r2").exists()


def test_status_shows_hours_under_a_day(tkj, tk, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    assert tk("timestamp", str(repo), "--expires", "23h")[0] == 0
    code, out, _ = tk("status", str(repo))
    assert code == 0
    ts = next(line for line in out.splitlines() if line.startswith("timestamp"))
    assert re.search(r" 2[23]h  1/1$", ts), ts  # under a day: hours, not "DAYS 0"
    assert tk("timestamp", str(repo), "--expires", "5h")[0] == 0
    code, doc, _ = tkj("status", str(repo))
    ts_doc = doc["roles"][-1]
    hours = ts_doc["hours_left"]  # 4, or 5 when status ran within the same second
    assert ts_doc["days_left"] == 0 and hours in (4, 5)
    assert [(w["code"], w["values"]["hours_left"]) for w in ts_doc["warnings"]] == [
        ("expires-soon", hours)
    ]
    assert f"timestamp: expires in {hours} hour(s), on " in ts_doc["warnings"][0]["message"]


def test_status_groups_bins_and_all_expands(tk, tkj, make_keys, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    code, _, err = tk("delegation", "bins", str(repo), "--count", "32", "--key", "binkey",
                      "--expires", "3d")  # fmt: skip
    assert code == 0, err
    code, out, _ = tk("status", str(repo))
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len([line for line in lines if "bins-" in line]) == 1
    grouped = r"^warning: 32 roles \(bins-00 … bins-1f\): expires in [23] day\(s\)"
    assert any(re.match(grouped, line) for line in lines), out
    assert "… and 32 more delegated role(s)" in out  # collapsed rows
    assert not any(line.startswith("bins-") for line in out.splitlines())
    code, out, _ = tk("status", str(repo), "--all")
    assert len([line for line in out.splitlines() if line.startswith("warning: bins-")]) == 32
    assert len([line for line in out.splitlines() if line.startswith("bins-")]) == 32
    code, doc, _ = tkj("status", str(repo), "--role", "bins-0*")
    assert [r["role"] for r in doc["roles"]] == [f"bins-0{i:x}" for i in range(16)]


def test_verify_summarises_groups_of_bins(tk, make_keys, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey",
                      "--expires", "3d")  # fmt: skip
    assert code == 0, err
    code, out, _ = tk("verify", str(repo))
    assert code == 0
    assert "✓ 16 bins bins-0 … bins-f v1: 16 valid, 0 invalid" in out
    assert not any(line.strip().startswith("└─ ✓ bins-") for line in out.splitlines())
    # a week on, the bins have expired: one finding line for the group, not sixteen
    code, out, _ = tk("verify", str(repo), "--at", "2099-01-01T00:00:00Z")
    assert code == 1
    lines = [line for line in out.splitlines() if "bins-" in line and "expired" in line]
    assert len(lines) == 1 and "[16 bins bins-0 … bins-f]" in lines[0], out
    assert "(and 15 alike)" in lines[0]


def test_service_api_staged_sign_staged_publish(service, basic_repo) -> None:  # type: ignore[no-untyped-def]
    """The shape the TUI's signing queue sits on: staged(), sign_staged(), publish()."""
    import hashlib

    from tuf.api.metadata import Metadata

    from trustkeep.errors import TrustFailure

    repo, _ = basic_repo
    result = service.repo.root_threshold(repo, 3, sign=False)
    assert result.published is False
    (staged,) = service.staging.staged(repo)
    assert (staged.role, staged.version, staged.complete) == ("root", 2, False)
    assert staged.path == repo / "staged" / "root.json"
    md = Metadata.from_bytes(staged.path.read_bytes())
    assert staged.sha256 == hashlib.sha256(md.signed_bytes).hexdigest()
    assert [c.label for c in staged.checks] == ["root v1 keys", "root v2 keys"]
    assert staged.waiting == ("alice", "bob", "carol")
    with pytest.raises(TrustFailure, match="3 more from: alice, bob, carol"):
        service.repo.publish(repo)
    for holder in ("alice", "bob", "carol"):
        assert service.repo.sign_staged(repo, "root", holder).already_signed is False
    assert service.repo.sign_staged(repo, "root", "carol").already_signed is True
    (staged,) = service.repo.staged(repo)
    assert staged.complete and staged.waiting == ()
    published = service.repo.publish(repo)
    assert [c.role for c in published.changes] == ["root"]
    assert service.repo.staged(repo) == []
    st = service.repo.status(repo)
    assert st.ok and st.staged == () and st.roles[0].version == 2


def test_a_lone_copy_in_a_folder_named_staged_is_a_travelled_copy(tk, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    staged = _stage_root_v2(tk, repo)
    lone = _signed_copy(tk, staged, tmp_path / "usb" / "staged" / "root.json")
    code, out, err = tk("sign", str(lone), "--key", "alice")
    assert code == 0, err
    assert "root v1 keys: threshold not checked (1.root.json is not beside root.json)" in out
    assert "root v2 keys: 1 of 3" in out


def test_new_repository_with_online_keys_elsewhere(tk, run_cli, home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Snapshot and timestamp holders sign copies; a timestamp made over the unsigned
    snapshot is made again at publish, for its holder to sign."""
    from repo_oracle import updater

    online = tmp_path / "online-home"
    shutil.copytree(home, online)
    for name in ("snap", "ts"):
        pub = tmp_path / f"{name}.pub"
        assert tk("key", "export-public", name, "-o", str(pub))[0] == 0
        assert tk("key", "remove", name, "--yes")[0] == 0
        assert tk("key", "import", str(pub), "--name", name)[0] == 0
    repo = tmp_path / "repo"
    code, _, err = tk("repo", "init", str(repo), "--root-key", "alice", "--targets-key", "tgt",
                      "--snapshot-key", "snap", "--timestamp-key", "ts")  # fmt: skip
    assert code == 0 and "timestamp v1 needs more signatures" in err

    def online_signs(*roles: str) -> list[str]:
        copy = tmp_path / f"copy-{'-'.join(roles)}"
        shutil.copytree(repo, copy)
        for role in roles:
            file = copy / "staged" / f"{role}.json"
            key = {"snapshot": "snap", "timestamp": "ts"}[role]
            code, _, err = run_cli("--home", str(online), "sign", str(file), "--key", key)
            assert code == 0, err
        return [str(copy / "staged" / f"{r}.json") for r in roles]

    assert tk("merge", str(repo), *online_signs("timestamp", "snapshot"))[0] == 0
    code, _, err = tk("publish", str(repo))
    assert code == 1 and "made again over the signed snapshot" in err and "more from: ts" in err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]
    assert tk("merge", str(repo), *online_signs("timestamp"))[0] == 0
    code, _, err = tk("publish", str(repo))
    assert code == 0, err
    assert tk("status", str(repo))[0] == 0 and tk("verify", str(repo))[0] == 0
    up, _ = updater(repo, tmp_path / "client")
    up.refresh()


def test_merge_finds_a_renamed_targets_copy_by_content(tk, tkj, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    (tmp_path / "a.txt").write_bytes(b"a")
    code, _, err = tk("targets", "add", str(repo), str(tmp_path / "a.txt"), "--base",
                      str(tmp_path), "--no-sign")  # fmt: skip
    assert code == 0, err
    usb = tmp_path / "usb"
    usb.mkdir()
    shutil.copy(repo / "staged" / "targets.json", usb / "targets.json")
    shutil.copy(repo / "root.json", usb / "root.json")
    assert tk("sign", str(usb / "targets.json"), "--key", "tgt")[0] == 0
    renamed = usb / "targets-signed-by-tgt.json"
    (usb / "targets.json").rename(renamed)
    code, doc, err = tkj("merge", str(repo), str(renamed))
    assert code == 0, err
    assert doc["files"][0]["role"] == "targets"
    assert [k["keyid"] for k in doc["files"][0]["added"]] == [ids["tgt"]]
    code, doc, _ = tkj("diff", str(repo))
    assert [(c["kind"], c["subject"]) for c in doc["roles"][0]["changes"]][-1] == (
        "target-added",
        "a.txt",
    )
    assert tk("publish", str(repo))[0] == 0


def test_diff_of_a_new_repository_lists_every_key(tkj, make_keys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ids = make_keys("root1", "online")
    repo = tmp_path / "repo"
    code, _, err = tkj("repo", "init", str(repo), "--root-key", "root1", "--targets-key",
                       "online", "--snapshot-key", "online", "--timestamp-key", "online",
                       "--stage")  # fmt: skip
    assert code == 0, err
    code, doc, _ = tkj("diff", str(repo), "--role", "root")
    (root,) = doc["roles"]
    assert root["published_version"] is None and root["staged_version"] == 1
    changes = {(c["kind"], c["subject"], c["new"]) for c in root["changes"]}
    assert ("new-role", "root", 1) in changes
    assert ("key-added", "root", ids["root1"]) in changes
    assert ("key-added", "timestamp", ids["online"]) in changes
    assert ("threshold", "root", 1) in changes
