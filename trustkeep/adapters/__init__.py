"""Adapters: everything that touches files, the keyring, PKCS#11 tokens or the clock."""
