"""Fixtures for the TUF repository workflow tests: a key store with named keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    return h


@pytest.fixture
def tk(run_cli, home: Path) -> Callable[..., tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    """``tk(*argv)`` runs trustkeep with this test's home."""

    def _tk(*argv: str) -> tuple[int, str, str]:
        code, out, err = run_cli("--home", str(home), *argv)
        return code, out, err

    return _tk


@pytest.fixture
def tkj(tk: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, dict, str]]:  # type: ignore[type-arg]
    """``tkj(*argv)`` runs with --json and parses stdout."""

    def _tkj(*argv: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
        code, out, err = tk(*argv, "--json")
        return code, (json.loads(out) if out.strip() else {}), err

    return _tkj


@pytest.fixture
def make_keys(tk: Callable[..., tuple[int, str, str]]) -> Callable[..., dict[str, str]]:
    """``make_keys("alice", "bob")`` -> name -> keyid, generated in the store (ed25519)."""

    def _make(*names: str, key_type: str = "ed25519") -> dict[str, str]:
        out: dict[str, str] = {}
        for name in names:
            code, stdout, err = tk("key", "generate", "--type", key_type, "--name", name, "--json")
            assert code == 0, err
            out[name] = json.loads(stdout)["key"]["keyid"]
        return out

    return _make


@pytest.fixture
def basic_repo(tk, make_keys, tmp_path: Path) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A 2-of-3 root (alice, bob, carol) repository with single online/targets keys."""
    ids = make_keys("alice", "bob", "carol", "tgt", "snap", "ts")
    repo = tmp_path / "repo"
    code, _, err = tk(
        "repo", "init", str(repo),
        "--root-key", "alice,bob,carol", "--root-threshold", "2",
        "--targets-key", "tgt", "--snapshot-key", "snap", "--timestamp-key", "ts",
    )  # fmt: skip
    assert code == 0, err
    return repo, ids
