"""Fixtures for the TUF repository workflow tests: a key store with named keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def service(home: Path):  # type: ignore[no-untyped-def]
    """The service API itself (what the TUI calls), on this test's home."""
    from trustkeep.service import Service

    return Service(home, lambda _name: PASSPHRASE)


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


TEMPLATE_KEYS = (
    "alice", "bob", "carol", "dave", "erin", "frank", "tgt", "snap", "ts",
    "binkey", "dele", "root1", "online",
)  # fmt: skip


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A key store with the usual keys and a basic repository, built once per session.

    Key generation and unlocking cost a KDF each; tests copy this instead.
    """
    from trustkeep.service import Service

    base = tmp_path_factory.mktemp("repo-template")
    service = Service(base / "home", lambda _name: PASSPHRASE)
    ids = {n: service.keys.generate("ed25519", name=n).keyid for n in TEMPLATE_KEYS}
    repo = base / "repo"
    service.repo.init(
        repo,
        keys={
            "root": ["alice", "bob", "carol"],
            "targets": ["tgt"],
            "snapshot": ["snap"],
            "timestamp": ["ts"],
        },
        thresholds={"root": 2},
    )
    return base / "home", ids, repo


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _template) -> Path:  # type: ignore[no-untyped-def]
    """This test's own copy of the template key store (TRUSTKEEP_PASSPHRASE set)."""
    h = tmp_path / "home"
    shutil.copytree(_template[0], h)
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    return h


@pytest.fixture
def make_keys(tk, _template) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    """``make_keys("alice", "bob")`` -> name -> keyid (template keys, else generated)."""

    def _make(*names: str, key_type: str = "ed25519") -> dict[str, str]:
        out: dict[str, str] = {}
        for name in names:
            if name in _template[1] and key_type == "ed25519":
                out[name] = _template[1][name]
                continue
            code, stdout, err = tk("key", "generate", "--type", key_type, "--name", name, "--json")
            assert code == 0, err
            out[name] = json.loads(stdout)["key"]["keyid"]
        return out

    return _make


@pytest.fixture
def basic_repo(tmp_path: Path, _template, home) -> tuple[Path, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A 2-of-3 root (alice, bob, carol) repository with single online/targets keys."""
    repo = tmp_path / "repo"
    shutil.copytree(_template[2], repo)
    return repo, dict(_template[1])
