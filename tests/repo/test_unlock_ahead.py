"""A command unlocks the keys it needs side by side when their passphrases are known
without asking (environment, passphrase file, OS keyring); otherwise one by one, as asked."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from repo_oracle import updater

from trustkeep.service._private import EncryptedPemSigner


def _record_decrypts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(key name, decrypted in the main thread) for every key decryption."""
    calls: list[tuple[str, bool]] = []
    real = EncryptedPemSigner.decrypt

    def decrypt(self: EncryptedPemSigner, pem: bytes, passphrase: str) -> object:
        calls.append((self.entry.name or "", threading.current_thread() is threading.main_thread()))
        return real(self, pem, passphrase)

    monkeypatch.setattr(EncryptedPemSigner, "decrypt", decrypt)
    return calls


def _tree(repo: Path) -> dict[str, str]:
    return {
        str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(repo.rglob("*"))
        if p.is_file()
    }


def test_bins_unlock_the_bins_targets_and_online_keys_at_once(  # type: ignore[no-untyped-def]
    tk, basic_repo, make_keys, monkeypatch
) -> None:
    repo, _ = basic_repo
    make_keys("binkey")
    calls = _record_decrypts(monkeypatch)
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")
    assert code == 0, err
    # each key once, all in worker threads: the bins, targets, snapshot and timestamp keys
    assert sorted(calls) == [("binkey", False), ("snap", False), ("tgt", False), ("ts", False)]
    updater(repo, repo.parent / "client")[0].refresh()


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("tgt", ("delegation", "bins", "REPO", "--count", "16", "--key", "binkey")),
        ("ts", ("timestamp", "REPO")),
    ],
)
def test_a_wrong_passphrase_is_reported_as_without_unlocking_ahead(  # type: ignore[no-untyped-def]
    name, argv, tk, basic_repo, make_keys, monkeypatch
) -> None:
    """One key's passphrase (its own variable) is wrong: the same message and hint as
    when keys are unlocked one by one, and nothing changes on disk."""
    repo, _ = basic_repo
    make_keys("binkey")
    before = _tree(repo)
    variable = f"TRUSTKEEP_PASSPHRASE_{name.upper()}"
    monkeypatch.setenv(variable, "not the passphrase")
    calls = _record_decrypts(monkeypatch)
    code, out, err = tk(*(str(repo) if a == "REPO" else a for a in argv))
    assert code == 3, err
    assert "wrong passphrase for key" in err and f"({name})" in err
    assert f"it came from {variable}" in err
    assert "Traceback" not in err and "not the passphrase" not in out + err
    assert _tree(repo) == before
    # tried ahead in a thread, then once more when used (where the error is raised)
    assert (name, False) in calls and (name, True) in calls


def test_keys_are_unlocked_one_by_one_when_the_handler_must_ask(  # type: ignore[no-untyped-def]
    service, basic_repo, make_keys, monkeypatch
) -> None:
    """A handler that can only ask (the TUI's, a prompt) is never asked ahead of use."""
    repo, _ = basic_repo
    make_keys("binkey")
    calls = _record_decrypts(monkeypatch)
    service.repo.delegation_bins(repo, count=16, keys=["binkey"])
    assert calls and all(main for _name, main in calls)
    assert sorted(name for name, _ in calls) == ["binkey", "snap", "tgt", "ts"]


def test_targets_add_and_snapshot_unlock_their_keys_while_they_read(  # type: ignore[no-untyped-def]
    tk, basic_repo, tmp_path, monkeypatch
) -> None:
    """targets add unlocks the targets and online keys while it hashes the files;
    snapshot unlocks the snapshot key while it reads the roles."""
    repo, _ = basic_repo
    dist = tmp_path / "dist"
    dist.mkdir()
    for n in range(3):
        (dist / f"app-{n}.tar.gz").write_bytes(b"artifact %d" % n)
    calls = _record_decrypts(monkeypatch)
    code, _, err = tk("targets", "add", str(repo), str(dist), "--base", str(dist))
    assert code == 0, err
    assert sorted(calls) == [("snap", False), ("tgt", False), ("ts", False)]
    calls.clear()
    code, _, err = tk("snapshot", str(repo))
    assert code == 0, err
    assert calls == [("snap", False)]
    assert tk("timestamp", str(repo))[0] == 0
    client = updater(repo, repo.parent / "client")[0]
    client.refresh()
    assert client.get_targetinfo("app-2.tar.gz") is not None


