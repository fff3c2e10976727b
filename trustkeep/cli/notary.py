"""``trustkeep notary``: Notary root certificates and the two kinds of Notary ID."""

from __future__ import annotations

from pathlib import Path

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import echo_data, emit
from trustkeep.core.notary_cert import DEFAULT_DAYS

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


COMMANDS = [notary]
