"""``trustkeep-tuf-client``: the tuf-conformance client CLI protocol on trustkeep's engine.

    trustkeep-tuf-client --metadata-dir D init ROOTFILE
    trustkeep-tuf-client --metadata-url U --metadata-dir D refresh
    trustkeep-tuf-client --metadata-url U --metadata-dir D --target-name T [...]
        --target-dir TD --target-base-url TU download

Options come before the command. Exit 0 when the command succeeded fully, 1 on
any failure (one line on stderr; ``-v`` adds the requests made).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from trustkeep.adapters.home import resolve_home
from trustkeep.errors import KeyAccessError, TrustkeepError
from trustkeep.service import Service
from trustkeep.service.pull import PullRequest

__all__ = ["entry", "main"]


class _Failed(Exception):
    pass


def _no_secrets(name: str) -> str:
    raise KeyAccessError(f"the TUF client asks for no secrets ({name})")


def _service() -> Service:
    """The one service facade; the client needs no key store and no secret."""
    return Service(resolve_home(None), _no_secrets)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--metadata-dir", type=click.Path(path_type=Path), required=True)
@click.option("--metadata-url", default=None)
@click.option("--target-name", "target_names", multiple=True)
@click.option("--target-dir", type=click.Path(path_type=Path), default=None)
@click.option("--target-base-url", default=None)
@click.option("-v", "--verbose", count=True)
@click.pass_context
def cli(
    ctx: click.Context,
    metadata_dir: Path,
    metadata_url: str | None,
    target_names: tuple[str, ...],
    target_dir: Path | None,
    target_base_url: str | None,
    verbose: int,
) -> None:
    """TUF conformance client (trustkeep's TUF client engine)."""
    ctx.obj = {
        "metadata_dir": metadata_dir,
        "metadata_url": metadata_url,
        "targets": target_names,
        "target_dir": target_dir,
        "targets_url": target_base_url,
        "verbose": verbose,
    }


@cli.command("init")
@click.argument("root_file", type=click.Path(path_type=Path))
@click.pass_obj
def init(obj: dict[str, object], root_file: Path) -> None:
    """Copy the trusted root to METADATA_DIR/root.json (no network)."""
    directory = obj["metadata_dir"]
    assert isinstance(directory, Path)
    _service().pull.init(directory, root_file)


def _run(obj: dict[str, object], *, download: bool) -> None:
    url = obj["metadata_url"]
    directory = obj["metadata_dir"]
    if not isinstance(url, str) or not isinstance(directory, Path):
        raise click.UsageError("--metadata-url and --metadata-dir are required")
    targets = obj["targets"] if download else ()
    assert isinstance(targets, tuple)
    if download and not targets:
        raise click.UsageError("download needs --target-name")
    target_dir = obj["target_dir"]
    targets_url = obj["targets_url"]
    request = PullRequest(
        url=url,
        directory=directory,
        targets=targets,
        targets_url=targets_url if isinstance(targets_url, str) else None,
        target_dir=target_dir if isinstance(target_dir, Path) else None,
        mirror=False,
    )
    result = _service().pull.pull(request)
    if obj["verbose"]:
        for requested in result.requests:
            click.echo(f"GET {requested}", err=True)
    if not result.report.valid:
        first = result.report.errors[0]
        raise _Failed(f"{first.code}: {first.message}")


@cli.command("refresh")
@click.pass_obj
def refresh(obj: dict[str, object]) -> None:
    """Update the top-level metadata (spec §5.3)."""
    _run(obj, download=False)


@cli.command("download")
@click.pass_obj
def download(obj: dict[str, object]) -> None:
    """Refresh, then fetch each --target-name in order; stop at the first failure."""
    _run(obj, download=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 on success, 1 on any failure (the protocol has no other codes; an uncaught
    bug also exits 1)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="trustkeep-tuf-client", standalone_mode=False)
    except (TrustkeepError, _Failed) as e:
        click.echo(f"trustkeep-tuf-client: error: {e}", err=True)
        return 1
    except click.ClickException as e:
        e.show()
        return 1
    except click.exceptions.Exit as e:
        return 0 if e.exit_code == 0 else 1
    except click.exceptions.Abort:
        return 1
    # a bug is not caught here: Python's own handler prints it and exits 1, as the protocol
    # wants for any failure
    return 0


def entry() -> None:
    sys.exit(main())
