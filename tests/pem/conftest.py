"""Fixtures for the PEM / Notary key-file codec: trust directories the real notary writes."""

from __future__ import annotations

import pytest
from pem_support import TrustDir, notary_run, require_notary


@pytest.fixture(scope="session")
def generated_trust_dir(tmp_path_factory: pytest.TempPathFactory) -> TrustDir:
    """Offline: `notary key generate` of a root key and a delegation key."""
    require_notary()
    trust = tmp_path_factory.mktemp("notary-generated") / "trust"
    notary_run(trust, "key", "generate", "ecdsa")
    notary_run(trust, "key", "generate", "ecdsa", "--role", "targets/releases")
    return TrustDir(path=trust, gun=None)


@pytest.fixture(scope="session")
def initialized_trust_dir(tmp_path_factory: pytest.TempPathFactory, notary) -> TrustDir:  # type: ignore[no-untyped-def]
    """`notary init` against a real notary-server: root, targets and snapshot keys."""
    trust = tmp_path_factory.mktemp("notary-init") / "trust"
    gun = "example.com/acme/app"  # `notary key list` cuts longer GUNs
    notary_run(trust, "init", gun, server_url=notary.url)
    return TrustDir(path=trust, gun=gun)
