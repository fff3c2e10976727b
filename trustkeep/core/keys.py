"""The persisted description of a key: never private material, only where it lives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from securesystemslib.signer import Key

__all__ = ["KEY_TYPES", "KeyEntry"]

#: CLI key type names -> (securesystemslib keytype, scheme)
KEY_TYPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "ed25519": ("ed25519", "ed25519"),
        "ecdsa-p256": ("ecdsa", "ecdsa-sha2-nistp256"),
        "ecdsa-p384": ("ecdsa", "ecdsa-sha2-nistp384"),
        "rsa-3072": ("rsa", "rsassa-pss-sha256"),
        "rsa-4096": ("rsa", "rsassa-pss-sha256"),
    }
)


@dataclass(frozen=True, kw_only=True)
class KeyEntry:
    """One key in the store: (keyid, public key, private-key URI, labels).

    ``uri`` says where the private half lives (``tkfile:<keyid>``, ``tkkeyring:<keyid>``,
    ``hsm:<id>?label=<token>``); its scheme picks the signer, and so the backend. It is
    ``None`` for a public-only entry (a key held by someone else).
    ``labels`` carry free-form metadata such as Notary ``role`` and ``gun``.
    ``remembered`` says the key's passphrase is kept in the OS keyring.
    """

    keyid: str
    name: str | None
    keytype: str
    scheme: str
    keyval: Mapping[str, str]
    uri: str | None
    notary_canonical_id: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    #: the passphrase of this key is remembered in the OS keyring
    remembered: bool = False

    @property
    def has_private(self) -> bool:
        return self.uri is not None

    @property
    def uri_scheme(self) -> str | None:
        """The private-key URI's scheme (``tkfile``), None for a public-only entry."""
        return None if self.uri is None else self.uri.partition(":")[0]

    def sslib_key(self) -> Key:
        from securesystemslib.signer import SSlibKey  # the signer package: when a key is used

        return SSlibKey(self.keyid, self.keytype, self.scheme, dict(self.keyval))

    def label(self) -> str:
        """Short human label: ``1a2b3c4d (alice)``."""
        short = self.keyid[:8]
        return f"{short} ({self.name})" if self.name else short

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyid": self.keyid,
            "name": self.name,
            "keytype": self.keytype,
            "scheme": self.scheme,
            "notary_canonical_id": self.notary_canonical_id,
            "has_private": self.has_private,
            "labels": dict(self.labels),
            "remembered": self.remembered,
            "keyval": dict(self.keyval),
        }
