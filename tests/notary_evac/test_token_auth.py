"""The Docker registry Bearer token flow against notary-server configured with ``auth: token``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evac_world import GUN_PRIVATE, GUN_PUBLIC, TokenWorld

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary_evac")]


def _pull(run_cli: Any, world: TokenWorld, gun: str, out: Path, *extra: str) -> tuple[int, str]:
    code, stdout, err = run_cli(
        "notary", "pull", "--server", world.server.url, gun, str(out), *extra, "--json"
    )
    return code, stdout + err


def test_anonymous_pull_of_a_public_repository(
    evac_token: TokenWorld, run_cli: Any, tmp_path: Path
) -> None:
    evac_token.tokens.requests.clear()
    code, text = _pull(run_cli, evac_token, GUN_PUBLIC, tmp_path / "pub")
    assert code == 0, text
    assert (tmp_path / "pub" / "tuf" / GUN_PUBLIC / "metadata" / "timestamp.json").is_file()
    [request] = evac_token.tokens.requests  # one token, reused for every file of the GUN
    assert request == {"scopes": [f"repository:{GUN_PUBLIC}:pull"], "user": None}


def test_private_repository_needs_a_login(
    evac_token: TokenWorld, run_cli: Any, tmp_path: Path
) -> None:
    code, text = _pull(run_cli, evac_token, GUN_PRIVATE, tmp_path / "anon")
    assert code == 3
    assert "the server refused an anonymous client (401)" in text
    assert not (tmp_path / "anon").exists()


def test_login_with_password_variable(
    evac_token: TokenWorld, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_NOTARY_PASSWORD", evac_token.tokens.password)
    evac_token.tokens.requests.clear()
    code, stdout, err = run_cli(
        "notary",
        "pull",
        "--server",
        evac_token.server.url,
        GUN_PRIVATE,
        str(tmp_path / "priv"),
        "--username",
        "alice",
        "--json",
    )
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["repositories"][0]["valid"] is True
    assert evac_token.tokens.requests[0]["user"] == "alice"
    assert evac_token.tokens.password not in stdout + err


def test_wrong_password_is_refused_without_echoing_it(
    evac_token: TokenWorld, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTKEEP_NOTARY_PASSWORD", "wrong-password-42")
    code, text = _pull(run_cli, evac_token, GUN_PRIVATE, tmp_path / "bad", "--username", "alice")
    assert code == 3
    assert "token service" in text and "HTTP 401" in text
    assert "wrong-password-42" not in text
    assert not (tmp_path / "bad").exists()


def test_no_password_and_no_terminal_fails_with_how_to(
    evac_token: TokenWorld, run_cli: Any, tmp_path: Path
) -> None:
    code, text = _pull(run_cli, evac_token, GUN_PRIVATE, tmp_path / "none", "--username", "alice")
    assert code == 3
    assert "TRUSTKEEP_NOTARY_PASSWORD" in text
