"""``trustkeep notary``: Notary root certificates and the two kinds of Notary ID."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import echo_data, emit
from trustkeep.core.notary_cert import DEFAULT_DAYS
from trustkeep.service.verify import parse_reference_time

if TYPE_CHECKING:  # imported when a command runs: `trustkeep --help` stays light
    from cryptography import x509

    from trustkeep.core.notary_meta import NotaryKey
    from trustkeep.service.evacuate import GunPull

__all__ = ["COMMANDS", "notary"]


@click.group("notary")
def notary() -> None:
    """Notary v1 helpers: root certificates, certificate and canonical IDs."""


@notary.command("cert")
@click.argument("key")
@click.option("--gun", required=True, metavar="GUN", help="The repository (certificate CN).")
@click.option(
    "--days",
    type=int,
    default=DEFAULT_DAYS,
    show_default=True,
    help="Validity in days.",
)
@click.option("--out", default=None, metavar="FILE", help="Write the PEM here (default stdout).")
@json_option
def cert_cmd(key: str, gun: str, days: int, out: str | None) -> None:
    """The self-signed root certificate Notary expects, signed by KEY.

    Use it with `notary init GUN --rootkey KEY.pem --rootcert CERT.pem`, KEY.pem
    from `trustkeep key export KEY --format notary`.
    """
    app = get_app()
    result = app.service.pins.notary_cert(key, gun=gun, days=days, out=Path(out) if out else None)
    cert = result.certificate
    document = {
        "gun": gun,
        "cert_id": result.cert_id,
        "canonical_id": result.canonical_id,
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "path": out,
        "pem": result.pem.decode("ascii"),
    }
    ids = f"certificate ID: {result.cert_id}\ncanonical ID:   {result.canonical_id}"
    if app.json:
        emit(document, "")
    elif out is None:
        echo_data(result.pem, nl=False)
        click.echo(ids, err=True)
    else:
        click.echo(f"wrote {out} (CN={gun}, until {cert.not_valid_after_utc:%Y-%m-%d})\n{ids}")


@notary.command("ids")
@click.argument("sources", nargs=-1, required=True)
@click.option("--gun", default=None, metavar="GUN", help="Needed for a key in the store.")
@json_option
def ids_cmd(sources: tuple[str, ...], gun: str | None) -> None:
    """Both Notary IDs per repository: the root certificate ID and the canonical key ID."""
    pins = get_app().service.pins
    entries = pins.entries(pins.load_sources(sources), gun)
    document = {
        "repositories": [
            {
                "gun": e.gun,
                "cert_ids": list(e.cert_ids),
                "canonical_ids": list(e.canonical_ids),
                "source": e.source,
            }
            for e in entries
        ]
    }

    def human() -> str:
        lines = []
        for e in entries:
            lines.append(e.gun)
            lines += [f"  certificate ID  {i}" for i in e.cert_ids]
            lines += [f"  canonical ID    {i}" for i in e.canonical_ids]
        return "\n".join(lines)

    emit(document, human)


@notary.command("pull")
@click.option("--server", required=True, metavar="URL", help="The notary server (https://...).")
@click.argument("args", nargs=-1, required=True, metavar="GUN... OUT")
@click.option(
    "--pins", type=click.Path(path_type=Path), metavar="FILE", help="Verify against these pins."
)
@click.option(
    "--trust-dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Verify against the root cached there (~/.docker/trust, ~/.notary).",
)
@click.option("--all", "all_guns", is_flag=True, help="Pull every GUN cached in --trust-dir.")
@click.option(
    "--tlscacert", type=click.Path(path_type=Path), metavar="PEM", help="CA bundle for HTTPS."
)
@click.option("--archive", is_flag=True, help="Write OUT as one .tar.gz file.")
@click.option(
    "--username",
    metavar="USER",
    help="Log in to the token service (password: TRUSTKEEP_NOTARY_PASSWORD or a prompt).",
)
@json_option
def pull_cmd(
    args: tuple[str, ...],
    server: str,
    pins: Path | None,
    trust_dir: Path | None,
    all_guns: bool,
    tlscacert: Path | None,
    archive: bool,
    username: str | None,
) -> int:
    """Pull GUNs' complete trust data from a notary server into OUT, verified.

    OUT is an evidence archive (a directory, or a .tar.gz with --archive): Notary's
    cache layout with every root version and a manifest; re-check it offline with
    `trustkeep verify OUT --gun GUN --at RETRIEVED_AT`. Exit 0 when every GUN verified.
    """
    app = get_app()
    *guns, out = args
    if not guns and not all_guns:
        raise click.UsageError("name at least one GUN before OUT (or --all --trust-dir DIR)")

    def progress(r: GunPull) -> None:
        click.echo(_progress_line(r), err=True)

    result = app.service.evacuate.pull(
        server,
        guns,
        Path(out),
        pins=pins,
        trust_dir=trust_dir,
        all_guns=all_guns,
        tlscacert=tlscacert,
        archive=archive,
        username=username,
        progress=None if app.json else progress,
    )
    when = result.retrieved_at.isoformat().replace("+00:00", "Z")
    document = {
        "server": result.server,
        "out": str(result.out),
        "archive": result.archive,
        "retrieved_at": when,
        "written": result.written,
        "repositories": [r.to_dict() for r in result.repositories],
    }

    def human() -> str:
        if not result.written:
            return f"nothing written: no GUN verified ({out} not created)"
        ok = [r for r in result.repositories if r.valid]
        lines = [f"wrote {out}: {len(ok)} of {len(result.repositories)} GUN(s), verified"]
        lines += [f"  trustkeep verify {out} --gun {r.gun} --at {when}" for r in ok]
        return "\n".join(lines)

    emit(document, human)
    return result.exit_code


def _progress_line(r: GunPull) -> str:
    versions = ",".join(str(v) for v in r.root_versions) or "-"
    if r.valid and r.report is not None:
        warnings = len(r.report.findings)
        note = f", {warnings} warning(s)" if warnings else ""
        return f"{r.gun}: verified (root v{versions}, {len(r.files)} files{note})"
    if r.error is not None:
        return f"{r.gun}: refused, nothing written: {r.error.message}"
    assert r.report is not None
    errors = r.report.errors
    codes = ", ".join(dict.fromkeys(f.code for f in errors))
    why = f"{errors[0].role or '-'}: {errors[0].message}" if errors else "invalid"
    return f"{r.gun}: refused, nothing written ({codes}): {why}"


@notary.command("targets")
@click.argument("source", type=click.Path(path_type=Path), metavar="OUT|TRUSTDIR")
@click.option("--gun", required=True, metavar="GUN", help="The repository.")
@click.option("--at", metavar="TIME", help="Verify as of TIME (default: the archive's retrieval).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "refs"]),
    default="table",
    show_default=True,
    help="refs: one registry/repo:tag@sha256:<digest> line per tag.",
)
@json_option
def targets_cmd(source: Path, gun: str, at: str | None, fmt: str) -> None:
    """Every tag GUN signed: digest, length, signing role and the role's keys.

    The metadata is verified first. With --format refs each tag appears once, taken
    from the role Docker prefers: targets/releases, then targets, then other roles.
    """
    from trustkeep.core.migration import preferred_targets

    app = get_app()
    listing = app.service.evacuate.signed_targets(
        source, gun=gun, at=parse_reference_time(at) if at else None
    )
    rows = [
        {
            "name": t.name,
            "sha256": t.sha256,
            "length": t.length,
            "role": t.role,
            "keys": [_key_doc(k) for k in role.keys],
            "threshold": role.threshold,
            "custom": t.custom,
        }
        for role in listing.repo.roles
        for t in role.targets
    ]
    refs = [f"{gun}:{t.name}@sha256:{t.sha256}" for t in preferred_targets(listing.repo)]
    document = {
        "gun": gun,
        "verified_at": listing.at.isoformat(),
        "targets": rows,
        "refs": refs,
    }
    if fmt == "refs" and not app.json:
        emit(document, "\n".join(refs))
        return

    def human() -> str:
        when = f"{listing.at:%Y-%m-%d %H:%M}Z"
        lines = [f"{gun}: {len(rows)} signed target(s), verified as of {when}"]
        for r in rows:
            keys = ", ".join(f"{k['keyid'][:12]} ({k['keytype']})" for k in r["keys"])
            digest = r["sha256"] or "-"
            size = f"{r['length']} bytes"
            lines.append(f"  {r['name']}  sha256:{digest}  {size}  {r['role']}  [{keys}]")
        return "\n".join(lines)

    emit(document, human)


def _key_doc(key: NotaryKey) -> dict[str, object]:
    cert = key.certificate
    return {
        "keyid": key.keyid,
        "keytype": key.keytype,
        "canonical_id": key.canonical_id,
        "certificate_cn": _cn(cert) if cert is not None else None,
    }


def _cn(cert: x509.Certificate) -> str | None:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None


COMMANDS = [notary]
