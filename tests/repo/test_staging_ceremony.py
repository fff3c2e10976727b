"""Issue 10: a 2-of-3 -> 3-of-4 root rotation, holder by holder, in separate homes.

The operator's home holds only the online and targets keys and the holders' public
keys; each holder's home holds only their own root key. Copies travel both ways
(a lone staged file, a copy of the whole directory), two holders sign in parallel,
and at every step python-tuf's ``Updater`` on the published directory, ``status``
and ``verify`` agree — and the published directory is always loadable.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from repo_oracle import updater

pytestmark = pytest.mark.interop

HOLDERS = ("alice", "bob", "carol", "dave")
Run = Callable[..., tuple[int, str, str]]


def _home_with_only(run_cli: Run, template: tuple, dest: Path, keep: set[str]) -> Path:  # type: ignore[type-arg]
    """A copy of the template store keeping only the private keys named in ``keep``."""
    shutil.copytree(template[0], dest)
    for name in template[1]:
        if name not in keep:
            code, _, err = run_cli("--home", str(dest), "key", "remove", name, "--yes")
            assert code == 0, err
    return dest


@pytest.fixture
def ceremony(run_cli, _template, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """(operator's tk, holder name -> tk, public key files)."""
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "correct horse battery staple")
    template = _template
    pubs = tmp_path / "pubs"
    pubs.mkdir()
    for name in HOLDERS:
        out = pubs / f"{name}.pub"
        code, _, err = run_cli(
            "--home", str(template[0]), "key", "export-public", name, "-o", str(out)
        )
        assert code == 0, err
    op_home = _home_with_only(run_cli, template, tmp_path / "operator", {"tgt", "snap", "ts"})
    for name in HOLDERS:  # the operator knows the holders by name, public halves only
        code, _, err = run_cli("--home", str(op_home), "key", "import", str(pubs / f"{name}.pub"),
                               "--name", name)  # fmt: skip
        assert code == 0, err

    def as_home(home: Path) -> Run:
        return lambda *argv: run_cli("--home", str(home), *argv)

    holders = {
        name: as_home(_home_with_only(run_cli, template, tmp_path / f"home-{name}", {name}))
        for name in HOLDERS
    }
    return as_home(op_home), holders


def _agree(op: Run, repo: Path, tmp_path: Path, *, published: int | None) -> dict:  # type: ignore[type-arg]
    """python-tuf, status and verify agree on the published directory; returns status."""
    code, out, err = op("status", str(repo), "--json")
    status = json.loads(out)
    verify_code, _, verify_err = op("verify", str(repo))
    if published is None:
        assert code == 1 and status["published"] is False
        assert verify_code != 0, verify_err  # nothing for a client either
        assert not (repo / "root.json").exists()
        return status  # type: ignore[no-any-return]
    assert code == 0, err
    assert verify_code == 0, verify_err
    assert op("pin", "export", "--from", str(repo), "--format", "tuf")[0] == 0
    client = tmp_path / f"client-{len(list(tmp_path.glob('client-*')))}"
    up, _ = updater(repo, client)  # trusting root v1, as a client installed on day one
    up.refresh()
    assert up._trusted_set.root.version == published
    assert [r["version"] for r in status["roles"] if r["role"] == "root"] == [published]
    return status  # type: ignore[no-any-return]


def _waiting(status: dict) -> list[str]:  # type: ignore[type-arg]
    return [w for r in status["staged"] if r["role"] == "root" for w in r["waiting"]]


