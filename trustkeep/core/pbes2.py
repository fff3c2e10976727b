"""PKCS#8 ``ENCRYPTED PRIVATE KEY`` with PBES2 (PBKDF2 + AES-256-CBC), built explicitly.

pyca/cryptography's ``BestAvailableEncryption`` for PKCS#8 uses only 2048 PBKDF2
iterations and cannot choose the PRF, so trustkeep assembles the ASN.1 itself
(asn1crypto) and uses cryptography only for PBKDF2 and AES. Pure: salt and IV
are parameters (the caller draws them from ``os.urandom``).
"""

from __future__ import annotations

import base64
import textwrap
from typing import Literal

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

__all__ = ["DEFAULT_ITERATIONS", "Prf", "encrypt_pkcs8_der", "pem_armor"]

#: PBKDF2-HMAC-SHA256 iterations for keys trustkeep stores (OWASP 2023: 600,000).
DEFAULT_ITERATIONS = 600_000

Prf = Literal["sha1", "sha256"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}


def encrypt_pkcs8_der(
    private_key_info_der: bytes,
    password: bytes,
    *,
    salt: bytes,
    iv: bytes,
    iterations: int = DEFAULT_ITERATIONS,
    prf: Prf = "sha256",
) -> bytes:
    """DER ``EncryptedPrivateKeyInfo`` (PBES2, PBKDF2-``prf``, AES-256-CBC).

    ``private_key_info_der`` is an unencrypted PKCS#8 ``PrivateKeyInfo``.
    """
    from asn1crypto import algos, keys  # only when a key is written: start-up skips it

    if len(iv) != 16:
        raise ValueError("AES-CBC needs a 16-byte IV")
    if iterations < 1:
        raise ValueError("iterations must be positive")
    kdf = PBKDF2HMAC(algorithm=_HASHES[prf](), length=32, salt=salt, iterations=iterations)
    key = kdf.derive(password)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(private_key_info_der) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plain) + encryptor.finalize()
    kdf_params: dict[str, object] = {
        "salt": algos.Pbkdf2Salt(name="specified", value=salt),
        "iteration_count": iterations,
    }
    if prf != "sha1":  # sha1 is the DEFAULT and must be omitted in DER
        kdf_params["prf"] = {"algorithm": prf}
    algorithm = algos.EncryptionAlgorithm(
        {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {"algorithm": "pbkdf2", "parameters": kdf_params},
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
            },
        }
    )
    info = keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": algorithm, "encrypted_data": ciphertext}
    )
    der: bytes = info.dump()
    return der


def pem_armor(der: bytes, label: str, headers: dict[str, str] | None = None) -> bytes:
    """PEM text: ``-----BEGIN label-----``, optional ``key: value`` headers, 64-char lines."""
    lines = [f"-----BEGIN {label}-----"]
    if headers:
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        lines.append("")
    lines.extend(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    lines.append(f"-----END {label}-----")
    return ("\n".join(lines) + "\n").encode("ascii")
