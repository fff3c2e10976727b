"""Two clients over one simulated repository: trustkeep's and python-tuf's ``Updater`` (oracle)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simulator import Repository, Server
from tuf.api.exceptions import DownloadError, RepositoryError
from tuf.ngclient import Updater

from trustkeep.tuf_client import main as tuf_client


def versions(directory: Path) -> dict[str, int]:
    """Role file name -> version of every top-level ``*.json`` in a metadata directory."""
    out: dict[str, int] = {}
    for file in sorted(directory.glob("*.json")):
        out[file.name] = json.loads(file.read_bytes())["signed"].get("version", -1)
    return out


@dataclass
class Outcome:
    ok: bool
    versions: dict[str, int]
    requests: list[tuple[str, int | None]]
    targets: dict[str, bytes]


class Clients:
    """``trustkeep`` (the conformance CLI, in process) and ``oracle`` (python-tuf) side by side."""

    def __init__(self, base: Path, repo: Repository, server: Server) -> None:
        self.repo = repo
        self.server = server
        self.root = repo.published["root"][1]
        self.dirs = {name: base / name for name in ("trustkeep", "oracle")}
        for directory in self.dirs.values():
            (directory / "metadata").mkdir(parents=True)
            (directory / "targets").mkdir()
            (directory / "root.json").write_bytes(self.root)
        assert self.tk_cli("init", str(self.dirs["trustkeep"] / "root.json")) == 0
        (self.dirs["oracle"] / "metadata" / "root.json").write_bytes(self.root)

    def metadata_dir(self, who: str) -> Path:
        return self.dirs[who] / "metadata"

    def target_dir(self, who: str) -> Path:
        return self.dirs[who] / "targets"

    def tk_cli(self, *argv: str) -> int:
        return tuf_client(["--metadata-dir", str(self.metadata_dir("trustkeep")), *argv])

    def trustkeep(self, *targets: str) -> Outcome:
        self.server.clear()
        url = ["--metadata-url", self.server.metadata_url]
        if targets:
            names = [a for t in targets for a in ("--target-name", t)]
            code = self.tk_cli(
                *url,
                *names,
                "--target-dir",
                str(self.target_dir("trustkeep")),
                "--target-base-url",
                self.server.targets_url,
                "download",
            )
        else:
            code = self.tk_cli(*url, "refresh")
        return self._outcome("trustkeep", code == 0)

    def oracle(self, *targets: str) -> Outcome:
        self.server.clear()
        ok = True
        try:
            updater = Updater(
                str(self.metadata_dir("oracle")),
                self.server.metadata_url,
                str(self.target_dir("oracle")),
                self.server.targets_url,
                bootstrap=None,
            )
            updater.refresh()
            for path in targets:
                info = updater.get_targetinfo(path)
                if info is None:
                    ok = False
                    break
                if updater.find_cached_target(info) is None:
                    updater.download_target(info)
        except (RepositoryError, DownloadError):
            ok = False
        return self._outcome("oracle", ok)

    def _outcome(self, who: str, ok: bool) -> Outcome:
        files = {p.name: p.read_bytes() for p in self.target_dir(who).iterdir() if p.is_file()}
        return Outcome(ok, versions(self.metadata_dir(who)), self.server.metadata_requests(), files)

    def both(self, *targets: str) -> Outcome:
        """Run both clients on the same repository state; they must agree."""
        mine = self.trustkeep(*targets)
        theirs = self.oracle(*targets)
        assert mine.ok == theirs.ok, (mine, theirs)
        assert mine.versions == theirs.versions, (mine.versions, theirs.versions)
        assert mine.targets == theirs.targets
        return mine
