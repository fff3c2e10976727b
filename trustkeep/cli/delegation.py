"""``trustkeep delegation add|remove|list|bins|add-key|remove-key|threshold``: delegated
targets roles, hashed bins, and the keys and thresholds of delegated roles."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.cli._repo_options import (
    directory_argument,
    expires_option,
    keys_option,
    no_sign_option,
    split_refs,
    stage_option,
)
from trustkeep.cli._repo_output import emit_write, write_doc
from trustkeep.core.tuf_repo.delegation import BinStyle

__all__ = ["COMMANDS", "delegation"]


@click.group()
def delegation() -> None:
    """Delegate targets to other roles: paths, hash prefixes, or hashed bins."""


@delegation.command("add")
@directory_argument
@click.argument("role")
@click.option("--delegator", default="targets", show_default=True, help="targets or a role.")
@keys_option("--key", required=True, help="Key of the new role (repeatable).")
@click.option("--threshold", type=int, default=1, show_default=True)
@click.option("--paths", "--path", "paths", multiple=True, metavar="P", help="Path pattern.")
@click.option("--hash-prefixes", "--hash-prefix", "prefixes", multiple=True, metavar="H")
@click.option("--terminating", is_flag=True, help="Stop the search at this role.")
@expires_option("Expiry of the new role (default 90d).")
@no_sign_option
@stage_option
@json_option
def add(
    directory: Path,
    role: str,
    delegator: str,
    key: tuple[str, ...],
    threshold: int,
    paths: tuple[str, ...],
    prefixes: tuple[str, ...],
    terminating: bool,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Delegate ROLE from the delegator (writes ROLE's version-1 metadata)."""
    result = get_app().service.repo.delegation_add(
        directory,
        role,
        keys=split_refs(key),
        delegator=delegator,
        threshold=threshold,
        paths=split_refs(paths) if paths else None,
        hash_prefixes=split_refs(prefixes) if prefixes else None,
        terminating=terminating,
        expires=expires,
        sign=sign,
        stage=stage,
    )
    emit_write(result, f"delegated {role!r} from {delegator!r}")


@delegation.command("remove")
@directory_argument
@click.argument("role")
@expires_option("New expiry of the delegator.")
@no_sign_option
@stage_option
@json_option
def remove(directory: Path, role: str, expires: str | None, sign: bool, stage: bool) -> None:
    """Remove the delegation of ROLE (its metadata file is kept for history).

    PREFIX-* (e.g. 'bins-*') removes every succinct hashed bin of the delegator at once.
    """
    result = get_app().service.repo.delegation_remove(
        directory, role, expires=expires, sign=sign, stage=stage
    )
    emit_write(result, f"removed delegation {role!r}")


@delegation.command("list")
@directory_argument
@json_option
def list_cmd(directory: Path) -> None:
    """Every delegation in search order."""
    service = get_app().service.repo
    infos = service.delegation_list(directory)
    names = service.names()
    docs: list[dict[str, Any]] = [
        {
            "role": i.role,
            "delegator": i.delegator,
            "keys": [{"keyid": k, "name": names.get(k)} for k in i.keyids],
            "threshold": i.threshold,
            "terminating": i.terminating,
            "paths": list(i.paths) if i.paths is not None else None,
            "path_hash_prefixes": (
                list(i.path_hash_prefixes) if i.path_hash_prefixes is not None else None
            ),
            "succinct": i.succinct,
            "bins": i.bins,
            "has_metadata": i.has_metadata,
        }
        for i in infos
    ]

    def human() -> str:
        if not docs:
            return "no delegations"
        lines = []
        for d in docs:
            keys = ", ".join(k["name"] or k["keyid"][:8] for k in d["keys"])
            if d["succinct"]:
                scope = f"{d['bins']} succinct hashed bins"
            elif d["paths"] is not None:
                scope = "paths " + " ".join(d["paths"])
            else:
                prefixes = d["path_hash_prefixes"]
                scope = f"hash prefixes {' '.join(prefixes[:4])}{' …' if len(prefixes) > 4 else ''}"
            term = " terminating" if d["terminating"] else ""
            missing = "" if d["has_metadata"] else " (metadata missing)"
            lines.append(
                f"{d['delegator']} -> {d['role']}: {d['threshold']} of [{keys}], {scope}"
                f"{term}{missing}"
            )
        return "\n".join(lines)

    emit({"directory": str(directory), "delegations": docs}, human)


