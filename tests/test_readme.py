"""Every command the README shows exists, and the quick start's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import click

from trustkeep.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _command_paths() -> list[list[str]]:
    paths = []
    for line in re.findall(r"trustkeep ([a-z][^\n;|]*)", README):
        words = [w for w in line.split() if not w.startswith("-")]
        path: list[str] = []
        group: click.Command = cli
        for word in words:
            sub = (
                group.get_command(click.Context(group), word)
                if isinstance(group, click.Group)
                else None
            )
            if sub is None:
                break
            path.append(word)
            group = sub
        if path:
            paths.append(path)
    return paths


def test_readme_commands_exist() -> None:
    paths = _command_paths()
    assert len(paths) > 30
    shown = {p[0] for p in paths}
    assert {"key", "repo", "root", "delegation", "targets", "sign", "status", "verify"} <= shown
    assert {"pin", "notary", "demo", "ceremony", "snapshot", "timestamp", "refresh"} <= shown


def test_readme_commands_answer_help(run_cli) -> None:  # type: ignore[no-untyped-def]
    for path in {tuple(p) for p in _command_paths()}:
        code, out, err = run_cli(*path, "--help")
        assert code == 0, (path, err)
        assert "Usage: trustkeep" in out


def test_ci_runs_the_readme_test_command() -> None:
    assert "bash tests/run.sh" in README
    assert "tests/run.sh" in (ROOT / ".ci" / "run").read_text()
