"""Key store entries: names, new entries, the public half, new-passphrase rules.

Helpers of :class:`~trustkeep.service.keys.KeyService`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from trustkeep.core.keys import KeyEntry
from trustkeep.core.secrets import MIN_PASSPHRASE_LENGTH, weak_passphrase_reason
from trustkeep.errors import InputError
from trustkeep.service import _keymaterial as km
from trustkeep.service._keymaterial import PublicKey

if TYPE_CHECKING:
    from securesystemslib.signer import Key, SSlibKey

__all__ = [
    "HEX_RE",
    "MIN_PREFIX",
    "check_new_passphrase",
    "crypto_public",
    "new_entry",
    "validate_name",
]

HEX_RE = re.compile(r"^[0-9a-f]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MIN_PREFIX = 8


def validate_name(name: str) -> str:
    """Key names: 1-64 of ``A-Za-z0-9._@+-``, not something that reads as a keyid prefix."""
    if not _NAME_RE.match(name):
        raise InputError(
            f"invalid key name {name!r}: use 1-64 letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    if len(name) >= MIN_PREFIX and HEX_RE.match(name.lower()):  # resolve() ignores case
        raise InputError(f"invalid key name {name!r}: it would read as a keyid prefix")
    return name


def check_new_passphrase(passphrase: str, what: str, *, allow_weak: bool) -> None:
    reason = weak_passphrase_reason(
        passphrase, min_length=1 if allow_weak else MIN_PASSPHRASE_LENGTH
    )
    if reason is not None:
        hint = None if not passphrase else "choose a longer one, or accept it with --allow-weak"
        raise InputError(f"new passphrase for {what}: {reason}", hint=hint)


def crypto_public(key: Key) -> PublicKey:
    from securesystemslib.signer import SSlibKey

    if not isinstance(key, SSlibKey):
        raise InputError(f"key {key.keyid}: unsupported key class {type(key).__name__}")
    try:
        crypto_key = key._crypto_key()
    except (ValueError, TypeError) as e:
        raise InputError(f"key {key.keyid}: malformed public key value") from e
    return km.check_public_key(crypto_key, f"key {key.keyid}")


def new_entry(
    sslib: SSlibKey,
    canonical: str | None,
    *,
    uri: str | None,
    name: str | None,
    labels: Mapping[str, str] | None,
    existing: KeyEntry | None,
    scheme: str | None = None,
    remembered: bool = False,
) -> KeyEntry:
    """A store entry for ``sslib``; a public-only ``existing`` entry lends its name and labels."""
    return KeyEntry(
        keyid=sslib.keyid,
        name=name if name is not None else (existing.name if existing else None),
        keytype=sslib.keytype,
        scheme=scheme if scheme is not None else sslib.scheme,
        keyval=dict(sslib.keyval),
        uri=uri,
        notary_canonical_id=canonical,
        labels={**(dict(existing.labels) if existing else {}), **(labels or {})},
        remembered=remembered,
    )
