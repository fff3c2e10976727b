"""Import into and export out of the key store: PEM, TUF key JSON, Notary key files, tokens.

Functions over a :class:`~trustkeep.service.keys.KeyService`; its methods
``import_bytes``, ``import_notary_dir``, ``import_pkcs11``, ``export_private`` and
``export_public`` delegate here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography.hazmat.primitives import serialization
from securesystemslib.signer import SSlibKey

from trustkeep.core import pem_keys
from trustkeep.core.keys import KeyEntry
from trustkeep.core.secrets import SecretRequest
from trustkeep.errors import InputError, KeyAccessError
from trustkeep.service import _keymaterial as km

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = [
    "MAX_KEY_FILE_BYTES",
    "ImportedNotaryKey",
    "PrivateFormat",
    "PublicFormat",
    "export_private",
    "export_public",
    "import_bundle",
    "import_bytes",
    "import_notary_dir",
    "import_pkcs11",
    "read_key_file",
]

MAX_KEY_FILE_BYTES = 1 << 20
PrivateFormat = Literal["pkcs8", "notary"]
PublicFormat = Literal["pem", "tuf"]


@dataclass(frozen=True)
class ImportedNotaryKey:
    """One key file of a Notary trust directory and what became of it."""

    path: Path
    entry: KeyEntry
    added: bool  # False: the key was already in the store


def read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from e
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(f"{path}: too large for a key file (over {MAX_KEY_FILE_BYTES} bytes)")
    return data


def import_bytes(
    service: KeyService,
    data: bytes,
    *,
    source: str,
    password: str | None = None,
    name: str | None = None,
    backend: str = "file",
    remember: bool = False,
    labels: Mapping[str, str] | None = None,
    allow_weak: bool = False,
    new_passphrase: str | None = None,
) -> KeyEntry:
    """Import one key: a private key PEM, a public key PEM, or a TUF/securesystemslib key JSON."""
    if data.lstrip().startswith(b"{"):
        key = _sslib_key_from_json(data, source)
        return service.add_public(key, name=name, labels=labels)
    if b"PRIVATE KEY-----" in data:
        loaded = _load_private(service, data, source=source, password=password)
        merged = {**_notary_labels(loaded.headers), **(labels or {})}
        private_key = km.check_private_key(loaded.private_key, source)
        return service.add_private(
            private_key,
            name=name,
            backend=backend,
            remember=remember,
            labels=merged,
            passphrase=new_passphrase,
            allow_weak=allow_weak,
        )
    if b"-----BEGIN PUBLIC KEY-----" in data:
        try:
            public = serialization.load_pem_public_key(data)
        except ValueError as e:
            raise InputError(f"{source}: corrupt public key PEM") from e
        crypto_key = km.check_public_key(public, source)
        sslib, _ = km.public_identity(crypto_key)
        return service.add_public(sslib, name=name, labels=labels)
    raise InputError(
        f"{source}: not a key file (expected a PEM private or public key, or a TUF key JSON)"
    )


def import_bundle(
    service: KeyService,
    data: bytes,
    *,
    source: str,
    password: str | None = None,
    passwords: Mapping[str, str] | None = None,
    name: str | None = None,
    backend: str = "file",
    remember: bool = False,
    allow_weak: bool = False,
) -> list[KeyEntry]:
    """Import every key of a file: one key, or the several PEM blocks `notary key export`
    writes. All blocks are decrypted before anything is stored; ``passwords`` maps a
    Notary role (``root``, ``targets``, ``snapshot``, ``delegation``) to its passphrase.
    Keys already in the store are returned as they are.
    """
    try:
        blocks = pem_keys.split_pem_blocks(data) if b"PRIVATE KEY-----" in data else []
    except InputError:  # malformed: the single-key path reports it naming the file
        blocks = []
    if len(blocks) <= 1:
        role = pem_keys.pem_headers(data).get("role") if blocks else None
        if password is None and role:
            password = (passwords or {}).get(_role_group(role))
        entry = import_bytes(
            service,
            data,
            source=source,
            password=password,
            name=name,
            backend=backend,
            remember=remember,
            allow_weak=allow_weak,
        )
        return [entry]
    if name is not None:
        raise InputError(f"{source}: holds {len(blocks)} keys; --name needs a file with one key")
    loaded: list[tuple[km.PrivateKey, dict[str, str]]] = []
    for n, block in enumerate(blocks, 1):
        where = f"{source} (key {n} of {len(blocks)})"
        role = pem_keys.pem_headers(block).get("role")
        secret = (passwords or {}).get(_role_group(role)) if role else None
        lk = _load_private(
            service, block, source=where, password=secret or password, notary_role=role
        )
        loaded.append((km.check_private_key(lk.private_key, where), _notary_labels(lk.headers)))
    results: list[KeyEntry] = []
    new_passphrase: str | None = None
    for private_key, labels in loaded:
        sslib, _ = km.public_identity(private_key.public_key())
        existing = service.get(sslib.keyid)
        if existing is not None and existing.has_private:
            results.append(existing)
            continue
        if new_passphrase is None:
            new_passphrase = service.ask_new_passphrase(
                f"the keys imported from {source}", allow_weak=allow_weak
            )
        results.append(
            service.add_private(
                private_key,
                backend=backend,
                remember=remember,
                labels=labels,
                passphrase=new_passphrase,
                allow_weak=allow_weak,
            )
        )
    return results


def _role_group(role: str) -> str:
    """The Notary passphrase group of a role: delegations share one."""
    return "delegation" if "/" in role else role


def _load_private(
    service: KeyService,
    data: bytes,
    *,
    source: str,
    password: str | None,
    notary_role: str | None = None,
) -> pem_keys.LoadedPrivateKey:
    secret: bytes | None = None
    if pem_keys.pem_is_encrypted(data):
        if password is None:
            role = notary_role or pem_keys.pem_headers(data).get("role")
            request = SecretRequest.passphrase(
                f"key file {source}", notary_role=_role_group(role) if role else None
            )
            password = service.secrets_handler(request)
        secret = password.encode("utf-8")
    return pem_keys.load_private_pem(data, secret, source=source)


def _notary_labels(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: headers[k] for k in ("role", "gun") if headers.get(k)}


def _sslib_key_from_json(data: bytes, source: str) -> SSlibKey:
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise InputError(f"{source}: malformed JSON: {e}") from e
    keyid = None
    if isinstance(doc, dict) and "keytype" not in doc and len(doc) == 1:
        ((keyid, doc),) = doc.items()  # {"<keyid>": {keytype, scheme, keyval}}
    if not isinstance(doc, dict) or not isinstance(doc.get("keyval"), dict):
        raise InputError(f"{source}: not a TUF key (needs keytype, scheme and keyval)")
    if "private" in doc["keyval"] and doc["keyval"]["private"]:
        raise InputError(
            f"{source}: holds a plaintext private key; import it as an encrypted PEM instead"
        )
    body = {k: doc.get(k) for k in ("keytype", "scheme")}
    body["keyval"] = {"public": doc["keyval"].get("public")}
    try:
        key = SSlibKey.from_dict(str(keyid or doc.get("keyid") or "0"), dict(body))
        crypto_key = km.check_public_key(key._crypto_key(), source)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{source}: not a usable TUF key: {e}") from e
    sslib, _ = km.public_identity(crypto_key)
    return SSlibKey(sslib.keyid, key.keytype, key.scheme, dict(sslib.keyval))


def import_notary_dir(
    service: KeyService,
    path: Path,
    *,
    passwords: Mapping[str, str] | None = None,
    backend: str = "file",
    remember: bool = False,
    allow_weak: bool = False,
) -> list[ImportedNotaryKey]:
    """Import every key of a ``~/.notary`` / ``~/.docker/trust`` directory (all layouts).

    All files are decrypted first; a wrong passphrase aborts before anything is stored.
    ``passwords`` maps a Notary role (``root``, ``targets``, ...) to its passphrase;
    other keys' passphrases are asked through the secrets handler.
    """
    from trustkeep.adapters.notary_dir import scan_notary_dir

    files = scan_notary_dir(path)
    if not files:
        raise InputError(f"{path}: no Notary key files found")
    loaded: list[tuple[Path, km.PrivateKey, dict[str, str]]] = []
    for kf in files:
        role = kf.role or "unknown"
        password = (passwords or {}).get(_role_group(role))
        if password is None and pem_keys.pem_is_encrypted(kf.pem):
            password = service.secrets_handler(
                SecretRequest.passphrase(
                    f"Notary {role} key {kf.keyid[:8]} ({kf.path})",
                    notary_role=_role_group(role) if kf.role else None,
                )
            )
        lk = _load_private_with(kf.pem, password, source=str(kf.path))
        labels = {"role": kf.role or "", "gun": kf.gun or ""}
        labels = {k: v for k, v in {**labels, **_notary_labels(lk.headers)}.items() if v}
        loaded.append((kf.path, km.check_private_key(lk.private_key, str(kf.path)), labels))
    results: list[ImportedNotaryKey] = []
    new_passphrase: str | None = None
    for file_path, private_key, labels in loaded:
        sslib, _ = km.public_identity(private_key.public_key())
        existing = service.get(sslib.keyid)
        if existing is not None and existing.has_private:
            results.append(ImportedNotaryKey(file_path, existing, added=False))
            continue
        if new_passphrase is None:
            new_passphrase = service.ask_new_passphrase(
                f"the keys imported from {path}", allow_weak=allow_weak
            )
        entry = service.add_private(
            private_key,
            backend=backend,
            remember=remember,
            labels=labels,
            passphrase=new_passphrase,
            allow_weak=allow_weak,
        )
        results.append(ImportedNotaryKey(file_path, entry, added=True))
    return results


def _load_private_with(
    pem: bytes, password: str | None, *, source: str
) -> pem_keys.LoadedPrivateKey:
    secret = password.encode("utf-8") if password is not None else None
    return pem_keys.load_private_pem(pem, secret, source=source)


def import_pkcs11(
    service: KeyService,
    *,
    token_label: str | None,
    key_id: int,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> KeyEntry:
    """Register ECDSA key ``key_id`` of a PKCS#11 token (the key stays on the token)."""
    from trustkeep.adapters.pkcs11 import import_token_key

    uri, key = import_token_key(
        token_label=token_label, key_id=key_id, secrets_handler=service.secrets_handler
    )
    return service.add_token_key(uri, key, name=name, labels=labels)


