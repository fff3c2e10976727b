"""``trustkeep sign FILE``, ``snapshot DIR``, ``timestamp DIR``, ``refresh DIR``."""

from __future__ import annotations

from pathlib import Path

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit, warn
from trustkeep.cli._repo_options import directory_argument, expires_option

__all__ = ["COMMANDS", "refresh", "sign", "snapshot", "timestamp"]


@click.command("sign")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--key", required=True, metavar="K", help="Key of this store to sign with.")
@json_option
def sign(file: Path, key: str) -> None:
    """Add one signature to a staged metadata FILE (other signatures are kept).

    FILE is DIR/staged/<role>.json (in the repository or a copy of its directory),
    or a copy of one that travelled alone: for root N+1, put the published
    N.root.json beside it so root N's threshold is checked too. Published files
    are never signed in place. A key that had already signed writes nothing.
    """
    from trustkeep.cli._repo_output import sign_doc
    from trustkeep.core.tuf_repo.status import describe_checks

    result = get_app().service.repo.sign(file, key)
    lines = describe_checks(result.checks, result.names)
    state = "complete" if result.verified else "incomplete"
    if result.previous_unchecked is not None:
        prev = result.previous_unchecked
        lines.append(
            f"root v{prev} keys: threshold not checked ({prev}.root.json is not beside "
            f"{file.name}); the operator's merge and publish check it"
        )
        if result.verified:
            state = f"complete for root v{result.version}'s own keys, root v{prev}'s unchecked"

    def human() -> str:
        if result.already_signed:
            head = (
                f"{result.role} v{result.version} ({file}): key {key} had already signed; "
                f"nothing written (signatures {state})"
            )
        else:
            head = f"signed {result.role} v{result.version} ({file}): signatures {state}"
        tail = []
        if result.verified and file.parent.name == "staged" and result.previous_unchecked is None:
            tail = [
                f"every threshold is met: 'trustkeep publish {file.parent.parent}' publishes it"
            ]
        return "\n".join([head, *[f"  {line}" for line in lines], *tail])

    emit(sign_doc(result), human)


@click.command("snapshot")
@directory_argument
@expires_option("Snapshot expiry (default 7d).")
@json_option
def snapshot(directory: Path, expires: str | None) -> None:
    """New snapshot: the current version of targets and every delegated role."""
    service = get_app().service
    pool = service.signers_ahead(directory, "snapshot")  # unlocking while the code loads
    from trustkeep.cli._repo_output import emit_write

    emit_write(service.repo.snapshot(directory, expires=expires, pool=pool))
    warn(f"clients see the new snapshot after 'trustkeep timestamp {directory}'")


@click.command("timestamp")
@directory_argument
@expires_option("Timestamp expiry (default 1d).")
@json_option
def timestamp(directory: Path, expires: str | None) -> None:
    """New timestamp: version, length and sha256 of the current snapshot."""
    service = get_app().service
    pool = service.signers_ahead(directory, "timestamp")  # unlocking while the code loads
    from trustkeep.cli._repo_output import emit_write

    emit_write(service.repo.timestamp(directory, expires=expires, pool=pool))


@click.command("refresh")
@directory_argument
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="R",
    help="Role to refresh (repeatable, globs like bins-*); snapshot and timestamp follow. "
    "Default: targets when this store holds enough of its keys, then snapshot, timestamp.",
)
@expires_option("e.g. targets=90d,snapshot=7d,timestamp=1d", metavar="SPEC")
@json_option
def refresh(directory: Path, roles: tuple[str, ...], expires: str | None) -> None:
    """New version and expiry, re-signed: roles, then snapshot, then timestamp."""
    from trustkeep.cli._repo_output import emit_write

    result = get_app().service.repo.refresh(directory, roles=list(roles), expires=expires)
    emit_write(result)


COMMANDS = [sign, snapshot, timestamp, refresh]