@delegation.command("bins")
@directory_argument
@click.option("--count", type=int, required=True, help="Number of bins: a power of 2, 16..65536.")
@keys_option("--key", required=True, help="Key of every bin (repeatable).")
@click.option("--threshold", type=int, default=1, show_default=True)
@click.option("--delegator", default="targets", show_default=True)
@click.option("--prefix", "name_prefix", default="bins", show_default=True, help="Bin name prefix.")
@click.option(
    "--style",
    type=click.Choice(["succinct", "classic"]),
    default="succinct",
    show_default=True,
    help="succinct: TAP 15 (compact); classic: path_hash_prefixes (for clients without TAP 15).",
)
@expires_option("Expiry of the bins (default 90d).")
@no_sign_option
@stage_option
@json_option
def bins(
    directory: Path,
    count: int,
    key: tuple[str, ...],
    threshold: int,
    delegator: str,
    name_prefix: str,
    style: str,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Delegate everything the delegator covers to COUNT hashed bins.

    Classic bins may join the delegator's other delegations (those keep their paths);
    succinct bins must be its only delegation.
    """
    result = get_app().service.repo.delegation_bins(
        directory,
        count=count,
        keys=split_refs(key),
        delegator=delegator,
        threshold=threshold,
        name_prefix=name_prefix,
        style=cast(BinStyle, style),
        expires=expires,
        sign=sign,
        stage=stage,
    )
    doc = write_doc(result, bins=count, style=style)
    bin_names = {r["role"] for r in doc["roles"]} - {delegator, "snapshot", "timestamp"}
    doc["roles"] = [r for r in doc["roles"] if r["role"] not in bin_names]
    doc["bins_written"] = len(bin_names)
    doc["bins_unsigned"] = sorted(
        c.role for c in result.changes if c.role in bin_names and not c.verified
    )

    def human() -> str:
        verified = sum(1 for c in result.changes if c.verified)
        return (
            f"{delegator!r} delegates to {count} {style} bins {name_prefix}-*: "
            f"{verified} of {len(result.changes)} role(s) signed by threshold; "
            f"wrote {len(result.written)} file(s)"
        )

    emit(doc, human)
    unsigned = [c for c in result.changes if not c.verified]
    if unsigned:
        from trustkeep.cli._output import warn

        warn(f"{len(unsigned)} role(s) still need signatures (first: {unsigned[0].role})")


def _keys_write(
    directory: Path,
    role: str,
    what: str,
    *,
    add: tuple[str, ...] = (),
    remove: tuple[str, ...] = (),
    threshold: int | None,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    result = get_app().service.repo.delegation_keys(
        directory,
        role,
        add=split_refs(add),
        remove=split_refs(remove),
        threshold=threshold,
        expires=expires,
        sign=sign,
        stage=stage,
    )
    emit_write(result, what)


@delegation.command("add-key")
@directory_argument
@click.argument("role")
@keys_option("--key", required=True, help="Key to authorize for ROLE (repeatable).")
@click.option("--threshold", type=int, default=None, help="New threshold (default: kept).")
@expires_option("New expiry of the delegator.")
@no_sign_option
@stage_option
@json_option
def add_key(
    directory: Path,
    role: str,
    key: tuple[str, ...],
    threshold: int | None,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Authorize more keys for delegated ROLE (a new version of its delegator).

    ROLE is a delegated role, or PREFIX-* for every succinct hashed bin.
    """
    _keys_write(
        directory,
        role,
        f"added key(s) to {role!r}",
        add=key,
        threshold=threshold,
        expires=expires,
        sign=sign,
        stage=stage,
    )


@delegation.command("remove-key")
@directory_argument
@click.argument("role")
@keys_option("--key", required=True, help="Key to revoke: keyid, prefix or name (repeatable).")
@click.option("--threshold", type=int, default=None, help="New threshold (default: kept).")
@expires_option("New expiry of the delegator.")
@no_sign_option
@stage_option
@json_option
def remove_key(
    directory: Path,
    role: str,
    key: tuple[str, ...],
    threshold: int | None,
    expires: str | None,
    sign: bool,
    stage: bool,
) -> None:
    """Revoke keys of delegated ROLE; its threshold must stay reachable.

    ROLE is a delegated role, or PREFIX-* for every succinct hashed bin. When ROLE's
    present signatures no longer meet its keys, ROLE gets a new version to sign too.
    """
    _keys_write(
        directory,
        role,
        f"removed key(s) from {role!r}",
        remove=key,
        threshold=threshold,
        expires=expires,
        sign=sign,
        stage=stage,
    )


@delegation.command("threshold")
@directory_argument
@click.argument("role")
@click.argument("threshold", type=int)
@expires_option("New expiry of the delegator.")
@no_sign_option
@stage_option
@json_option
def threshold_cmd(
    directory: Path, role: str, threshold: int, expires: str | None, sign: bool, stage: bool
) -> None:
    """Set how many of delegated ROLE's keys must sign it.

    ROLE is a delegated role, or PREFIX-* for every succinct hashed bin.
    """
    _keys_write(
        directory,
        role,
        f"threshold of {role!r} set to {threshold}",
        threshold=threshold,
        expires=expires,
        sign=sign,
        stage=stage,
    )


COMMANDS = [delegation]
