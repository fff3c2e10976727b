"""Secrets for scripts: per-key variables, the passphrase file, their order, the hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from keystore_support import snapshot

from trustkeep.cli._secrets import CliSecrets
from trustkeep.core.secrets import SecretRequest, env_suffix, weak_passphrase_reason
from trustkeep.errors import InputError, KeyAccessError
from trustkeep.service import Service
from trustkeep.service.keys import KeyService

FAST = 20_000  # PBKDF2 iterations for keys made by the fixtures (unlocking stays cheap)
PASSPHRASES = {"tgt": "targets-secret-1", "snap": "snapshot-secret-2", "ts": "timestamp-secret-3"}
ROOT_PASSPHRASE = "root-secret-0"


def by_key_name(request: str) -> str:
    """A test handler answering each key's own passphrase, by the request's key name."""
    assert isinstance(request, SecretRequest)
    return PASSPHRASES.get(request.key_name or "", ROOT_PASSPHRASE)


@pytest.fixture
def repo(home: Path, tmp_path: Path) -> Path:
    """A TUF repository whose targets, snapshot and timestamp keys have different passphrases."""
    keys = KeyService(home, by_key_name, kdf_iterations=FAST)
    for name in ("root", *PASSPHRASES):
        keys.generate("ed25519", name=name)
    directory = tmp_path / "repo"
    Service(home, by_key_name).repo.init(
        directory,
        keys={"root": ["root"], "targets": ["tgt"], "snapshot": ["snap"], "timestamp": ["ts"]},
    )
    return directory


def test_env_suffix_upper_cases_and_replaces_other_characters() -> None:
    assert env_suffix("root-alice@example.com") == "ROOT_ALICE_EXAMPLE_COM"
    assert env_suffix("tgt") == "TGT"
    assert env_suffix("a.b+c_d") == "A_B_C_D"


def test_refresh_with_two_passphrases_through_per_key_variables(
    run_cli, home: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """One shared TRUSTKEEP_PASSPHRASE cannot open keys with different passphrases (exit 3);
    TRUSTKEEP_PASSPHRASE_<NAME> per key can."""
    argv = ("--home", str(home), "refresh", str(repo), "--json")
    before = snapshot(repo)
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASES["tgt"])
    code, out, err = run_cli(*argv)
    assert code == 3
    hint = (
        "it came from TRUSTKEEP_PASSPHRASE, which every key shares: "
        "give this key its own in TRUSTKEEP_PASSPHRASE_SNAP"
    )
    first, second = err.splitlines()
    assert first.startswith("trustkeep: error: wrong passphrase for key ")
    assert first.endswith(" (snap)")
    assert second == f"trustkeep: hint: {hint}"
    assert json.loads(out)["error"]["hint"] == hint
    assert snapshot(repo) == before
    monkeypatch.delenv("TRUSTKEEP_PASSPHRASE")
    for name, passphrase in PASSPHRASES.items():
        monkeypatch.setenv(f"TRUSTKEEP_PASSPHRASE_{name.upper()}", passphrase)
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE_SNAP", "not the one")
    code, out, err = run_cli(*argv)
    assert code == 3
    assert err.splitlines()[1] == "trustkeep: hint: it came from TRUSTKEEP_PASSPHRASE_SNAP"
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE_SNAP", PASSPHRASES["snap"])
    code, out, err = run_cli(*argv)
    assert code == 0, err
    for role in ("targets", "snapshot", "timestamp"):
        assert json.loads((repo / f"{role}.json").read_text())["signed"]["version"] == 2


def test_passphrase_file_option_and_variable(
    run_cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """--passphrase-file (or TRUSTKEEP_PASSPHRASE_FILE): the secret mount's one trailing
    newline is not part of the passphrase; a missing file is a usage error (exit 2)."""
    KeyService(home, lambda _r: "from-a-secret-mount", kdf_iterations=FAST).generate(
        "ed25519", name="ci"
    )
    secret = tmp_path / "secret"
    secret.write_text("from-a-secret-mount\n")
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "export-passphrase")
    export = ("key", "export", "ci", "--json")
    code, out, err = run_cli("--home", str(home), "--passphrase-file", str(secret), *export)
    assert code == 0, err
    assert json.loads(out)["pem"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE_FILE", str(secret))
    assert run_cli("--home", str(home), *export)[0] == 0
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE_FILE", str(tmp_path / "absent"))
    code, out, err = run_cli("--home", str(home), *export)
    assert code == 2
    assert err == (
        f"trustkeep: error: passphrase file {tmp_path / 'absent'}: cannot read: "
        "No such file or directory\n"
    )
    assert json.loads(out)["error"] == {
        "code": "input",
        "message": f"passphrase file {tmp_path / 'absent'}: cannot read: No such file or directory",
        "hint": None,
    }


KEY = SecretRequest.passphrase("key 1a2b3c4d (alice)", key_name="alice", keyid="1a2b3c4d" * 8)
NEW = SecretRequest.new_passphrase("key 1a2b3c4d (alice)", min_length=8, key_name="alice")
NOTARY = SecretRequest.passphrase("key file root.key", notary_role="root")
PIN = SecretRequest.pin("token hsm-1", token="hsm-1")
FILE_KEY = SecretRequest.passphrase("key 0a0b0c0d (file)", key_name="file", keyid="0a0b0c0d" * 8)
OWN, BY_ID = "TRUSTKEEP_PASSPHRASE_ALICE", "TRUSTKEEP_PASSPHRASE_1A2B3C4D"
SHARED = "TRUSTKEEP_PASSPHRASE"


@pytest.mark.parametrize(
    ("request_", "environ", "file_text", "expected"),
    [
        # the key's own variable beats the file, which beats the shared variable
        (KEY, {OWN: "own", SHARED: "shared"}, "file", "own"),
        (KEY, {BY_ID: "by-id", SHARED: "x"}, None, "by-id"),
        (KEY, {OWN: "own", BY_ID: "id"}, None, "own"),
        (KEY, {SHARED: "shared"}, "file", "file"),
        (KEY, {SHARED: "shared"}, None, "shared"),
        (KEY, {"TRUSTKEEP_PASSPHRASE_BOB": "not alice's", SHARED: "s"}, None, "s"),
        # a passphrase being set: TRUSTKEEP_NEW_PASSPHRASE first, then the key's own
        (NEW, {"TRUSTKEEP_NEW_PASSPHRASE": "new", OWN: "own"}, None, "new"),
        (NEW, {OWN: "own", SHARED: "shared"}, None, "own"),
        # a Notary key file: Notary's own variable for its role
        (NOTARY, {"NOTARY_ROOT_PASSPHRASE": "notary", SHARED: "s"}, "f", "notary"),
        (NOTARY, {"NOTARY_TARGETS_PASSPHRASE": "other role"}, "f", "f"),
        # a key named "file": TRUSTKEEP_PASSPHRASE_FILE names the passphrase file, not it
        (FILE_KEY, {"TRUSTKEEP_PASSPHRASE_FILE": "/nonexistent", SHARED: "s"}, "f", "f"),
        (PIN, {"TRUSTKEEP_PIN_HSM_1": "1234", "TRUSTKEEP_PIN": "9999"}, "file", "1234"),
        (PIN, {"TRUSTKEEP_PIN": "9999"}, "file", "9999"),
    ],
)
def test_lookup_order(
    tmp_path: Path,
    request_: SecretRequest,
    environ: dict[str, str],
    file_text: str | None,
    expected: str,
) -> None:
    path = None
    if file_text is not None:
        path = tmp_path / "passphrase"
        path.write_text(file_text + "\n")
    assert CliSecrets(passphrase_file=path, environ=environ)(request_) == expected


@pytest.mark.parametrize(
    ("request_", "hint"),
    [
        (
            KEY,
            "set TRUSTKEEP_PASSPHRASE_ALICE, TRUSTKEEP_PASSPHRASE_1A2B3C4D, "
            "TRUSTKEEP_PASSPHRASE_FILE (or --passphrase-file) or TRUSTKEEP_PASSPHRASE, "
            "or run in a terminal",
        ),
        (
            NOTARY,
            "set NOTARY_ROOT_PASSPHRASE, TRUSTKEEP_PASSPHRASE_FILE (or --passphrase-file) "
            "or TRUSTKEEP_PASSPHRASE, or run in a terminal",
        ),
        (PIN, "set TRUSTKEEP_PIN_HSM_1 or TRUSTKEEP_PIN, or run in a terminal"),
    ],
)
def test_no_terminal_hint_names_the_variables_for_that_key(
    request_: SecretRequest, hint: str
) -> None:
    with pytest.raises(KeyAccessError) as exc:
        CliSecrets(environ={})(request_)
    first = hint.removeprefix("set ").split(",")[0].split(" or ")[0]
    assert exc.value.message == f"no {request_}: no terminal to ask on and {first} is not set"
    assert exc.value.hint == hint


def test_notary_import_hint_through_the_cli(run_cli, home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Notary key file without its NOTARY_<ROLE>_PASSPHRASE: exit 3, and the hint says so."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from trustkeep.core import pem_keys

    key = ec.generate_private_key(ec.SECP256R1())
    pem = pem_keys.dump_notary_pem(
        key,
        b"notary-pass-1",
        role="targets",
        gun="example.com/app",
        keyid=pem_keys.notary_private_keyid(key),
    )
    path = tmp_path / "targets.key"
    path.write_bytes(pem)
    code, out, err = run_cli("--home", str(home), "key", "import", str(path), "--json")
    assert code == 3
    assert err.splitlines() == [
        f"trustkeep: error: no passphrase for key file {path}: no terminal to ask on and "
        "NOTARY_TARGETS_PASSPHRASE is not set",
        "trustkeep: hint: set NOTARY_TARGETS_PASSPHRASE, TRUSTKEEP_PASSPHRASE_FILE "
        "(or --passphrase-file) or TRUSTKEEP_PASSPHRASE, or run in a terminal",
    ]
    assert json.loads(out)["error"]["code"] == "key-access"


def test_passphrase_env_of_key_import_goes_through_the_handler(
    run_cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"file-pass-1"),
    )
    path = tmp_path / "k.pem"
    path.write_bytes(pem)
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "store-pass-1")
    argv = ("--home", str(home), "key", "import", str(path), "--passphrase-env", "MY_VAR")
    code, _, err = run_cli(*argv)
    assert (code, err) == (2, "trustkeep: error: --passphrase-env: variable MY_VAR is not set\n")
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "not it")
    monkeypatch.setenv("MY_VAR", "file-pass-1")
    code, _, err = run_cli(*argv)
    assert code == 0, err


# -- strength of new passphrases ------------------------------------------------------


@pytest.mark.parametrize(
    ("passphrase", "min_length", "reason"),
    [
        ("", 8, "an empty passphrase is not accepted: the private key is encrypted under it"),
        ("", 1, "an empty passphrase is not accepted: the private key is encrypted under it"),
        ("seven77", 8, "a passphrase of 7 characters is too short: use at least 8"),
        ("seven77", 1, None),
        ("eight888", 8, None),
    ],
)
def test_weak_passphrase_reason(passphrase: str, min_length: int, reason: str | None) -> None:
    assert weak_passphrase_reason(passphrase, min_length=min_length) == reason


def test_short_passphrase_refused_for_new_keys_unless_allow_weak(
    run_cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "short")
    argv = ("--home", str(home), "key", "generate", "--type", "ed25519", "--name", "w")
    code, out, err = run_cli(*argv)
    assert (code, out) == (2, "")
    first, hint = err.splitlines()
    assert first.startswith("trustkeep: error: new passphrase for key ")
    assert first.endswith(" (w): a passphrase of 5 characters is too short: use at least 8")
    assert hint == "trustkeep: hint: choose a longer one, or accept it with --allow-weak"
    assert not (home / "keys").exists() or not list((home / "keys").glob("*.json"))
    code, out, err = run_cli(*argv, "--allow-weak")
    assert code == 0, err
    monkeypatch.setenv("TRUSTKEEP_NEW_PASSPHRASE", "")
    code, _, err = run_cli("--home", str(home), "key", "passwd", "w", "--allow-weak")
    assert code == 2
    assert "an empty passphrase is not accepted" in err


def test_weak_new_passphrase_refused_by_the_service(home: Path) -> None:
    """The rule lives in the service: a TUI or a script handler gets it too."""
    keys = KeyService(home, lambda _r: "1234567", kdf_iterations=FAST)
    with pytest.raises(InputError, match="7 characters is too short: use at least 8"):
        keys.generate("ed25519")
    assert keys.list() == []
    assert keys.generate("ed25519", allow_weak=True).uri is not None


def test_the_environment_is_read_for_secrets_in_one_place_only() -> None:
    """Every secret comes through the secrets handler: outside the CLI's one secrets source,
    the environment is read only for configuration (home, keyring backend, PKCS#11 module)."""
    import re

    import trustkeep

    package = Path(trustkeep.__file__).parent
    allowed = {
        "cli/_secrets.py": None,  # the one secrets source: anything
        "adapters/home.py": {"TRUSTKEEP_HOME"},
        "adapters/keyring_store.py": {"PYTHON_KEYRING_BACKEND"},
        "adapters/pkcs11.py": {"PYKCS11LIB"},
    }
    reads = re.compile(r"(?:os\.environ(?:\.get)?|os\.getenv)\s*[\[(]\s*([^\])]*)")
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        names = {m.group(1).strip().strip("\"'") for m in reads.finditer(text)}
        if "os.environ" in text.replace("os.environ.get", "").replace("os.environ[", ""):
            names.add("<os.environ as a whole>")
        if names:
            found[str(path.relative_to(package))] = names
    for module, names in found.items():
        assert module in allowed, f"{module} reads the environment: {sorted(names)}"
        if allowed[module] is not None:
            assert names <= allowed[module], f"{module}: {sorted(names)}"  # type: ignore[operator]


def test_a_request_is_its_prompt_text_and_copies_with_its_facts() -> None:
    """Handlers that only show text (the TUI's modal, test lambdas) get a plain ``str``."""
    import copy
    import pickle

    assert KEY == "passphrase for key 1a2b3c4d (alice)" and isinstance(KEY, str)
    assert NEW.startswith("new passphrase for ") and NEW.min_length == 8
    for clone in (copy.deepcopy(KEY), pickle.loads(pickle.dumps(KEY))):
        assert clone == KEY
        assert (clone.kind, clone.key_name, clone.keyid) == (KEY.kind, "alice", KEY.keyid)
