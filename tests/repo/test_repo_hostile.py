"""Hostile and bad input: role names, thresholds, files that are not TUF, foreign keys.

Every refusal is a one-line error with exit 2 and nothing changed on disk.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from repo_oracle import fetch_target

pytestmark = pytest.mark.interop


def _snapshot_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


HOSTILE_NAMES = ["/abs/olute", "a/b/c", "ünïcødé-rôle", "x%2F..%2F..", "%2F.."]
#: refused for new delegations (exit 2): a leading '.', or a '..' segment
REFUSED_NAMES = ["../../etc/evil", "..x", ".hidden", "a/../b", "a/.."]


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_dot_and_dotdot_role_names_are_refused(tk, basic_repo, name):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _snapshot_tree(repo)
    code, out, err = tk("delegation", "add", str(repo), name, "--key", "dele", "--paths", "d/*")
    assert code == 2 and out == "", err
    assert f"role name {name!r}" in err
    assert _snapshot_tree(repo) == before


def test_hostile_role_names_never_write_outside_dir(tk, basic_repo, make_keys, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("dele")
    outside_before = {p for p in tmp_path.rglob("*") if repo not in p.parents and p != repo}
    for i, name in enumerate(HOSTILE_NAMES):
        code, _, err = tk(
            "delegation", "add", str(repo), name, "--key", "dele", "--paths", f"d{i}/*"
        )
        assert code == 0, err
    outside_after = {p for p in tmp_path.rglob("*") if repo not in p.parents and p != repo}
    assert outside_after == outside_before
    assert all(p.parent == repo for p in repo.rglob("*"))  # no subdirectory either
    names = sorted(p.name for p in repo.iterdir())
    assert "x%252F..%252F...json" in names
    assert "%2Fabs%2Folute.json" in names
    assert "a%2Fb%2Fc.json" in names
    assert "%C3%BCn%C3%AFc%C3%B8d%C3%A9-r%C3%B4le.json" in names
    assert "%252F...json" in names

    # python-tuf's client finds targets through these roles
    base = tmp_path / "files"
    (base / "d0").mkdir(parents=True)
    (base / "d2").mkdir(parents=True)
    (base / "d0" / "x.bin").write_bytes(b"zero")
    (base / "d2" / "y.bin").write_bytes(b"two")
    code, out, err = tk(
        "targets", "add", str(repo), str(base / "d0/x.bin"), str(base / "d2/y.bin"),
        "--base", str(base),
    )  # fmt: skip
    assert code == 0, err
    assert "'/abs/olute'" in out and "'ünïcødé-rôle'" in out
    assert fetch_target(repo, tmp_path / "c1", "d0/x.bin", base) == b"zero"
    assert fetch_target(repo, tmp_path / "c2", "d2/y.bin", base) == b"two"
    code, out, err = tk("status", str(repo))
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\x00b", "contains NUL or control characters"),
        ("bad\nname", "contains NUL or control characters"),
        ("root", "is a top-level role name"),
        ("targets", "is a top-level role name"),
        ("..", "starts with '.'"),
        (".", "starts with '.'"),
        ("x" * 300, "longer than 255 characters"),
        ("é" * 100, "too long for a file name once quoted"),
    ],
)
def test_refused_role_names(tk, basic_repo, name, message):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _snapshot_tree(repo)
    code, out, err = tk("delegation", "add", str(repo), name, "--key", "tgt", "--paths", "*")
    assert code == 2
    assert out == ""
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
    assert _snapshot_tree(repo) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["root", "threshold", "{repo}", "0"], "role 'root': threshold 0 is below 1"),
        (["root", "threshold", "{repo}", "4"], "threshold 4 is larger than its 3 key(s)"),
        (["root", "threshold", "{repo}", "2", "--role", "timestamp"], "larger than its 1 key"),
        (["root", "remove-key", "{repo}", "--key", "alice,bob"], "removing leaves 1 key(s)"),
        (["root", "add-key", "{repo}", "--key", "alice"], "is already one of its keys"),
        (["root", "rotate", "{repo}", "--old", "tgt", "--new", "snap"], "is not one of its keys"),
        (
            [
                "delegation",
                "add",
                "{repo}",
                "team",
                "--key",
                "tgt",
                "--threshold",
                "2",
                "--paths",
                "*",
            ],
            "role 'team': threshold 2 is larger than its 1 key(s)",
        ),
        (["delegation", "add", "{repo}", "team", "--key", "tgt"], "give either --paths or"),
        (
            ["delegation", "add", "{repo}", "team", "--key", "tgt", "--hash-prefixes", "XYZ"],
            "bad hash prefix 'XYZ'",
        ),
        (["delegation", "bins", "{repo}", "--count", "100", "--key", "tgt"], "a power of two"),
        (["delegation", "bins", "{repo}", "--count", "8", "--key", "tgt"], "a power of two"),
        (["delegation", "remove", "{repo}", "nobody"], "'nobody' is not delegated"),
        (["targets", "remove", "{repo}", "nothing.txt"], "'nothing.txt' is not listed"),
        (["refresh", "{repo}", "--role", "nobody"], "role 'nobody' is not in this repository"),
        (["root", "expire", "{repo}", "--expires", "2001-01-01"], "is not in the future"),
        (["root", "expire", "{repo}", "--expires", "soon"], "bad expiry 'soon'"),
        (["root", "add-key", "{repo}", "--key", "nokey"], "unknown key 'nokey'"),
        (["root", "add-key", "{repo}", "--key", "./missing.pem"], "no such public key file"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(tk, basic_repo, argv, message):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _snapshot_tree(repo)
    code, out, err = tk(*[a.format(repo=repo) for a in argv])
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err and out == ""
    assert _snapshot_tree(repo) == before


def test_init_refuses_bad_thresholds_and_existing_repo(tk, make_keys, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    fresh = tmp_path / "fresh"
    code, _, err = tk(
        "repo", "init", str(fresh), "--root-key", "alice,bob", "--root-threshold", "3",
        "--targets-key", "tgt", "--snapshot-key", "snap", "--timestamp-key", "ts",
    )  # fmt: skip
    assert code == 2
    assert "role 'root': threshold 3 is larger than its 2 key(s)" in err
    assert not fresh.exists()
    code, _, err = tk(
        "repo", "init", str(repo), "--root-key", "alice", "--targets-key", "tgt",
        "--snapshot-key", "snap", "--timestamp-key", "ts",
    )  # fmt: skip
    assert code == 2 and "already holds a repository" in err
    code, _, err = tk(
        "repo", "init", str(fresh), "--root-key", "alice,alice", "--targets-key", "tgt",
        "--snapshot-key", "snap", "--timestamp-key", "ts",
    )  # fmt: skip
    assert code == 2 and "given more than once" in err
    code, _, err = tk(
        "repo", "init", str(fresh), "--root-key", "alice", "--targets-key", "tgt",
        "--snapshot-key", "snap", "--timestamp-key", "ts", "--expires", "root=1d,bogus=2d",
    )  # fmt: skip
    assert code == 2 and "unknown role 'bogus'" in err
    assert not fresh.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "not valid TUF metadata"),
        (b'{"signed": {}, "signatures": []}', "not valid TUF metadata"),
        (b'{"signed": {"_type": "root"}, "signatures": []}', "not valid TUF metadata"),
        (b"\xff\xfe\x00garbage", "not valid TUF metadata"),
    ],
)
def test_sign_refuses_files_that_are_not_tuf(tk, basic_repo, content, message):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    bad = repo / "incoming.json"
    bad.write_bytes(content)
    code, out, err = tk("sign", str(bad), "--key", "alice")
    assert code == 2
    assert f"{bad}: {message}" in err and out == ""
    assert bad.read_bytes() == content


def test_sign_refuses_a_key_the_role_does_not_trust(tk, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    travel = tmp_path / "usb"
    travel.mkdir()
    for name in ("targets.json", "root.json"):
        (travel / name).write_bytes((repo / name).read_bytes())
    before = _snapshot_tree(travel)
    code, _, err = tk("sign", str(travel / "targets.json"), "--key", "alice")
    assert code == 2
    assert "is not a key of role 'targets' (per root.json)" in err
    assert "left unchanged" in err
    assert _snapshot_tree(travel) == before


def test_sign_never_writes_published_files(tk, basic_repo):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _snapshot_tree(repo)
    for name in ("root.json", "1.root.json", "targets.json", "snapshot.json"):
        code, out, err = tk("sign", str(repo / name), "--key", "bob")
        assert code == 2 and out == ""
        assert "is published metadata (clients read it)" in err
    assert _snapshot_tree(repo) == before


def test_sign_keeps_existing_signatures(tkj, basic_repo):  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    code, _, err = tkj("root", "expire", str(repo), "--stage")
    assert code == 0, err
    staged = repo / "staged" / "root.json"
    before = json.loads(staged.read_bytes())["signatures"]
    assert {s["keyid"] for s in before} == {ids["alice"], ids["bob"], ids["carol"]}
    code, doc, err = tkj("sign", str(staged), "--key", "bob")
    assert code == 0, err
    assert doc["already_signed"] is True
    assert json.loads(staged.read_bytes())["signatures"] == before
    assert doc["checks"][0]["valid_signatures"] == 3


def test_corrupt_repository_file_is_an_input_error(tk, basic_repo):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    (repo / "snapshot.json").write_bytes(b'{"signed": 1}')
    code, _, err = tk("status", str(repo))
    assert code == 2
    assert f"{repo / 'snapshot.json'}: not valid TUF metadata" in err
    (repo / "snapshot.json").write_bytes((repo / "targets.json").read_bytes())
    code, _, err = tk("status", str(repo))
    assert code == 2 and "holds targets metadata, expected snapshot" in err


def test_holders_elsewhere_public_key_files_and_travelling_root(
    tk, tkj, run_cli, make_keys, tmp_path
):  # type: ignore[no-untyped-def]
    """Root 2-of-2: alice here, zoe elsewhere (PEM public key); targets key as TUF JSON."""
    make_keys("alice", "online")
    zoe_private = ec.generate_private_key(ec.SECP256R1())
    zoe_pub = tmp_path / "zoe.pub.pem"
    zoe_pub.write_bytes(
        zoe_private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    tgt_private = ed25519.Ed25519PrivateKey.generate()
    raw = tgt_private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    tgt_json = tmp_path / "targets-key.json"
    tgt_json.write_text(
        json.dumps({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw.hex()},
                    "keyid": "not-the-real-id"})
    )  # fmt: skip
    # the targets holder's public key is registered in this store as a public-only entry
    code, _, err = tk("key", "import", str(tgt_json), "--name", "tgt-pub")
    assert code == 0, err
    repo = tmp_path / "repo"
    code, doc, err = tkj(
        "repo", "init", str(repo), "--root-key", "alice", "--root-key", str(zoe_pub),
        "--root-threshold", "2", "--targets-key", "tgt-pub",
        "--snapshot-key", "online", "--timestamp-key", "online",
    )  # fmt: skip
    assert code == 0, err
    assert "root v1 needs more signatures" in err and "targets v1 needs more signatures" in err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]  # nothing under-signed published
    code, doc, _ = tkj("status", str(repo))
    assert code == 1 and doc["ok"] is False and doc["published"] is False
    assert [p["code"] for p in doc["problems"]] == ["not-published"]
    root = doc["staged"][0]
    assert root["signatures"][0]["valid_signatures"] == 1
    zoe_keyid = root["signatures"][0]["missing"][0]["keyid"]
    assert root["signatures"][0]["missing"] == [{"keyid": zoe_keyid, "name": None}]
    assert root["waiting"] == [zoe_keyid[:8]]
    tgt_keyid = doc["staged"][1]["signatures"][0]["missing"][0]["keyid"]
    assert [p["message"] for p in doc["staged"][1]["problems"]] == [
        "targets: targets keys: 0 of 1 signatures — still to sign: tgt-pub"
    ]
    assert doc["staged"][1]["problems"][0]["values"]["missing"] == [tgt_keyid]

    # zoe, on her own machine with her own store, signs a travelled copy of the staged root
    pem = tmp_path / "zoe.pem"
    pem.write_bytes(
        zoe_private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    zoe_home = str(tmp_path / "zoe-home")
    code, out, err = run_cli("--home", zoe_home, "key", "import", str(pem), "--name", "zoe",
                             "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["keys"][0]["keyid"] == zoe_keyid  # same keyid both ways
    copy = tmp_path / "zoe-usb" / "root.json"
    copy.parent.mkdir()
    copy.write_bytes((repo / "staged" / "root.json").read_bytes())
    code, out, err = run_cli("--home", zoe_home, "sign", str(copy), "--key", "zoe")
    assert code == 0, err
    assert "root v1 keys: threshold 2 met (2 signed)" in out
    code, _, err = tk("merge", str(repo), str(copy))
    assert code == 0, err
    code, doc, _ = tkj("status", str(repo))
    assert code == 1  # targets still unsigned: still nothing published
    assert [r["role"] for r in doc["staged"] if not r["verified"]] == ["targets"]
    code, _, err = tk("publish", str(repo))
    assert code == 1 and "more from: tgt-pub" in err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]


def test_expired_role_fails_status(tk, tkj, basic_repo, service):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    past = datetime.now(UTC) - timedelta(days=3)
    service.repo.timestamp(repo, now=past)  # expires one day after `past`
    code, doc, _ = tkj("status", str(repo))
    assert code == 1
    ts = doc["roles"][-1]
    assert ts["role"] == "timestamp" and ts["expired"] is True and ts["days_left"] < 0
    assert ts["problems"][0]["code"] == "expired"
    assert ts["problems"][0]["message"].startswith("timestamp: expired on ")
    code, out, _ = tk("status", str(repo), "--warn-days", "400")
    assert code == 1
    assert "warning: root: expires in 36" in out
    assert "status: NOT OK" in out


def test_target_outside_base_and_private_key_files_are_refused(tk, basic_repo, tmp_path):  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = _snapshot_tree(repo)
    base = tmp_path / "base"
    base.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"x")
    code, _, err = tk("targets", "add", str(repo), str(outside), "--base", str(base))
    assert code == 2 and f"{outside}: outside the target base {base}" in err
    code, _, err = tk("targets", "add", str(repo), str(base / "nope"), "--base", str(base))
    assert code == 2 and "no such target file" in err
    private = tmp_path / "k.pem"
    private.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    code, _, err = tk("root", "add-key", str(repo), "--key", str(private))
    assert code == 2 and "holds a private key; give the public key file" in err
    weird = tmp_path / "k.json"
    weird.write_text('{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "zz"}}')
    code, _, err = tk("root", "add-key", str(repo), "--key", str(weird))
    assert code == 2 and "unusable ed25519/ed25519 public key" in err
    assert _snapshot_tree(repo) == before
