"""``trustkeep pin``: export, apply and check trust-pinning blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import echo_data, emit, warn
from trustkeep.core.pinning import MODES
from trustkeep.errors import InputError

__all__ = ["COMMANDS", "pin"]

_SOURCE_HELP = (
    "A root.json (Notary or TUF), a metadata directory, a Notary/Docker trust directory, "
    "a root certificate PEM, or a key in the store (keyid, prefix or name). Repeatable."
)


def _parse_ca(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        prefix, sep, path = value.partition("=")
        if not sep or not prefix or not path:
            raise InputError(f"--ca {value!r}: expected GUN_PREFIX=/absolute/path/ca.pem")
        if out.get(prefix, path) != path:
            raise InputError(f"--ca {value!r}: prefix {prefix!r} already has CA {out[prefix]!r}")
        out[prefix] = path
    return out


def _target(daemon_json: str | None, notary_config: str | None) -> tuple[str, Path]:
    if (daemon_json is None) == (notary_config is None):
        raise InputError("give exactly one of --daemon-json PATH or --notary-config PATH")
    if daemon_json is not None:
        return "docker", Path(daemon_json)
    assert notary_config is not None
    return "notary", Path(notary_config)


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(f"--at {value!r}: not an ISO 8601 time") from e
    return at if at.tzinfo else at.replace(tzinfo=UTC)


_from_option = click.option(
    "--from", "sources", multiple=True, required=True, metavar="SOURCE", help=_SOURCE_HELP
)
_gun_option = click.option(
    "--gun",
    default=None,
    metavar="GUN",
    help="Repository to pin (exact name, or a 'prefix/*' glob; required for a key source).",
)
_official_option = click.option(
    "--official-library-images/--no-official-library-images",
    default=None,
    help="Docker: also pin docker.io/library images to Docker's official root keys.",
)
_ca_option = click.option(
    "--ca", "ca", multiple=True, metavar="PREFIX=PATH", help="Notary: a CA bundle for a GUN prefix."
)


@click.group("pin")
def pin() -> None:
    """Trust pins for Docker daemon.json, the Notary client and TUF clients."""


@pin.command("export")
@_from_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["docker", "notary", "tuf"]),
    default="docker",
    show_default=True,
    help="docker: daemon.json content-trust; notary: client trust_pinning; tuf: root.json.",
)
@_gun_option
@click.option("--mode", type=click.Choice(MODES), default="enforced", show_default=True)
@_official_option
@_ca_option
@click.option(
    "--disable-tofu/--allow-tofu",
    default=True,
    show_default=True,
    help="Notary: refuse repositories no pin covers.",
)
@json_option
def export_cmd(
    sources: tuple[str, ...],
    fmt: str,
    gun: str | None,
    mode: str,
    official_library_images: bool | None,
    ca: tuple[str, ...],
    disable_tofu: bool,
) -> None:
    """Print a pin block computed from verified sources (the block alone unless --json)."""
    app = get_app()
    result = app.service.pins.export(
        sources,
        fmt=fmt,
        gun=gun,
        mode=mode,
        official_library_images=official_library_images,
        ca=_parse_ca(ca),
        disable_tofu=disable_tofu,
    )
    for message in result.warnings:
        warn(message)
    if app.json:
        emit(result.to_dict(), "")
    elif result.root_bytes is not None:
        echo_data(result.root_bytes, nl=False)
    else:
        echo_data(json.dumps(result.block, indent=2))


@pin.command("apply")
@click.option("--daemon-json", default=None, metavar="PATH", help="Docker daemon.json to update.")
@click.option("--notary-config", default=None, metavar="PATH", help="Notary client config.")
@_from_option
@_gun_option
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=None,
    help="Docker content-trust mode (default: keep, or enforced for a new block).",
)
@_official_option
@_ca_option
@click.option(
    "--disable-tofu/--allow-tofu",
    default=None,
    help="Notary: refuse repositories no pin covers (default, as pin export writes it).",
)
@click.option(
    "--add",
    is_flag=True,
    help="Keep a repository's pinned IDs beside the new ones (a root rotation window).",
)
@click.option(
    "--trust-dir",
    default=None,
    metavar="DIR",
    help="Warn about root.json files cached here (they override pins).",
)
@click.option("--dry-run", is_flag=True, help="Print the unified diff; change nothing.")
@json_option
def apply_cmd(
    daemon_json: str | None,
    notary_config: str | None,
    sources: tuple[str, ...],
    gun: str | None,
    mode: str | None,
    official_library_images: bool | None,
    ca: tuple[str, ...],
    disable_tofu: bool | None,
    trust_dir: str | None,
    dry_run: bool,
    add: bool,
) -> None:
    """Merge pins into a daemon.json or Notary config, keeping everything else as it is.

    A repository pinned to other IDs is re-pinned, with a warning; --add keeps both.
    """
    app = get_app()
    kind, path = _target(daemon_json, notary_config)
    result = app.service.pins.apply(
        path,
        kind=kind,
        specs=sources,
        gun=gun,
        mode=mode,
        official_library_images=official_library_images,
        ca=_parse_ca(ca),
        disable_tofu=disable_tofu,
        trust_dir=Path(trust_dir) if trust_dir else None,
        dry_run=dry_run,
        add=add,
    )
    for message in result.warnings:
        warn(message)
    document: dict[str, Any] = {
        "path": str(result.path),
        "format": kind,
        "dry_run": result.dry_run,
        "created": result.created,
        "changed": result.changed,
        "backup": str(result.backup) if result.backup else None,
        "diff": result.diff,
        "warnings": list(result.warnings),
        **{k: v for k, v in result.export.to_dict().items() if k in ("pins", "sources")},
    }

    def human() -> str:
        if dry_run:
            return result.diff.rstrip("\n") or f"{path}: already up to date"
        if not result.changed:
            return f"{path}: already up to date"
        verb = "created" if result.created else "updated"
        backup = f" (previous version in {result.backup})" if result.backup else ""
        return f"{verb} {path}{backup}"

    emit(document, human)


@pin.command("check")
@click.option("--daemon-json", default=None, metavar="PATH", help="Docker daemon.json.")
@click.option("--notary-config", default=None, metavar="PATH", help="Notary client config.")
@click.option("--gun", required=True, metavar="GUN", help="The repository to check.")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="SOURCE",
    help="Its root: root.json, metadata directory, trust directory or root certificate.",
)
@click.option("--at", default=None, metavar="TIME", help="Reference time (ISO 8601; now).")
@json_option
def check_cmd(
    daemon_json: str | None,
    notary_config: str | None,
    gun: str,
    source: str,
    at: str | None,
) -> int:
    """Would these pins accept this root? Exit 1 if they would reject it."""
    app = get_app()
    kind, path = _target(daemon_json, notary_config)
    result = app.service.pins.check(path, kind=kind, gun=gun, source=source, at=_parse_at(at))
    decision = result.decision
    if decision.mechanism == "tofu":
        warn(f"{gun}: no pin applies; trust on first use accepts any root")
    if result.mode in ("disabled", "permissive"):
        warn(f"{path}: content-trust mode is {result.mode!r}: the daemon does not enforce pins")
    document = {
        "gun": gun,
        "accepted": result.accepted,
        "mechanism": decision.mechanism,
        "entry": decision.entry,
        "pinned_ids": list(decision.ids),
        "ca_path": decision.ca_path,
        "root": {
            "source": result.source,
            "cert_ids": list(result.cert_ids),
            "canonical_ids": list(result.canonical_ids),
        },
        "problems": list(result.problems),
    }

    def human() -> str:
        verdict = "accepted" if result.accepted else "REJECTED"
        lines = [f"{gun}: {verdict} ({decision.describe()})"]
        lines += [f"  - {p}" for p in result.problems]
        return "\n".join(lines)

    emit(document, human)
    return 0 if result.accepted else 1


COMMANDS = [pin]