def export_private(
    service: KeyService,
    ref: str | KeyEntry,
    *,
    fmt: PrivateFormat = "pkcs8",
    role: str | None = None,
    gun: str | None = None,
    allow_weak: bool = False,
) -> bytes:
    """The private key, encrypted under a new export passphrase (never plaintext)."""
    if fmt != "notary" and (role is not None or gun is not None):
        raise InputError("--role and --gun are Notary key file headers: use --format notary")
    entry = service.resolve(ref)
    backend = service.backend_of(entry)
    if backend in ("pkcs11", "public"):
        raise KeyAccessError(f"key {entry.keyid} has no exportable private key ({backend})")
    private_key = service.private_key(entry)
    passphrase = service.ask_new_passphrase(
        f"the exported key {entry.label()}", allow_weak=allow_weak
    )
    if fmt == "notary":
        role = role if role is not None else entry.labels.get("role") or "root"
        gun = gun if gun is not None else entry.labels.get("gun")
        keyid = pem_keys.notary_private_keyid(private_key)
        return pem_keys.dump_notary_pem(
            private_key, passphrase.encode("utf-8"), role=role, gun=gun, keyid=keyid
        )
    return km.encrypt_store_pem(private_key, passphrase, iterations=service.kdf_iterations)


def export_public(service: KeyService, ref: str | KeyEntry, *, fmt: PublicFormat = "pem") -> str:
    """The public key as PEM SubjectPublicKeyInfo or as TUF key JSON (with its keyid)."""
    entry = service.resolve(ref)
    if fmt == "tuf":
        doc = {"keyid": entry.keyid, **entry.sslib_key().to_dict()}
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    public = service.public_key(entry)
    pem: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")