def test_staging_only_unlocks_no_online_key(tk, basic_repo, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    (tmp_path / "app.tar.gz").write_bytes(b"artifact")
    calls = _record_decrypts(monkeypatch)
    code, _, err = tk("targets", "add", str(repo), str(tmp_path / "app.tar.gz"),
                      "--base", str(tmp_path), "--stage")  # fmt: skip
    assert code == 0, err
    assert calls == [("tgt", False)]
    assert (repo / "staged" / "targets.json").is_file()


# -- timestamp and snapshot: the key derivation starts before the repository code loads --

_ORDER_PROBE = """
import importlib.abc, importlib.machinery, json, sys
seen = {}

class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "trustkeep.core._pkcs8":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            real = module.pbes2_decrypt

            def pbes2_decrypt(*args, **kwargs):
                seen.setdefault("loaded", sorted(sys.modules))
                return real(*args, **kwargs)

            module.pbes2_decrypt = pbes2_decrypt

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())
from trustkeep.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "at_unlock": seen.get("loaded")}, f)
"""

#: not yet imported when the online key's derivation starts: it runs while they load
_LOADED_WHILE_UNLOCKING = (
    "tuf.api.metadata",
    "securesystemslib.signer",
    "trustkeep.service.repo",
    "trustkeep.adapters.repo_dir",
    "trustkeep.cli._repo_output",
)


@pytest.mark.parametrize("command", ["timestamp", "snapshot"])
def test_the_online_key_unlocks_before_python_tuf_loads(  # type: ignore[no-untyped-def]
    command, basic_repo, home, tmp_path
) -> None:
    """A fresh interpreter runs the real CLI: the key derivation starts before python-tuf,
    securesystemslib's signer package and the repository code are imported, and the
    command then writes metadata that python-tuf's client accepts."""
    import json
    import subprocess
    import sys

    repo, _ = basic_repo
    out = tmp_path / "probe.json"
    proc = subprocess.run(
        [sys.executable, "-c", _ORDER_PROBE, str(out), "--home", str(home), command, str(repo)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    doc = json.loads(out.read_text())
    assert doc["code"] == 0, proc.stderr
    loaded = set(doc["at_unlock"])
    assert "trustkeep.cli.signing" in loaded  # the command was already running
    assert sorted(m for m in _LOADED_WHILE_UNLOCKING if m in loaded) == []
    if command == "snapshot":
        assert subprocess.run(  # clients see the snapshot through a new timestamp
            [sys.executable, "-m", "trustkeep", "--home", str(home), "timestamp", str(repo)],
            capture_output=True, check=False, timeout=120,
        ).returncode == 0  # fmt: skip
    updater(repo, tmp_path / "client")[0].refresh()


def test_a_pool_unlocking_other_keys_signs_with_the_verified_roots_keys_only(  # type: ignore[no-untyped-def]
    home, basic_repo, monkeypatch
) -> None:
    """What the pool was told to unlock ahead (a hint) never chooses the signers: a pool
    unlocking the targets key still gives a timestamp signed by the timestamp key alone."""
    import json

    from trustkeep.cli._secrets import CliSecrets
    from trustkeep.service import Service

    service = Service(home, CliSecrets())  # TRUSTKEEP_PASSPHRASE: known without asking
    repo, ids = basic_repo
    calls = _record_decrypts(monkeypatch)
    pool = service.signers_ahead(repo, "targets")
    result = service.repo.timestamp(repo, pool=pool)
    signed = json.loads((repo / "timestamp.json").read_text())
    assert sorted(s["keyid"] for s in signed["signatures"]) == [ids["ts"]]
    assert result.changes[0].signed_by == (ids["ts"],)
    assert sorted(name for name, _ in calls) == ["tgt", "ts"]  # tgt: unlocked in vain
    updater(repo, repo.parent / "client")[0].refresh()


@pytest.mark.parametrize(
    "garble",
    [
        b"{",  # not JSON
        b'{"signed": {"roles": {"timestamp": {"keyids": "a string"}}}}',  # wrong shapes
        b"[]",
        b'{"signed": {"roles": {"timestamp": {"keyids": [1, null, {}]}}}}',
    ],
)
def test_a_malformed_root_json_gives_no_hint_and_the_usual_error(  # type: ignore[no-untyped-def]
    garble, tk, basic_repo, monkeypatch
) -> None:
    """The hint reads root.json before the command does: whatever it holds, the command's
    own reading reports it as without the hint (a one-line error naming the file), no
    key is unlocked ahead, and nothing is written."""
    repo, _ = basic_repo
    (repo / "root.json").unlink()  # it may be a link to 1.root.json: replace, not edit
    (repo / "root.json").write_bytes(garble)
    before = _tree(repo)
    calls = _record_decrypts(monkeypatch)
    code, _out, err = tk("timestamp", str(repo))
    assert code == 2, err
    assert "root.json" in err and "Traceback" not in err
    assert _tree(repo) == before
    assert calls == []


def test_the_hint_takes_a_bounded_list_of_strings_and_follows_no_link(tmp_path: Path) -> None:
    import json

    from trustkeep.adapters.root_hint import MAX_HINT_BYTES, MAX_HINT_KEYS, role_keyids

    def root(keyids: object, pad: int = 0) -> bytes:
        doc = {"signed": {"roles": {"timestamp": {"keyids": keyids}}}, "pad": "x" * pad}
        return json.dumps(doc).encode()

    repo = tmp_path / "repo"
    repo.mkdir()
    assert role_keyids(repo, "timestamp") == ()  # no root.json
    (repo / "root.json").write_bytes(root(["a" * 64, 7, "b" * 64]))
    assert role_keyids(repo, "timestamp") == ("a" * 64, "b" * 64)
    assert role_keyids(repo, "snapshot") == ()
    (repo / "root.json").write_bytes(root([f"{n:064x}" for n in range(100)]))
    assert len(role_keyids(repo, "timestamp")) == MAX_HINT_KEYS
    (repo / "root.json").write_bytes(root(["a" * 64], pad=MAX_HINT_BYTES))
    assert role_keyids(repo, "timestamp") == ()  # too large to be worth a hint
    (repo / "root.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert role_keyids(repo, "timestamp") == ()  # nesting beyond the recursion limit
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(root(["c" * 64]))
    (repo / "root.json").unlink()
    (repo / "root.json").symlink_to(elsewhere)
    assert role_keyids(repo, "timestamp") == ()


@pytest.mark.parametrize("command", ["timestamp", "snapshot"])
def test_a_forged_root_json_unlocks_in_vain_and_signs_nothing(  # type: ignore[no-untyped-def]
    command, tk, basic_repo, monkeypatch
) -> None:
    """root.json edited to name the targets key for the online role (its signatures no
    longer hold): the hint unlocks that key in a thread, the command refuses the root
    (exit 1, what it lacks), and nothing is signed or written."""
    import json

    repo, ids = basic_repo
    doc = json.loads((repo / "root.json").read_text())
    doc["signed"]["roles"][command]["keyids"] = [ids["tgt"]]
    (repo / "root.json").unlink()  # it may be a link to 1.root.json: replace, not edit
    (repo / "root.json").write_text(json.dumps(doc, indent=1))
    before = _tree(repo)
    calls = _record_decrypts(monkeypatch)
    code, out, err = tk(command, str(repo))
    assert code == 1, err
    assert "nothing signed: the published root does not verify" in err
    assert "root v1 keys have 0 of 2 signatures" in err and "Traceback" not in out + err
    assert _tree(repo) == before
    assert calls == [("tgt", False)]  # the hint, followed in a thread, and nothing more


@pytest.mark.parametrize("name", ["root.json", "timestamp.json", "snapshot.json"])
@pytest.mark.parametrize("command", ["timestamp", "snapshot"])
def test_a_fifo_for_a_metadata_file_is_refused_not_waited_on(  # type: ignore[no-untyped-def]
    command, name, basic_repo, home, tmp_path
) -> None:
    """A named pipe where a metadata file belongs (a hostile checkout): the hint and the
    command's own reading both open it without waiting for a writer; exit 2 names it,
    nothing is written. In a subprocess with a timeout: a hang fails the test."""
    import os
    import subprocess
    import sys

    repo, _ = basic_repo
    (repo / name).unlink()
    os.mkfifo(repo / name)
    before = {p.name for p in repo.iterdir()}
    proc = subprocess.run(
        [sys.executable, "-m", "trustkeep", "--home", str(home), command, str(repo)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"{name}: metadata file is not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p.name for p in repo.iterdir()} == before
