"""Where a new root's holder key comes from: generated here, imported, on a token, or
only its public half (the holder keeps the key elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.core.keys import KEY_TYPES, KeyEntry
from trustkeep.errors import InputError
from trustkeep.service import _keymaterial as km
from trustkeep.service._key_transfer import read_key_file

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = ["LOCATIONS", "NOTARY_LOCATIONS", "make_holder_key"]

LOCATIONS: dict[str, str] = {
    "file": "encrypted file in this key store",
    "keyring": "encrypted file, passphrase kept in the OS keyring",
    "pkcs11": "PKCS#11 token (key already on the token)",
    "public": "held elsewhere: the holder's public key file",
    "import": "import the holder's private key file (PEM or Notary)",
}
#: a Notary root certificate is signed here by its private key: made here or imported
NOTARY_LOCATIONS = ("file", "keyring", "import")


def make_holder_key(
    keys: KeyService,
    name: str,
    *,
    location: str,
    keytype: str,
    passphrase: str | None,
    path: str | None,
    token_label: str | None,
    token_key_id: int | None,
) -> KeyEntry:
    """The holder's key, added to the store as ``name``.

    ``passphrase`` encrypts a generated or imported private key in the store; an
    encrypted key file's own passphrase, and a token's PIN, are asked through the
    store's secrets handler.
    """
    if location in ("file", "keyring"):
        if keytype not in KEY_TYPES:
            raise InputError(f"unknown key type {keytype!r}")
        if not passphrase:
            raise InputError(f"{name}: type a passphrase for the new key")
        return keys.add_private(
            km.generate_private_key(keytype),
            name=name,
            backend=location,
            remember=location == "keyring",
            passphrase=passphrase,
        )
    if location in ("public", "import"):
        return _from_file(keys, name, location=location, path=path, passphrase=passphrase)
    if location == "pkcs11":
        if token_key_id is None:
            raise InputError(f"{name}: give the key's id on the token")
        return keys.import_pkcs11(token_label=token_label, key_id=token_key_id, name=name)
    raise InputError(f"unknown key location {location!r}")


def _from_file(
    keys: KeyService, name: str, *, location: str, path: str | None, passphrase: str | None
) -> KeyEntry:
    if not path or not path.strip():
        raise InputError(f"{name}: type the path of the key file")
    file = Path(path.strip()).expanduser()
    data = read_key_file(file)
    private = b"PRIVATE KEY-----" in data
    if location == "public" and private:
        raise InputError(f"{file}: holds a private key; choose 'import' for it")
    if location == "import" and not private:
        raise InputError(f"{file}: holds no private key; choose 'held elsewhere' for it")
    if private and not passphrase:
        raise InputError(f"{name}: type a new passphrase for the key in this store")
    return keys.import_bytes(data, source=str(file), name=name, new_passphrase=passphrase)
