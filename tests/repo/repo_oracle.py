"""python-tuf's own client as the oracle: ``tuf.ngclient.Updater`` offline over a directory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig

METADATA_URL = "http://repo.invalid/metadata/"
TARGETS_URL = "http://repo.invalid/targets/"
_HASH_PREFIX = re.compile(r"^[0-9a-f]{64}\.")


class DirFetcher(FetcherInterface):
    """Serves metadata from ``metadata_dir`` and targets from ``targets_dir``; logs URLs."""

    def __init__(self, metadata_dir: Path, targets_dir: Path | None = None) -> None:
        self.metadata_dir = metadata_dir
        self.targets_dir = targets_dir
        self.fetched: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        self.fetched.append(url)
        if url.startswith(METADATA_URL):
            name = url[len(METADATA_URL) :]
            assert "/" not in name, f"client asked for a nested metadata path: {name}"
            path = self.metadata_dir / name
        elif url.startswith(TARGETS_URL) and self.targets_dir is not None:
            rel = url[len(TARGETS_URL) :]
            head, _, base = rel.rpartition("/")
            path = self.targets_dir / rel
            if not path.is_file():  # consistent snapshot: <sha256>.<name>
                stripped = _HASH_PREFIX.sub("", base)
                path = self.targets_dir / (f"{head}/{stripped}" if head else stripped)
        else:
            raise DownloadHTTPError(f"unexpected URL {url}", 404)
        if not path.is_file():
            raise DownloadHTTPError(f"{url}: not found", 404)
        yield path.read_bytes()


def updater(
    repo: Path,
    client_dir: Path,
    *,
    bootstrap: bytes | None = None,
    targets_dir: Path | None = None,
) -> tuple[Updater, DirFetcher]:
    """An Updater trusting ``bootstrap`` (default: the repository's 1.root.json)."""
    client_dir.mkdir(parents=True, exist_ok=True)
    (client_dir / "targets").mkdir(exist_ok=True)
    fetcher = DirFetcher(repo, targets_dir)
    root = bootstrap if bootstrap is not None else (repo / "1.root.json").read_bytes()
    up = Updater(
        str(client_dir),
        METADATA_URL,
        str(client_dir / "targets"),
        TARGETS_URL,
        fetcher,
        UpdaterConfig(targets_max_length=50_000_000),
        bootstrap=root,
    )
    return up, fetcher


def fetch_target(
    repo: Path, client_dir: Path, path: str, targets_dir: Path, *, bootstrap: bytes | None = None
) -> bytes:
    """refresh(), find ``path`` through the delegation tree, download and verify it."""
    up, _ = updater(repo, client_dir, bootstrap=bootstrap, targets_dir=targets_dir)
    up.refresh()
    info = up.get_targetinfo(path)
    assert info is not None, f"python-tuf's client found no target {path!r}"
    dest = up.download_target(info)
    return Path(dest).read_bytes()
