"""``trustkeep root``: stage a new root version (keys, thresholds, expiry, rotation)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
from trustkeep.cli._repo_output import check_doc, emit_write
from trustkeep.core.tuf_repo.status import describe_checks

__all__ = ["COMMANDS", "root"]

F = TypeVar("F", bound=Callable[..., Any])
_ROLES = click.Choice(["root", "targets", "snapshot", "timestamp"])


def _staging(func: F) -> F:
    """DIRECTORY, --expires, --sign/--no-sign, --stage, --json."""
    func = json_option(func)
    func = stage_option(func)
    func = no_sign_option(func)
    func = expires_option("Root expiry: 365d, 2y or a date.")(func)
    return directory_argument(func)


def _common(func: F) -> F:
    """:func:`_staging` plus --role."""
    func = click.option(
        "--role", type=_ROLES, default="root", show_default=True, help="Top-level role to change."
    )(func)
    return _staging(func)


@click.group()
def root() -> None:
    """Stage a new root version: N+1 needs a threshold of root N's keys and of its own.

    Root N+1 is published at once when this store signs both thresholds;
    otherwise it waits in DIR/staged/root.json, and further changes amend it (one
    new version per ceremony). Holders add their signature with 'trustkeep sign
    DIR/staged/root.json --key K' (or sign a copy, then 'trustkeep merge DIR
    COPY'); 'trustkeep publish DIR' publishes it.
    """


@root.command("add-key")
@_common
@keys_option("--key", required=True, help="Key to authorize (repeatable).")
def add_key(
    directory: Path, role: str, expires: str | None, sign: bool, stage: bool, key: tuple[str, ...]
) -> None:
    """Authorize keys for a top-level role."""
    result = get_app().service.repo.root_add_key(
        directory, split_refs(key), role=role, expires=expires, sign=sign
    )
    emit_write(result, f"added {len(split_refs(key))} key(s) to role {role!r}")


@root.command("remove-key")
@_common
@keys_option("--key", required=True, help="Key to revoke: keyid (prefix), name or file.")
def remove_key(
    directory: Path, role: str, expires: str | None, sign: bool, stage: bool, key: tuple[str, ...]
) -> None:
    """Revoke keys of a top-level role (its threshold must stay reachable)."""
    result = get_app().service.repo.root_remove_key(
        directory, split_refs(key), role=role, expires=expires, sign=sign
    )
    emit_write(result, f"removed {len(split_refs(key))} key(s) from role {role!r}")


@root.command("threshold")
@_common
@click.argument("threshold", type=int)
def threshold_cmd(
    directory: Path, role: str, expires: str | None, sign: bool, stage: bool, threshold: int
) -> None:
    """Set the signature threshold of a top-level role (1 .. number of its keys)."""
    result = get_app().service.repo.root_threshold(
        directory, threshold, role=role, expires=expires, sign=sign
    )
    emit_write(result, f"threshold of role {role!r} set to {threshold}")


@root.command("expire")
@_staging
def expire(directory: Path, expires: str | None, sign: bool, stage: bool) -> None:
    """Stage a root version with a new expiry (default 365 days from now)."""
    result = get_app().service.repo.root_expire(directory, expires=expires, sign=sign, stage=stage)
    emit_write(result, "new root expiry staged")


@root.command("rotate")
@_common
@keys_option("--old", help="Key to replace (repeatable).")
@keys_option("--new", help="Replacement key (repeatable).")
@click.option("--threshold", type=int, default=None, help="New threshold (default: kept).")
def rotate(
    directory: Path,
    role: str,
    expires: str | None,
    sign: bool,
    stage: bool,
    old: tuple[str, ...],
    new: tuple[str, ...],
    threshold: int | None,
) -> None:
    """Replace keys of a top-level role in one new root version."""
    result = get_app().service.repo.root_rotate(
        directory,
        old=split_refs(old),
        new=split_refs(new),
        role=role,
        threshold=threshold,
        expires=expires,
        sign=sign,
        stage=stage,
    )
    emit_write(result, f"rotated keys of role {role!r}")


@root.command("show")
@directory_argument
@json_option
def show(directory: Path) -> None:
    """The current root: version, expiry, keys and thresholds of every top-level role."""
    service = get_app().service.repo
    signed, status = service.root_info(directory)
    names = service.names()
    root_status = next(r for r in status.roles if r.role == "root")
    roles: dict[str, dict[str, Any]] = {
        name: {
            "threshold": role.threshold,
            "keys": [
                {"keyid": k, "name": names.get(k), "keytype": signed.keys[k].keytype}
                for k in role.keyids
            ],
        }
        for name, role in signed.roles.items()
    }
    doc = {
        "version": signed.version,
        "expires": signed.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "consistent_snapshot": signed.consistent_snapshot,
        "roles": roles,
        "checks": [check_doc(c, names) for c in root_status.checks],
    }

    def human() -> str:
        lines = [f"root v{signed.version}, expires {signed.expires:%Y-%m-%d %H:%M:%SZ}"]
        for name, info in roles.items():
            lines.append(f"  {name}: threshold {info['threshold']} of {len(info['keys'])}")
            for k in info["keys"]:
                label = f" ({k['name']})" if k["name"] else ""
                lines.append(f"    {k['keyid']}{label} {k['keytype']}")
        lines += [f"  {line}" for line in describe_checks(root_status.checks, names)]
        return "\n".join(lines)

    emit(doc, human)


COMMANDS = [root]
