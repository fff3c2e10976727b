"""``trustkeep ceremony`` from the command line: refused without a terminal, help text."""

from __future__ import annotations

import json
from pathlib import Path

from tui_support import Ceremony


def test_no_terminal_is_a_usage_error_and_writes_nothing(run_cli, ceremony: Ceremony) -> None:  # type: ignore[no-untyped-def]
    before = sorted(p.name for p in ceremony.home.iterdir())
    code, out, err = run_cli("--home", str(ceremony.home), "ceremony", str(ceremony.repo))
    assert code == 2
    assert out == ""
    assert err == (
        "trustkeep: error: trustkeep ceremony needs a terminal (stdin and stdout are not a TTY)\n"
        "trustkeep: hint: in scripts use 'trustkeep status DIR' and "
        "'trustkeep sign FILE --key K'\n"
    )
    assert sorted(p.name for p in ceremony.home.iterdir()) == before


def test_no_terminal_with_json_still_one_line_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("ceremony", str(tmp_path / "repo"), "--json")
    assert code == 2
    assert json.loads(out)["error"]["message"].startswith("trustkeep ceremony needs a terminal")
    assert err.startswith("trustkeep: error: trustkeep ceremony needs a terminal")
    assert "Traceback" not in err


def test_help_names_the_flows(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("ceremony", "--help")
    assert code == 0
    for word in ("DIRECTORY", "--transcript", "--home", "--json", "passphrase"):
        assert word in out
