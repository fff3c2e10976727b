"""``trustkeep key``: the key store (generate, list, show, import, export, passwd, remove)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from trustkeep.cli._context import get_app, json_option
from trustkeep.cli._output import emit
from trustkeep.core.keys import KEY_TYPES, KeyEntry
from trustkeep.core.secrets import MIN_PASSPHRASE_LENGTH
from trustkeep.errors import InputError

__all__ = ["COMMANDS", "key"]

_backend_option = click.option(
    "--backend",
    type=click.Choice(["file", "keyring"]),
    default="file",
    show_default=True,
    help="Where the encrypted private key lives: a file in the home, or the OS keyring.",
)
_remember_option = click.option(
    "--remember", is_flag=True, help="Remember the passphrase in the OS keyring."
)
_allow_weak_option = click.option(
    "--allow-weak",
    is_flag=True,
    help=f"Accept a new passphrase shorter than {MIN_PASSPHRASE_LENGTH} characters.",
)


def _backend(entry: KeyEntry) -> str:
    return get_app().service.keys.backend_of(entry)


def entry_document(entry: KeyEntry) -> dict[str, Any]:
    """The JSON form of a key (``key list --json`` items); ``backend`` is the URI's."""
    doc = entry.to_dict()
    doc["backend"] = _backend(entry)
    doc["uri"] = entry.uri
    return doc


def _describe(entry: KeyEntry) -> str:
    remembered = " (passphrase in keyring)" if entry.remembered else ""
    lines = [
        f"keyid:        {entry.keyid}",
        f"name:         {entry.name or '-'}",
        f"type:         {entry.keytype} ({entry.scheme})",
        f"backend:      {_backend(entry)}{remembered}",
    ]
    if entry.notary_canonical_id:
        lines.append(f"notary id:    {entry.notary_canonical_id}")
    if entry.uri:
        lines.append(f"private key:  {entry.uri}")
    lines.extend(f"label:        {k}={v}" for k, v in sorted(entry.labels.items()))
    return "\n".join(lines)


