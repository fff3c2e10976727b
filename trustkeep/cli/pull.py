"""``trustkeep pull``: the TUF client workflow over HTTP, on trustkeep's own engine."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._progress import ProgressBar
from trustkeep.cli.verify import render_report
from trustkeep.errors import InputError, TrustFailure
from trustkeep.service.pull import Progress, PullRequest, PullResult
from trustkeep.service.verify import parse_reference_time

__all__ = ["COMMANDS", "pull"]

#: a progress line is drawn for downloads at least this large (stderr a terminal)
PROGRESS_FROM = 1024 * 1024


def terminal_progress() -> Progress | None:
    """Downloads of at least ``PROGRESS_FROM`` bytes on the shared progress bar, or None
    when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    bar = ProgressBar(sys.stderr, delay=0.0)

    def show(url: str, done: int, total: int | None) -> None:
        if total is None or total < PROGRESS_FROM:
            return
        bar(f"downloading {url.rsplit('/', 1)[-1][:40]} (bytes)", done, total)

    return show


def _human(result: PullResult, url: str) -> str:
    lines = [render_report(result.report, url)]
    for t in result.targets:
        how = "downloaded" if t.fetched else "already present"
        lines.append(f"target {t.path}: {how}, {t.length} bytes, verified → {t.file}")
    return "\n".join(lines)


@click.command("pull")
@click.argument("url", metavar="URL")
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--root",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Trusted root.json (needed on the first pull; later pulls start from DIR).",
)
@click.option(
    "--pins",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Refused: pins anchor Notary repositories; a TUF repository is anchored with --root.",
)
@click.option("--gun", metavar="GUN", help="Refused with --pins (Notary only).")
@click.option(
    "--target", "targets", metavar="NAME", multiple=True, help="Target path to fetch (repeatable)."
)
@click.option("--targets-url", metavar="URL", help="Base URL of the target files.")
@click.option(
    "--target-dir", metavar="DIR", type=click.Path(path_type=Path), help="Where targets go."
)
@click.option("--at", "at", metavar="TIME", help="Reference time for expiry (ISO 8601).")
@json_option
def pull(
    url: str,
    directory: Path,
    root: Path | None,
    pins: Path | None,
    gun: str | None,
    targets: tuple[str, ...],
    targets_url: str | None,
    target_dir: Path | None,
    at: str | None,
) -> int:
    """Fetch and verify a TUF repository's metadata from URL into DIR (and targets).

    Root rotations, timestamp, snapshot, targets and every delegated role are
    verified by trustkeep's client engine (spec §5.3) before they are written;
    `trustkeep verify DIR` then works offline. Exit 0 ok, 1 a trust check failed
    (finding codes as in the verification report), 2 bad input, 3 network or disk.
    """
    if pins is not None or gun is not None:
        raise InputError(
            "--pins/--gun anchor Notary repositories; a TUF repository is anchored with --root",
            hint="export a TUF root with 'trustkeep pin export --format tuf', then --root FILE",
        )
    request = PullRequest(
        url=url,
        directory=directory,
        root=root,
        targets=targets,
        targets_url=targets_url,
        target_dir=target_dir,
        at=parse_reference_time(at) if at else None,
        progress=terminal_progress(),
    )
    result = get_app().service.pull.pull(request)
    report = result.report
    downloaded = [
        {"path": t.path, "file": str(t.file), "length": t.length, "downloaded": t.fetched}
        for t in result.targets
    ]
    emit(lambda: {**report.to_dict(), "targets": downloaded}, lambda: _human(result, url))
    if not report.valid:
        first = report.errors[0]
        where = f" ({first.role})" if first.role else ""
        raise TrustFailure(f"pull failed: {first.code}{where}: {first.message}")
    return 0


COMMANDS = [pull]
