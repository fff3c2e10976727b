"""``trustkeep migrate``: carry a verified Notary v1 repository over to TUF 1.0."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.service.verify import parse_reference_time

if TYPE_CHECKING:
    from trustkeep.service._migrate_results import CarriedRole
    from trustkeep.service.migrate import MigrationResult

__all__ = ["COMMANDS", "migrate"]


@click.group("migrate")
def migrate() -> None:
    """Move trust data to another format (Notary v1 → TUF 1.0)."""


@migrate.command("notary")
@click.argument("source", type=click.Path(path_type=Path), metavar="OUT|TRUSTDIR")
@click.option("--gun", required=True, metavar="GUN", help="The Notary repository to migrate.")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="New TUF metadata directory.",
)
@click.option(
    "--root-key",
    "root_keys",
    multiple=True,
    required=True,
    metavar="K",
    help="A new root key (keyid, name or public key file); repeat for several.",
)
@click.option("--root-threshold", type=int, default=1, show_default=True, help="Root threshold.")
@click.option(
    "--targets-key",
    "targets_keys",
    multiple=True,
    required=True,
    metavar="K",
    help="Key of the top-level targets role; repeat for several.",
)
@click.option(
    "--snapshot-key",
    "snapshot_keys",
    multiple=True,
    metavar="K",
    help="Snapshot key (default: the targets keys).",
)
@click.option(
    "--timestamp-key",
    "timestamp_keys",
    multiple=True,
    metavar="K",
    help="Timestamp key (default: the targets keys).",
)
@click.option(
    "--keep-root-key",
    is_flag=True,
    help="Make the imported Notary root key one of the TUF root keys.",
)
@click.option(
    "--at",
    metavar="TIME",
    help="Verify the Notary data as of TIME (default: the archive's retrieval).",
)
@json_option
def notary_cmd(
    source: Path,
    gun: str,
    to: Path,
    root_keys: tuple[str, ...],
    root_threshold: int,
    targets_keys: tuple[str, ...],
    snapshot_keys: tuple[str, ...],
    timestamp_keys: tuple[str, ...],
    keep_root_key: bool,
    at: str | None,
) -> int:
    """A TUF repository in DIR with the same targets as GUN's verified Notary data.

    Delegations keep their names and keys (x509 certificates become their public
    keys); Notary path prefixes become TUF patterns (see README "Leaving Notary").
    DIR/migration/statement.json links the two roots; check it with
    `trustkeep verify DIR --migrated-from OUT`. Exit 0 when every role is signed.
    """
    result = get_app().service.migrate.migrate(
        source,
        gun=gun,
        to=to,
        root_keys=root_keys,
        targets_keys=targets_keys,
        snapshot_keys=snapshot_keys,
        timestamp_keys=timestamp_keys,
        root_threshold=root_threshold,
        keep_root_key=keep_root_key,
        at=parse_reference_time(at) if at else None,
    )
    emit(result.to_dict(), lambda: render(result))
    return 0 if result.complete else 1


def render(result: MigrationResult) -> str:
    lines = [
        f"migrated {result.gun} (Notary root v{result.notary_root_version}) → {result.directory}",
        "carried over:",
    ]
    for r in result.roles:
        state = (
            "signed"
            if r.signatures >= r.threshold
            else (
                f"NEEDS {r.threshold - r.signatures} more signature(s): "
                + ", ".join(k[:12] for k in r.waiting)
            )
        )
        lines.append(f"  {r.name}: {r.targets} target(s), threshold {r.threshold}, {state}")
        lines += [f"    key {k.notary_keyid[:12]} → {k.tuf_keyid[:12]}: {k.how}" for k in r.keys]
        if r.waiting:
            lines += _to_sign(result.directory, r)
        if r.mapping is not None:
            m = r.mapping
            patterns = (
                m.paths
                if m.paths is not None
                else (f"path_hash_prefixes {','.join(m.hash_prefixes or ())} (every name)",)
            )
            lines.append(f"    Notary paths {list(m.prefixes)} → {', '.join(patterns)}")
            lines += [f"    narrows: {n}" for n in m.narrowed]
            lines += [f"    widens: {w}" for w in m.widened]
    if result.kept_notary_root_key:
        lines.append(f"  Notary root key kept as TUF root key {result.kept_notary_root_key[:12]}")
    if result.not_carried:
        lines.append("not carried over:")
        lines += [f"  {n.what}: {n.reason}" for n in result.not_carried]
    if not result.complete:
        lines += [
            "nothing is published yet: the new repository is staged in "
            f"{result.directory / 'staged'}",
            f"  once every role is signed: trustkeep publish {result.directory}",
        ]
    lines += [f"note: {n}" for n in result.notes]
    signer = (
        "and the retiring Notary root key"
        if result.notary_signed
        else ("(the Notary root key is not in the store: not signed by it)")
    )
    lines.append(f"statement: {result.statement}, signed by the new root keys {signer}")
    return "\n".join(lines)


def _to_sign(directory: Path, role: CarriedRole) -> list[str]:
    """How to finish a role whose keys were not in the store."""
    files = [
        f"private/{k.canonical_id}.key"
        for k in role.keys
        if k.tuf_keyid in role.waiting and k.canonical_id
    ]
    where = f" (Notary's {', '.join(files)})" if files else ""
    path = directory / "staged" / f"{quote(role.name, safe='')}.json"
    return [
        f"    to sign: trustkeep key import FILE{where}, then",
        f"      trustkeep sign {path} --key KEY",
    ]


COMMANDS = [migrate]
