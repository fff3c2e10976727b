"""The CLI contract on errors: one message on stderr, and with ``--json`` one document on
stdout, ``{"schema": 1, "error": {"code", "message", "hint"}}``, the exit code unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trustkeep.service import Service
from trustkeep.service.keys import KeyService

PASSPHRASE = "error-paths-passphrase"


def error_document(out: str) -> dict[str, object]:
    """stdout holds exactly one JSON document, an error document; its ``error``."""
    doc = json.loads(out)
    assert set(doc) == {"schema", "error"} and doc["schema"] == 1
    assert set(doc["error"]) == {"code", "message", "hint"}
    return doc["error"]  # type: ignore[no-any-return]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def unsigned_root(home: Path, tmp_path: Path) -> Path:
    """A root.json whose signatures were stripped: a trust failure for ``pin export``."""
    KeyService(home, lambda _r: PASSPHRASE, kdf_iterations=20_000).generate(
        "ecdsa-p256", name="root"
    )
    repo = tmp_path / "repo"
    keys = {"root": ["root"], "targets": ["root"], "snapshot": ["root"], "timestamp": ["root"]}
    Service(home, lambda _r: PASSPHRASE).repo.init(repo, keys=keys)
    doc = json.loads((repo / "root.json").read_text())
    doc["signatures"] = []
    path = tmp_path / "unsigned-root.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("where", ["global", "after"])
def test_trust_failure_exit_1(run_cli, home: Path, unsigned_root: Path, where: str) -> None:  # type: ignore[no-untyped-def]
    argv = ["pin", "export", "--format", "tuf", "--from", str(unsigned_root)]
    argv = ["--json", *argv] if where == "global" else [*argv, "--json"]
    code, out, err = run_cli("--home", str(home), *argv)
    assert code == 1
    error = error_document(out)
    assert error["code"] == "trust-failure"
    assert err.startswith(f"trustkeep: error: {error['message']}\n")
    assert str(unsigned_root) in str(error["message"])


@pytest.mark.parametrize(
    ("argv", "code", "kind", "message", "hint"),
    [
        (
            ["key", "show", "nope", "--json"],
            2,
            "input",
            "unknown key 'nope'",
            "'trustkeep key list' shows the keys in the store",
        ),
        (
            ["--json", "key", "show"],
            2,
            "usage",
            "Missing argument 'REF'.",
            "see 'trustkeep key show --help'",
        ),
        (
            ["key", "generate", "--type", "ed25519", "--bogus", "--json"],
            2,
            "usage",
            "No such option '--bogus'.",
            "see 'trustkeep key generate --help'",
        ),
        (["--json", "nosuch"], 2, "usage", "No such command 'nosuch'.", "see 'trustkeep --help'"),
        (
            ["key", "generate", "--type", "dsa", "--json"],
            2,
            "input",
            "unknown key type 'dsa'",
            "choose one of: ed25519, ecdsa-p256, ecdsa-p384, rsa-3072, rsa-4096",
        ),
    ],
)
def test_usage_and_input_errors_exit_2(  # type: ignore[no-untyped-def]
    run_cli, home: Path, argv: list[str], code: int, kind: str, message: str, hint: str
) -> None:
    got, out, err = run_cli("--home", str(home), *argv)
    assert got == code
    assert error_document(out) == {"code": kind, "message": message, "hint": hint}
    assert message in err  # stderr still says it, for people


def test_key_access_exit_3(run_cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    KeyService(home, lambda _r: PASSPHRASE, kdf_iterations=20_000).generate("ed25519", name="k")
    code, out, err = run_cli("--home", str(home), "--json", "key", "passwd", "k")
    assert code == 3
    error = error_document(out)
    assert error["code"] == "key-access"
    assert str(error["message"]).startswith("no passphrase for key ")
    assert str(error["hint"]).startswith("set TRUSTKEEP_PASSPHRASE_K, TRUSTKEEP_PASSPHRASE_")
    assert err.splitlines() == [
        f"trustkeep: error: {error['message']}",
        f"trustkeep: hint: {error['hint']}",
    ]
    assert PASSPHRASE not in out + err


def test_storage_error_exit_3(run_cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    argv = ("--home", str(blocker / "home"), "key", "generate", "--type", "ed25519", "--json")
    code, out, _ = run_cli(*argv)
    assert code == 3
    error = error_document(out)
    assert error["code"] == "storage"
    assert str(error["message"]).startswith(f"{blocker}/home/keys: cannot create directory:")


def test_internal_error_exit_4(run_cli, home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A bug: exit 4, the exception's type only (its text may hold anything), no traceback."""

    def broken(self: KeyService) -> list[object]:
        raise ZeroDivisionError("a secret that must not be shown")

    monkeypatch.setattr(KeyService, "list", broken)
    code, out, err = run_cli("--home", str(home), "key", "list", "--json")
    assert code == 4
    message = "internal error: ZeroDivisionError (run with --verbose for details)"
    assert error_document(out) == {"code": "internal", "message": message, "hint": None}
    assert err == f"trustkeep: {message}\n"
    assert "must not be shown" not in out + err


def test_without_json_stdout_stays_empty(run_cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("--home", str(home), "key", "show", "nope")
    assert (code, out) == (2, "")
    assert err.startswith("trustkeep: error: unknown key 'nope'")


def test_a_value_named_json_after_double_dash_is_not_the_flag(run_cli, home: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--home", str(home), "key", "show", "--", "--json")
    assert (code, out) == (2, "")
