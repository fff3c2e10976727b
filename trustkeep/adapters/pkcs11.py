"""PKCS#11 tokens (HSMs, YubiKeys, SoftHSM2) through securesystemslib's ``HSMSigner``.

Keys are reached by the ``hsm:<key id>?label=<token label>`` URI. The PKCS#11
module comes from ``PYKCS11LIB`` (as securesystemslib expects); when it is unset
and SoftHSM2 is installed, SoftHSM2's module is used. The PIN is asked through
the secrets handler as ``"PIN for token <label>"`` once, checked by logging in,
then used for every signature of that signer.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib import parse

from securesystemslib.signer import HSMSigner, Key, Signature, Signer, SSlibKey

from trustkeep.core.secrets import SecretRequest, SecretsHandler
from trustkeep.core.sslib_signer import load_hsm_backend
from trustkeep.errors import InputError, KeyAccessError

load_hsm_backend()  # a verification earlier in this process may have held it back

__all__ = ["DEFAULT_MODULES", "TokenSigner", "import_token_key", "token_label_of"]

DEFAULT_MODULES = (
    Path("/usr/lib/softhsm/libsofthsm2.so"),
    Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
)


def _ensure_module() -> None:
    if os.environ.get("PYKCS11LIB"):
        return
    for path in DEFAULT_MODULES:
        if path.exists():
            os.environ["PYKCS11LIB"] = str(path)
            return
    raise KeyAccessError(
        "no PKCS#11 module configured",
        hint="set PYKCS11LIB to the token's PKCS#11 library (e.g. libsofthsm2.so, libykcs11.so)",
    )


def token_label_of(uri: str) -> str | None:
    return dict(parse.parse_qsl(parse.urlparse(uri).query)).get("label")


def _token_error(what: str, e: Exception) -> KeyAccessError:
    import pkcs11.exceptions as p11e

    if isinstance(e, p11e.PinIncorrect | p11e.PinInvalid | p11e.PinLenRange):
        return KeyAccessError(f"wrong PIN for {what}")
    if isinstance(e, p11e.PinLocked):
        return KeyAccessError(f"PIN of {what} is locked")
    detail = str(e) or type(e).__name__
    return KeyAccessError(f"PKCS#11 {what}: {detail}")


def _check_token(token_label: str | None, what: str) -> None:
    """A missing token is a key access failure (exit 3), unlike a wrong key id (exit 2)."""
    import pkcs11
    import pkcs11.exceptions as p11e

    try:
        pkcs11.lib(os.environ["PYKCS11LIB"]).get_token(
            token_label=token_label, token_flags=pkcs11.TokenFlag.TOKEN_INITIALIZED
        )
    except p11e.NoSuchToken as e:
        raise KeyAccessError(
            f"PKCS#11: {what} is not present",
            hint="plug the token in, or check --token and PYKCS11LIB",
        ) from e
    except p11e.MultipleTokensReturned as e:
        which = f"are labelled {token_label}" if token_label else "are present"
        raise InputError(
            f"PKCS#11: several tokens {which}", hint="pick one with --token LABEL"
        ) from e
    except p11e.PKCS11Error as e:
        raise _token_error(what, e) from e


def import_token_key(
    *, token_label: str | None, key_id: int, secrets_handler: SecretsHandler
) -> tuple[str, SSlibKey]:
    """``(uri, public key)`` of ECDSA key ``key_id`` on the token (PIN asked if needed)."""
    import pkcs11.exceptions as p11e

    _ensure_module()
    what = f"token {token_label}" if token_label else "the PKCS#11 token"

    def ask_pin(_: str) -> str:
        return secrets_handler(SecretRequest.pin(what, token=token_label))

    _check_token(token_label, what)
    try:
        uri, key = HSMSigner.import_(key_id, token_label, ask_pin)
    except ValueError as e:
        raise InputError(f"PKCS#11 key {key_id} on {what}: {e}") from e
    except p11e.PKCS11Error as e:
        raise _token_error(what, e) from e
    if not isinstance(key, SSlibKey):  # pragma: no cover - import_ returns SSlibKey
        raise InputError(f"PKCS#11 key {key_id} on {what}: unsupported key")
    return uri, key


class TokenSigner(Signer):
    """An ``HSMSigner`` whose PIN was checked up front and whose errors are trustkeep's."""

    def __init__(self, uri: str, public_key: Key, secrets_handler: SecretsHandler) -> None:
        import pkcs11.exceptions as p11e

        _ensure_module()
        label = token_label_of(uri)
        self._what = f"token {label}" if label else "the PKCS#11 token"
        pin = secrets_handler(SecretRequest.pin(self._what, token=label))
        try:
            self._inner = HSMSigner.from_priv_key_uri(uri, public_key, lambda _: pin)
            token = HSMSigner._find_token(label)
            with token.open(user_pin=pin) as session:
                HSMSigner._find_signing_key(session, self._inner.hsm_keyid)
        except ValueError as e:
            raise KeyAccessError(f"PKCS#11 key {uri} on {self._what}: {e}") from e
        except p11e.PKCS11Error as e:
            raise _token_error(self._what, e) from e

    @property
    def public_key(self) -> Key:
        key: Key = self._inner.public_key
        return key

    @classmethod
    def from_priv_key_uri(
        cls, priv_key_uri: str, public_key: Key, secrets_handler: SecretsHandler | None = None
    ) -> TokenSigner:
        if secrets_handler is None:
            raise ValueError("TokenSigner needs a secrets handler for the PIN")
        return cls(priv_key_uri, public_key, secrets_handler)

    def sign(self, payload: bytes) -> Signature:
        import pkcs11.exceptions as p11e

        try:
            signature: Signature = self._inner.sign(payload)
        except ValueError as e:
            raise KeyAccessError(f"PKCS#11 signing on {self._what}: {e}") from e
        except p11e.PKCS11Error as e:
            raise _token_error(self._what, e) from e
        return signature
