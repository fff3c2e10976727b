"""No secret (passphrase, PIN, private key bytes) reaches output, errors or files on disk."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

SECRET = "Sup3r-Secret-Passphrase-xyzzy"
WRONG = "Wr0ng-Passphrase-plugh"


def _all_bytes(*dirs: Path) -> bytes:
    return b"".join(p.read_bytes() for d in dirs for p in d.rglob("*") if p.is_file())


def test_secrets_never_reach_output_or_disk(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    home, repo = tmp_path / "home", tmp_path / "repo"
    transcript: list[str] = []

    def tk(*argv: str) -> int:
        code, out, err = run_cli("--home", str(home), "--verbose", *argv)
        transcript.extend([out, err])
        return code

    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", SECRET)
    for name, kind in [("root", "ecdsa-p256"), ("t", "ed25519"), ("rsa", "rsa-3072")]:
        assert tk("key", "generate", "--type", kind, "--name", name) == 0
    assert tk("repo", "init", str(repo), "--root-key", "root", "--targets-key", "t",
              "--snapshot-key", "t", "--timestamp-key", "t") == 0  # fmt: skip
    assert tk("status", str(repo), "--json") == 0
    assert tk("key", "export", "root", "-o", str(tmp_path / "root.p8")) == 0
    assert tk("key", "export", "root", "--format", "notary", "-o", str(tmp_path / "n.key")) == 0
    assert tk("key", "list", "--json") == 0

    # Error paths, with --verbose tracebacks enabled: the wrong secret is not echoed either.
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", WRONG)
    assert tk("root", "expire", str(repo)) == 3  # signing the new root needs the passphrase
    assert tk("key", "passwd", "t") == 3
    assert tk("key", "export", "rsa", "-o", str(tmp_path / "x.p8")) == 3

    said = "\n".join(transcript)
    assert "wrong passphrase" in said
    for secret in (SECRET, WRONG):
        assert secret not in said
        on_disk = _all_bytes(home, repo, tmp_path)
        assert secret.encode() not in on_disk
        assert base64.b64encode(secret.encode()) not in on_disk
    # Private keys on disk are encrypted only.
    for pem in home.rglob("*.pem"):
        text = pem.read_text()
        assert "ENCRYPTED PRIVATE KEY" in text
        assert "BEGIN PRIVATE KEY" not in text and "BEGIN EC PRIVATE KEY" not in text
        assert pem.stat().st_mode & 0o077 == 0
