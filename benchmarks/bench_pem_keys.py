"""Throughput of the PEM / Notary key-file codec (not a test: figures move between runs).

Run: .venv/bin/python benchmarks/bench_pem_keys.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from trustkeep.adapters.notary_dir import scan_notary_dir
from trustkeep.core.pem_keys import (
    PrivateKeyTypes,
    dump_notary_pem,
    load_private_pem,
    notary_private_keyid,
)

PW = b"benchmark-passphrase"


def per_call(fn: Callable[[], object], rounds: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    keys: dict[str, PrivateKeyTypes] = {
        "ecdsa-p256": ec.generate_private_key(ec.SECP256R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "rsa-3072": rsa.generate_private_key(65537, 3072),
    }
    for name, key in keys.items():
        keyid = notary_private_keyid(key)
        notary = dump_notary_pem(key, PW, role="targets/releases", gun=None, keyid=keyid)
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        dump = per_call(
            lambda k=key, i=keyid: dump_notary_pem(
                k, PW, role="targets/releases", gun=None, keyid=i
            ),
            50,
        )
        load = per_call(lambda d=notary: load_private_pem(d, PW, source="bench"), 50)
        plain = per_call(lambda d=pkcs8: load_private_pem(d, None, source="bench"), 200)
        print(
            f"{name:11} dump_notary_pem {dump * 1e3:6.2f} ms  "
            f"load notary (PBKDF2-SHA1 x2048) {load * 1e3:6.2f} ms  "
            f"load plain PKCS#8 {plain * 1e3:6.3f} ms"
        )
    with tempfile.TemporaryDirectory() as tmp:
        private = Path(tmp) / "private"
        private.mkdir()
        key = keys["ecdsa-p256"]
        data = dump_notary_pem(key, PW, role="root", gun=None, keyid=notary_private_keyid(key))
        for i in range(500):
            (private / f"{i:064x}.key").write_bytes(data)
        scan = per_call(lambda: scan_notary_dir(Path(tmp)), 5)
        print(f"scan_notary_dir, 500 key files: {scan * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
