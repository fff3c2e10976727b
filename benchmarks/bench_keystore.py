"""What the key store costs per operation (not a test: figures move between runs).

The PBKDF2-HMAC-SHA256 600,000-round KDF dominates every unlock and every store,
by design. Run: .venv/bin/python benchmarks/bench_keystore.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from trustkeep.core.keys import KEY_TYPES
from trustkeep.service.keys import KeyService

PASSPHRASE = "benchmark-passphrase"


def timed(fn: Callable[[], object], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        keys = KeyService(Path(tmp) / "home", lambda _: PASSPHRASE)
        print(f"{'operation':<34}{'ms/op':>10}")
        for key_type in KEY_TYPES:
            rounds = 2 if key_type.startswith("rsa") else 5
            ms = timed(lambda kt=key_type: keys.generate(kt), rounds) * 1000
            print(f"{'generate ' + key_type:<34}{ms:>10.1f}")
        entry = keys.generate("ecdsa-p256", name="bench")
        ms = timed(lambda: keys.signer("bench"), 5) * 1000
        print(f"{'unlock (signer) ecdsa-p256':<34}{ms:>10.1f}")
        signer = keys.signer("bench")
        ms = timed(lambda: signer.sign(b"x" * 1024), 200) * 1000
        print(f"{'sign 1 KiB ecdsa-p256 (unlocked)':<34}{ms:>10.3f}")
        ms = timed(lambda: keys.passwd(entry), 3) * 1000
        print(f"{'passwd ecdsa-p256':<34}{ms:>10.1f}")
        ms = timed(lambda: keys.resolve(entry.keyid[:8]), 50) * 1000
        print(f"{f'resolve prefix ({len(keys.list())} keys)':<34}{ms:>10.2f}")


if __name__ == "__main__":
    main()
