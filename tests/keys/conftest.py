"""Fixtures for the key store: a real keyring file backend, a real SoftHSM2 token, homes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from keystore_support import (
    PASSPHRASE,
    SOFTHSM_MODULE,
    TOKEN_LABEL,
    TOKEN_PIN,
    SoftHSM,
    require_softhsm,
    secrets_from,
)

from trustkeep.service.keys import KeyService


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def keys(home: Path) -> KeyService:
    """A key service whose passphrases are all PASSPHRASE."""
    return KeyService(home, secrets_from({"": PASSPHRASE}))


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """No usable keyring backend (keyring's fail backend)."""
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHSM]:
    """A real SoftHSM2 token in a temp dir with ECDSA P-256 (id 1) and P-384 (id 2) keys.

    SoftHSM reads its config once per process, so the token lives for the session.
    """
    require_softhsm()
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        mp.setenv("PYKCS11LIB", SOFTHSM_MODULE)
        subprocess.run(
            [
                *("softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL),
                *("--pin", TOKEN_PIN, "--so-pin", "so-" + TOKEN_PIN),
            ],
            check=True,
            capture_output=True,
        )
        import pkcs11
        from pkcs11.util.ec import encode_named_curve_parameters

        token = pkcs11.lib(SOFTHSM_MODULE).get_token(token_label=TOKEN_LABEL)
        with token.open(rw=True, user_pin=TOKEN_PIN) as session:
            for key_id, curve in ((1, "secp256r1"), (2, "secp384r1")):
                params = session.create_domain_parameters(
                    pkcs11.KeyType.EC,
                    {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters(curve)},
                    local=True,
                )
                params.generate_keypair(store=True, label=curve, id=bytes([key_id]))
        yield SoftHSM(SOFTHSM_MODULE, TOKEN_LABEL, TOKEN_PIN, conf)


@pytest.fixture
def cli(run_cli, home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """run_cli with --home and TRUSTKEEP_PASSPHRASE set; never a traceback."""
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)

    def _run(*argv: str) -> tuple[int, str, str]:
        code, out, err = run_cli("--home", str(home), *argv)
        assert "Traceback" not in err
        return code, out, err

    return _run
