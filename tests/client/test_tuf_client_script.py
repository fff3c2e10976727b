"""The ``trustkeep-tuf-client`` console script as the conformance suite runs it, and progress."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from simulator import Repository, Server

from trustkeep.cli import pull as pull_cli


def _script() -> str:
    found = shutil.which("trustkeep-tuf-client", path=str(Path(sys.executable).parent))
    assert found, "trustkeep-tuf-client is not installed (pyproject [project.scripts])"
    return found


def test_console_script_init_refresh_download(
    tmp_path: Path, repo: Repository, server: Server
) -> None:
    repo.add_target("targets", b"artifact", "dir/a.txt")
    repo.update_targets()
    (tmp_path / "root.json").write_bytes(repo.published["root"][1])
    md, td = tmp_path / "md", tmp_path / "td"
    md.mkdir()
    td.mkdir()
    run = [_script(), "-v", "--metadata-dir", str(md)]
    init = subprocess.run([*run, "init", str(tmp_path / "root.json")], check=False)
    assert init.returncode == 0 and server.requests == []
    url = ["--metadata-url", server.metadata_url]
    assert subprocess.run([*run, *url, "refresh"], check=False).returncode == 0
    assert server.metadata_requests() == [
        ("root", 2),
        ("timestamp", None),
        ("snapshot", 2),
        ("targets", 2),
    ]
    download = [*run, *url, "--target-name", "dir/a.txt", "--target-dir", str(td),
                "--target-base-url", server.targets_url, "download"]  # fmt: skip
    done = subprocess.run(download, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "GET " in done.stderr  # -v lists the requests
    assert (td / "dir%2Fa.txt").read_bytes() == b"artifact"
    missing = [*download[:-7], "--target-name", "nope", *download[-5:]]
    failed = subprocess.run(missing, check=False, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "no trusted role lists target 'nope'" in failed.stderr
    bad = subprocess.run([_script(), "--bogus"], check=False, capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_terminal_and_for_large_downloads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert pull_cli.terminal_progress() is None
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    show = pull_cli.terminal_progress()
    assert show is not None
    show("http://h/targets/small", 10, 100)
    assert tty.getvalue() == ""
    big = 4 * 1024 * 1024
    show("http://h/targets/big.iso", big // 2, big)
    show("http://h/targets/big.iso", big, big)
    assert tty.getvalue() == "\rbig.iso:  50% of 4096 KiB\rbig.iso: 100% of 4096 KiB\n"