def _table(entries: list[KeyEntry]) -> str:
    if not entries:
        return "no keys (create one with 'trustkeep key generate --type ed25519')"
    rows = [("KEYID", "NAME", "SCHEME", "BACKEND", "NOTARY ID")]
    rows += [
        (
            e.keyid[:16],
            e.name or "-",
            e.scheme,
            _backend(e),
            (e.notary_canonical_id or "-")[:16],
        )
        for e in entries
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _write_output(path: str, data: bytes, *, private: bool) -> None:
    from trustkeep.adapters.atomic import atomic_write

    atomic_write(Path(path), data, mode=0o600 if private else 0o644)


def _emit_export(
    entry: KeyEntry, fmt: str, field: str, text: str, *, output: str | None, private: bool
) -> None:
    """An exported key: written to ``output`` (0600 for a private key), else printed."""
    doc: dict[str, Any] = {"keyid": entry.keyid, "format": fmt}
    what = "key" if private else "public key"
    if output:
        _write_output(output, text.encode("utf-8"), private=private)
        emit({**doc, "path": output}, f"exported {what} {entry.label()} to {output}")
    else:
        emit({**doc, field: text}, text.rstrip("\n"))


@click.group()
def key() -> None:
    """Manage the key store: keys in encrypted files, the OS keyring or a PKCS#11 token.

    \b
    Keys are named by keyid, a keyid prefix of 8+ hex digits, or --name.
    Secrets come from the environment, else a no-echo terminal prompt:
      TRUSTKEEP_PASSPHRASE_<NAME>  passphrase of key NAME (upper-cased, others as _),
                                   or of the key whose keyid starts with NAME (8 hex)
      TRUSTKEEP_PASSPHRASE_FILE    a file holding it (or: trustkeep --passphrase-file F)
      TRUSTKEEP_PASSPHRASE         passphrase of any key (or of a file being imported)
      TRUSTKEEP_NEW_PASSPHRASE     passphrase being set (default: the ones above)
      TRUSTKEEP_PIN                PIN of a PKCS#11 token (module: PYKCS11LIB)
    A new passphrase needs 8+ characters (--allow-weak accepts fewer).
    A passphrase remembered with --remember is read from the OS keyring first
    (backend: PYTHON_KEYRING_BACKEND, e.g. keyrings.alt.file.PlaintextKeyring).
    """


@key.command()
@click.option(
    "--type",
    "key_type",
    required=True,
    metavar="TYPE",
    help=f"Key type: {', '.join(KEY_TYPES)}.",
)
@click.option("--name", default=None, help="A unique name to refer to the key by.")
@_backend_option
@_remember_option
@_allow_weak_option
@json_option
def generate(
    key_type: str, name: str | None, backend: str, remember: bool, allow_weak: bool
) -> None:
    """Generate a key; its private half is encrypted with a new passphrase."""
    entry = get_app().service.keys.generate(
        key_type, name=name, backend=backend, remember=remember, allow_weak=allow_weak
    )
    human = f"generated {key_type} key {entry.keyid}" + (f" ({entry.name})" if entry.name else "")
    if entry.notary_canonical_id:
        human += f"\nnotary canonical id {entry.notary_canonical_id}"
    emit({"key": entry_document(entry)}, human)


@key.command("list")
@json_option
def list_() -> None:
    """List the keys in the store."""
    entries = get_app().service.keys.list()
    emit({"keys": [entry_document(e) for e in entries]}, lambda: _table(entries))


@key.command()
@click.argument("ref")
@json_option
def show(ref: str) -> None:
    """Show one key (REF: keyid, keyid prefix of 8+ hex digits, or name)."""
    entry = get_app().service.keys.resolve(ref)
    emit({"key": entry_document(entry)}, lambda: _describe(entry))


@key.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="A unique name for the imported key.")
@click.option(
    "--notary-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Import every key of a Notary / Docker trust directory (~/.notary, ~/.docker/trust).",
)
@click.option("--pkcs11", is_flag=True, help="Register an ECDSA key that lives on a PKCS#11 token.")
@click.option("--token", "token_label", default=None, help="PKCS#11 token label (with --pkcs11).")
@click.option(
    "--key-id", "key_id", default="2", help="PKCS#11 key id (with --pkcs11), e.g. 2 or 0x01."
)
@click.option(
    "--passphrase-env",
    metavar="VAR",
    default=None,
    help="Environment variable holding the passphrase of the file being imported.",
)
@_backend_option
@_remember_option
@_allow_weak_option
@json_option
def import_(
    file: Path | None,
    name: str | None,
    notary_dir: Path | None,
    pkcs11: bool,
    token_label: str | None,
    key_id: str,
    passphrase_env: str | None,
    backend: str,
    remember: bool,
    allow_weak: bool,
) -> None:
    """Import a key: PEM (PKCS#8, traditional OpenSSL), a Notary / Docker trust key file,
    a public key (PEM or TUF JSON, as a public-only entry), a Notary directory, or a token key.

    Notary key files' passphrases are read from NOTARY_ROOT_PASSPHRASE,
    NOTARY_TARGETS_PASSPHRASE, NOTARY_SNAPSHOT_PASSPHRASE and NOTARY_DELEGATION_PASSPHRASE
    (by the file's role) when set, before --passphrase-file and TRUSTKEEP_PASSPHRASE.
    """
    sources = [x for x in (file is not None, notary_dir is not None, pkcs11) if x]
    if len(sources) != 1:
        raise InputError("give exactly one of FILE, --notary-dir DIR or --pkcs11")
    app = get_app()
    keys = app.service.keys
    if passphrase_env is not None:
        app.secrets.use_key_file_variable(passphrase_env)
    if notary_dir is not None:
        results = keys.import_notary_dir(
            notary_dir, backend=backend, remember=remember, allow_weak=allow_weak
        )
        doc = [{"path": str(r.path), "added": r.added, **entry_document(r.entry)} for r in results]
        human = "\n".join(
            f"{'imported' if r.added else 'already present'} {r.entry.label()} "
            f"role={r.entry.labels.get('role', '-')} from {r.path}"
            for r in results
        )
        emit({"keys": doc}, human)
        return
    if pkcs11:
        entries = [
            keys.import_pkcs11(token_label=token_label, key_id=_parse_key_id(key_id), name=name)
        ]
    else:
        assert file is not None
        entries = keys.import_bundle(
            file, name=name, backend=backend, remember=remember, allow_weak=allow_weak
        )
    human = "\n".join(
        f"imported {'public-only' if _backend(e) == 'public' else _backend(e)} key {e.keyid}"
        + (f" ({e.name})" if e.name else "")
        for e in entries
    )
    emit({"keys": [entry_document(e) for e in entries]}, human)


