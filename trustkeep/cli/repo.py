"""``trustkeep repo init DIR``: version-1 metadata for a new TUF repository."""

from __future__ import annotations

from pathlib import Path

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._repo_options import (
    directory_argument,
    expires_option,
    keys_option,
    no_sign_option,
    split_refs,
    stage_option,
)
from trustkeep.cli._repo_output import emit_write

__all__ = ["COMMANDS", "repo"]


@click.group()
def repo() -> None:
    """TUF repositories: create one (then see root, delegation, targets, sign, status)."""


@repo.command("init")
@directory_argument
@keys_option("--root-key", required=True, help="Root key (repeat or comma-separate).")
@click.option("--root-threshold", type=int, default=1, show_default=True)
@keys_option("--targets-key", required=True, help="Targets key (repeatable).")
@click.option("--targets-threshold", type=int, default=1, show_default=True)
@keys_option("--snapshot-key", required=True, help="Snapshot key (repeatable).")
@keys_option("--timestamp-key", required=True, help="Timestamp key (repeatable).")
@expires_option(
    "e.g. root=365d,targets=90d,snapshot=7d,timestamp=1d (units s m h d w y, or dates).",
    metavar="SPEC",
)
@click.option(
    "--consistent-snapshot/--no-consistent-snapshot",
    default=False,
    help="Write V.<role>.json copies (clients fetch metadata by version).",
)
@no_sign_option
@stage_option
@json_option
def init(
    directory: Path,
    root_key: tuple[str, ...],
    root_threshold: int,
    targets_key: tuple[str, ...],
    targets_threshold: int,
    snapshot_key: tuple[str, ...],
    timestamp_key: tuple[str, ...],
    expires: str | None,
    consistent_snapshot: bool,
    sign: bool,
    stage: bool,
) -> None:
    """Write version-1 root, targets, snapshot and timestamp metadata in DIRECTORY.

    K is a keyid, keyid prefix or name from the key store, or a public key file
    (PEM or securesystemslib JSON) of a holder elsewhere. Unless this store signs
    every role by its threshold, the new repository waits in DIRECTORY/staged/ for
    the holders ('trustkeep sign', 'trustkeep merge'), then 'trustkeep publish'.
    Warns when the root or targets threshold equals the number of its keys.
    """
    result = get_app().service.repo.init(
        directory,
        keys={
            "root": split_refs(root_key),
            "targets": split_refs(targets_key),
            "snapshot": split_refs(snapshot_key),
            "timestamp": split_refs(timestamp_key),
        },
        thresholds={"root": root_threshold, "targets": targets_threshold},
        expires=expires,
        consistent_snapshot=consistent_snapshot,
        sign=sign,
        stage=stage,
    )
    emit_write(result, f"new repository in {directory}", consistent_snapshot=consistent_snapshot)


COMMANDS = [repo]
