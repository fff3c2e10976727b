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


def test_a_wrong_passphrase_is_reported_as_without_unlocking_ahead(  # type: ignore[no-untyped-def]
    tk, basic_repo, make_keys, monkeypatch
) -> None:
    """One key's passphrase (its own variable) is wrong: the same message and hint as
    when keys are unlocked one by one, and nothing changes on disk."""
    repo, _ = basic_repo
    make_keys("binkey")
    before = _tree(repo)
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE_TGT", "not the passphrase")
    calls = _record_decrypts(monkeypatch)
    code, out, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")
    assert code == 3, err
    assert "wrong passphrase for key" in err and "(tgt)" in err
    assert "it came from TRUSTKEEP_PASSPHRASE_TGT" in err
    assert "Traceback" not in err and "not the passphrase" not in out + err
    assert _tree(repo) == before
    # tried ahead in a thread, then once more when used (where the error is raised)
    assert ("tgt", False) in calls and ("tgt", True) in calls


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