def _parse_key_id(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError as e:
        raise InputError(f"--key-id: not a number: {text!r}") from e
    if value < 0:
        raise InputError(f"--key-id: must not be negative: {text!r}")
    return value


@key.command()
@click.argument("ref")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pkcs8", "notary"]),
    default="pkcs8",
    show_default=True,
    help="pkcs8: encrypted PKCS#8 PEM; notary: a key file `notary key import` accepts.",
)
@click.option(
    "--role", default=None, help="Notary role header (default: the key's role label, else root)."
)
@click.option("--gun", default=None, help="Notary GUN header (targets/snapshot/timestamp keys).")
@click.option("--output", "-o", default=None, metavar="FILE", help="Write to FILE (0600).")
@_allow_weak_option
@json_option
def export(
    ref: str, fmt: str, role: str | None, gun: str | None, output: str | None, allow_weak: bool
) -> None:
    """Export a private key, encrypted under a new passphrase (TRUSTKEEP_NEW_PASSPHRASE)."""
    keys = get_app().service.keys
    entry = keys.resolve(ref)
    pem = keys.export_private(
        entry,
        fmt="notary" if fmt == "notary" else "pkcs8",
        role=role,
        gun=gun,
        allow_weak=allow_weak,
    )
    _emit_export(entry, fmt, "pem", pem.decode("ascii"), output=output, private=True)


@key.command("export-public")
@click.argument("ref")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pem", "tuf"]),
    default="pem",
    show_default=True,
    help="pem: SubjectPublicKeyInfo PEM; tuf: securesystemslib key JSON with its keyid.",
)
@click.option("--output", "-o", default=None, metavar="FILE", help="Write to FILE.")
@json_option
def export_public(ref: str, fmt: str, output: str | None) -> None:
    """Export a public key."""
    keys = get_app().service.keys
    entry = keys.resolve(ref)
    text = keys.export_public(entry, fmt="tuf" if fmt == "tuf" else "pem")
    _emit_export(entry, fmt, "public", text, output=output, private=False)


@key.command()
@click.argument("ref")
@click.option(
    "--remember/--forget",
    default=None,
    help="Remember the new passphrase in the OS keyring, or forget a remembered one.",
)
@_allow_weak_option
@json_option
def passwd(ref: str, remember: bool | None, allow_weak: bool) -> None:
    """Change a key's passphrase (re-encrypts atomically)."""
    entry = get_app().service.keys.passwd(ref, remember=remember, allow_weak=allow_weak)
    emit({"key": entry_document(entry)}, f"changed the passphrase of key {entry.label()}")


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


@key.command()
@click.argument("ref")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def remove(ref: str, yes: bool) -> None:
    """Remove a key from the store (its private half is deleted)."""
    keys = get_app().service.keys
    entry = keys.resolve(ref)
    if not yes:
        if not _stdin_is_tty():
            raise InputError(
                f"not removing key {entry.label()} without confirmation",
                hint="pass --yes to remove without asking",
            )
        what = "and its private key " if _backend(entry) in ("file", "keyring") else ""
        click.confirm(f"Remove key {entry.label()} {what}from the store?", abort=True, err=True)
    keys.remove(entry)
    emit({"removed": entry_document(entry)}, f"removed key {entry.label()}")


COMMANDS = [key]