def test_two_of_three_to_three_of_four_holder_by_holder(ceremony, tmp_path) -> None:  # type: ignore[no-untyped-def]
    op, holders = ceremony
    repo = tmp_path / "repo"
    code, _, err = op(
        "repo", "init", str(repo), "--root-key", "alice,bob,carol", "--root-threshold", "2",
        "--targets-key", "tgt", "--snapshot-key", "snap", "--timestamp-key", "ts",
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]
    st = _agree(op, repo, tmp_path, published=None)
    assert _waiting(st) == ["alice", "bob", "carol"]

    # alice gets the lone staged file (v1: no previous root) and sends it back
    usb = tmp_path / "usb-alice"
    usb.mkdir()
    shutil.copy(repo / "staged" / "root.json", usb / "root.json")
    code, out, err = holders["alice"]("sign", str(usb / "root.json"), "--key", "alice")
    assert code == 0 and "signatures incomplete" in out, err
    code, _, err = op("merge", str(repo), str(usb / "root.json"))
    assert code == 0, err
    st = _agree(op, repo, tmp_path, published=None)
    assert _waiting(st) == ["bob", "carol"]
    code, _, err = op("publish", str(repo))
    assert code == 1 and "bob, carol" in err
    assert sorted(p.name for p in repo.iterdir()) == ["staged"]

    # bob gets a copy of the whole directory, signs it there, the copy comes back
    bob_copy = tmp_path / "bob-copy"
    shutil.copytree(repo, bob_copy)
    code, out, err = holders["bob"]("sign", str(bob_copy / "staged" / "root.json"), "--key", "bob")
    assert code == 0 and "signatures complete" in out, err
    assert op("merge", str(repo), str(bob_copy / "staged" / "root.json"))[0] == 0
    code, out, err = op("publish", str(repo))
    assert code == 0, err
    _agree(op, repo, tmp_path, published=1)

    # the rotation: dave joins, threshold 3; the operator holds no root key: staged
    code, out, err = op("root", "rotate", str(repo), "--new", "dave", "--threshold", "3")
    assert code == 0 and "staged in" in out, err
    st = _agree(op, repo, tmp_path, published=1)
    assert _waiting(st) == ["alice", "bob", "carol", "dave"]
    code, out, _ = op("status", str(repo))  # published and staged side by side
    row = next(line for line in out.splitlines() if line.startswith("root "))
    assert row.endswith("→ staged v2: still to sign: alice, bob, carol, dave")
    code, out, _ = op("diff", str(repo))
    assert "+ key dave" in out and "root threshold 2 -> 3" in out

    # alice and carol sign copies in parallel, each with the published 1.root.json beside
    copies = {}
    for name in ("alice", "carol"):
        d = tmp_path / f"parallel-{name}"
        d.mkdir()
        shutil.copy(repo / "staged" / "root.json", d / "2.root.json")
        shutil.copy(repo / "1.root.json", d / "1.root.json")
        code, out, err = holders[name]("sign", str(d / "2.root.json"), "--key", name)
        assert code == 0, err
        assert "root v1 keys: 1 of 2" in out and "root v2 keys: 1 of 3" in out
        copies[name] = d / "2.root.json"
    code, out, err = op("merge", str(repo), str(copies["alice"]), str(copies["carol"]))
    assert code == 0, err
    assert "merged alice" in out and "merged carol" in out
    st = _agree(op, repo, tmp_path, published=1)
    assert _waiting(st) == ["bob", "dave"]  # root v1 met (2 of 2), v2 has 2 of 3
    assert op("merge", str(repo), str(copies["alice"]))[0] == 0  # idempotent
    assert op("publish", str(repo))[0] == 1
    _agree(op, repo, tmp_path, published=1)

    # dave signs without the previous root beside: told root v1 could not be checked
    lone = tmp_path / "dave-usb"
    lone.mkdir()
    shutil.copy(repo / "staged" / "root.json", lone / "root.json")
    code, out, err = holders["dave"]("sign", str(lone / "root.json"), "--key", "dave")
    assert code == 0, err
    assert "root v1 keys: threshold not checked (1.root.json is not beside root.json)" in out
    code, out, err = holders["dave"]("sign", str(lone / "root.json"), "--key", "dave")
    assert code == 0 and "had already signed; nothing written" in out
    assert op("merge", str(repo), str(lone / "root.json"))[0] == 0
    st = _agree(op, repo, tmp_path, published=1)
    assert _waiting(st) == [] and all(r["verified"] for r in st["staged"])

    code, out, err = op("publish", str(repo))
    assert code == 0, err
    assert not (repo / "staged").exists()
    _agree(op, repo, tmp_path, published=2)
    root = json.loads((repo / "root.json").read_bytes())
    assert root["signed"]["roles"]["root"]["threshold"] == 3
    assert len(root["signed"]["roles"]["root"]["keyids"]) == 4
    assert (repo / "2.root.json").read_bytes() == (repo / "root.json").read_bytes()
    # the daily online run keeps working on the published repository
    assert op("refresh", str(repo))[0] == 0
    _agree(op, repo, tmp_path, published=2)
