"""Fixtures for the ceremony TUI: two key stores (an admin's and bob's) and a repository
whose 2-of-2 root is signed by alice only, waiting for bob."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


import trustkeep_tui  # noqa: E402,F401  (installed from tui/ by pyproject's package-dir)

ADMIN_PASSPHRASE = "adminpass1"
#: typed key by key in the modal, so letters and digits only
BOB_PASSPHRASE = "bobsecret42"


#: PBKDF2 work for the test keys: real encryption, cheaper to unlock in every test
TEST_KDF_ITERATIONS = 20_000


def fast_keys(home: Path, passphrase: str):  # type: ignore[no-untyped-def]
    """A KeyService whose new keys are encrypted with ``TEST_KDF_ITERATIONS``."""
    from trustkeep.service.keys import KeyService

    return KeyService(home, lambda _name: passphrase, kdf_iterations=TEST_KDF_ITERATIONS)


def root_verification(path: Path):  # type: ignore[no-untyped-def]
    """python-tuf's verdict on a root file's signatures by its own keys."""
    from tuf.api.metadata import Metadata, Root

    md = Metadata[Root].from_file(str(path))
    return md.signed.get_verification_result("root", md.signed_bytes, md.signatures)


@dataclass(frozen=True)
class Ceremony:
    """``repo`` with root 2-of-2 (alice, bob) signed by alice; ``home`` is bob's store."""

    repo: Path
    home: Path
    admin_home: Path
    keyids: dict[str, str]


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Ceremony:
    """Keys and the repository, built once (each key costs a KDF); tests copy it."""
    from trustkeep.service import Service

    base = tmp_path_factory.mktemp("tui-template")
    admin = Service(base / "admin-home", lambda _name: ADMIN_PASSPHRASE)
    bob = Service(base / "bob-home", lambda _name: BOB_PASSPHRASE)
    admin_keys = fast_keys(base / "admin-home", ADMIN_PASSPHRASE)
    ids = {n: admin_keys.generate("ed25519", name=n).keyid for n in ("alice", "tgt", "snap", "ts")}
    ids["bob"] = fast_keys(base / "bob-home", BOB_PASSPHRASE).generate("ed25519", name="bob").keyid
    bob_pem = base / "bob.pub.pem"
    bob_pem.write_text(bob.keys.export_public("bob"))
    alice_pem = base / "alice.pub.pem"
    alice_pem.write_text(admin.keys.export_public("alice"))
    bob.keys.import_file(alice_pem, name="alice")
    admin.keys.import_file(bob_pem, name="bob")
    repo = base / "repo"
    admin.repo.init(
        repo,
        keys={
            "root": ["alice", "bob"],
            "targets": ["tgt"],
            "snapshot": ["snap"],
            "timestamp": ["ts"],
        },
        thresholds={"root": 2},
        expires="root=365d,targets=20d,snapshot=7d,timestamp=1d",
    )
    return Ceremony(repo=repo, home=base / "bob-home", admin_home=base / "admin-home", keyids=ids)


@pytest.fixture
def ceremony(tmp_path: Path, _template: Ceremony) -> Ceremony:
    """This test's own copy of the stores and the repository."""
    out = Ceremony(
        repo=tmp_path / "repo",
        home=tmp_path / "bob-home",
        admin_home=tmp_path / "admin-home",
        keyids=dict(_template.keyids),
    )
    shutil.copytree(_template.repo, out.repo)
    shutil.copytree(_template.home, out.home)
    shutil.copytree(_template.admin_home, out.admin_home)
    return out


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., object]:
    """``make_app(home, repo=None)`` -> a CeremonyApp over a real Service (transcript in
    tmp); with ``repo`` its status screen opens over the home screen."""
    from trustkeep_tui import CeremonyApp, TuiSecrets

    from trustkeep.service import Service

    def _make(home: Path, repo: Path | None = None, transcript: Path | None = None) -> CeremonyApp:
        secrets = TuiSecrets()
        service = Service(home, secrets)
        path = transcript or tmp_path / "transcript.jsonl"
        return CeremonyApp(service, secrets, directory=repo, transcript=path)

    return _make


@pytest.fixture
def tmux():  # type: ignore[no-untyped-def]
    """A tmux server on a socket of its own (CI installs tmux), killed afterwards."""
    from tmux_support import Tmux

    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            raise RuntimeError("tmux is not installed: tests/run.sh installs it")
        pytest.skip("tmux not installed")
    server = Tmux()
    try:
        yield server
    finally:
        server.kill()


def python_tuf_accepts(repo: Path) -> None:
    """python-tuf's client state machine loads root, timestamp, snapshot and targets."""
    from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
    from tuf.ngclient.config import EnvelopeType

    trusted = TrustedMetadataSet((repo / "root.json").read_bytes(), EnvelopeType.METADATA)
    trusted.update_timestamp((repo / "timestamp.json").read_bytes())
    trusted.update_snapshot((repo / "snapshot.json").read_bytes())
    trusted.update_targets((repo / "targets.json").read_bytes())


@pytest.fixture
def fresh_home(tmp_path: Path) -> Path:
    """An empty key store whose new keys use the cheap test KDF."""
    return tmp_path / "home"


def publish_with_bob(ceremony: Ceremony) -> None:
    """Bob adds the missing root signature to the staged repository; it is published."""
    from trustkeep.service import Service

    bob = Service(ceremony.home, lambda _name: BOB_PASSPHRASE)
    bob.repo.sign_staged(ceremony.repo, "root", "bob")
    bob.repo.publish(ceremony.repo)


def transcript_steps(path: Path) -> list[tuple[str, dict[str, object]]]:
    """(step, fields) of each entry, after checking the hash chain holds."""
    from trustkeep.service.ceremony_transcript import verify_transcript

    check = verify_transcript(path)
    assert check.ok, check.problems
    return [(e.step, dict(e.fields)) for e in check.entries]
