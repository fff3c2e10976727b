"""The new-root ceremony service: plan checks, holders elsewhere (staged), Notary roots,
resume and abort. The TUI flow itself is in test_tui_newroot.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from tui_support import TEST_KDF_ITERATIONS

from trustkeep.errors import InputError
from trustkeep.service import Service
from trustkeep.service.ceremony_home import CeremonyHome
from trustkeep.service.ceremony_newroot import NewRootService

SECRET = "Holder-passphrase-123"


def _service(home: Path) -> tuple[Service, NewRootService]:
    service = Service(home, lambda _name: SECRET)
    service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    return service, NewRootService(service, CeremonyHome(service, transcript=home / "t.jsonl"))


PLAN_ERRORS = {
    "no holder": ({"holders": []}, "name at least one key holder"),
    "threshold above holders": ({"threshold": 3}, "threshold 3 must be between 1 and 2"),
    "threshold zero": ({"threshold": 0}, "threshold 0 must be between 1 and 2"),
    "same holder twice": ({"holders": ["alice", "alice"]}, "holders must be distinct"),
    "notary without gun": ({"fmt": "notary", "holders": ["alice"], "threshold": 1}, "GUN"),
    "notary with two keys": ({"fmt": "notary", "gun": "r/x"}, "a Notary root is one key"),
    "absurd expiry": ({"root_days": 10**6}, "root expiry must be 1 to 36500 days"),
}


@pytest.mark.parametrize("case", PLAN_ERRORS, ids=list(PLAN_ERRORS))
def test_plan_is_checked_and_nothing_saved(case: str, tmp_path: Path) -> None:
    _, flow = _service(tmp_path / "home")
    changes, message = PLAN_ERRORS[case]
    args = {"fmt": "tuf", "holders": ["alice", "bob"], "threshold": 2, "root_days": 365}
    args.update(changes)
    with pytest.raises(InputError) as err:
        flow.start(str(tmp_path / "repo"), **args)  # type: ignore[arg-type]
    assert message in err.value.message
    assert flow.saved() == []


def test_holder_elsewhere_stages_the_root_and_the_draft_resumes(tmp_path: Path) -> None:
    _, flow = _service(tmp_path / "home")
    carol = Service(tmp_path / "carol", lambda _name: SECRET)
    carol.keys.kdf_iterations = TEST_KDF_ITERATIONS
    carol.keys.generate("ed25519", name="carol")
    pem = tmp_path / "carol.pub.pem"
    pem.write_text(carol.keys.export_public("carol"))
    repo = tmp_path / "repo"
    draft = flow.start(str(repo), fmt="tuf", holders=["alice", "carol"], threshold=2, root_days=30)
    draft = flow.holder_key(draft, 0, location="file", keytype="ed25519", passphrase=SECRET)
    # the terminal closes here: a new session finds the draft where it stopped
    _, resumed = _service(tmp_path / "home")
    (draft,) = resumed.saved()
    assert draft.next_holder == 1
    draft = resumed.holder_key(draft, 1, location="public", keytype="ed25519", path=str(pem))
    draft = resumed.role_keys(draft, passphrase=SECRET)
    review = resumed.review(draft)
    assert "the root then waits for 1 more of: carol" in review.lines[-1]
    assert not repo.exists()
    result = resumed.write(draft, reviewed=review.digest)
    assert not result.complete
    assert not (repo / "root.json").exists()  # nothing published: staged for carol
    assert (repo / "staged" / "root.json").is_file()
    assert "waiting for carol" in " ".join(result.lines)
    assert resumed.saved() == []


def test_a_changed_review_is_refused(tmp_path: Path) -> None:
    _, flow = _service(tmp_path / "home")
    draft = flow.start(str(tmp_path / "r"), fmt="tuf", holders=["alice"], threshold=1, root_days=9)
    draft = flow.holder_key(draft, 0, location="file", keytype="ed25519", passphrase=SECRET)
    draft = flow.role_keys(draft, passphrase=SECRET)
    with pytest.raises(InputError) as err:
        flow.write(draft, reviewed="0" * 64)
    assert "the review changed since you read it" in err.value.message
    assert not (tmp_path / "r").exists()


def test_abort_forgets_the_draft_and_writes_no_metadata(tmp_path: Path) -> None:
    _, flow = _service(tmp_path / "home")
    draft = flow.start(str(tmp_path / "r"), fmt="tuf", holders=["alice"], threshold=1, root_days=9)
    flow.abort(draft, step="holder 1")
    assert flow.saved() == []
    assert not (tmp_path / "r").exists()
    lines = (tmp_path / "home" / "t.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == "new root aborted"


@pytest.mark.interop
def test_notary_root_certificate_and_pins(tmp_path: Path) -> None:
    _, flow = _service(tmp_path / "home")
    gun = "registry.example.com/acme/app"
    out = tmp_path / "notary-root"
    draft = flow.start(
        str(out), fmt="notary", holders=["alice"], threshold=1, root_days=3650, gun=gun
    )
    assert draft.holders[0].keytype == "ecdsa-p256"
    draft = flow.holder_key(draft, 0, location="file", keytype="ecdsa-p256", passphrase=SECRET)
    result = flow.write(draft, reviewed=flow.review(draft).digest)
    cert = x509.load_pem_x509_certificate((out / "root.crt").read_bytes())
    assert cert.subject.rfc4514_string() == f"CN={gun}"
    openssl = subprocess.run(
        ["openssl", "x509", "-in", str(out / "root.crt"), "-noout", "-subject"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert gun in openssl.stdout
    blocks = {b.kind: b for b in flow.pins(draft)}
    docker = json.loads(blocks["docker"].text)
    cert_id = result.lines[0].removeprefix("certificate ID ")
    assert cert_id in json.dumps(docker)
    notary = json.loads(blocks["notary"].text)
    assert cert_id in json.dumps(notary)


def _key_files(tmp_path: Path) -> tuple[Path, Path]:
    """An unencrypted PEM private key and its public key PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


KEY_FILE_ERRORS = {
    "public given a private key": ("tuf", "public", "private", "holds a private key; choose"),
    "import given a public key": ("tuf", "import", "public", "holds no private key; choose"),
    "import without a passphrase": ("tuf", "import", "private-nopass", "type a new passphrase"),
    "notary holder elsewhere": ("notary", "public", "public", "self-signed here"),
    "notary key on a token": ("notary", "pkcs11", "public", "PKCS#11 token (key already on"),
}


@pytest.mark.parametrize("case", KEY_FILE_ERRORS, ids=list(KEY_FILE_ERRORS))
def test_wrong_key_file_for_the_location_is_refused_and_nothing_stored(
    case: str, tmp_path: Path
) -> None:
    service, flow = _service(tmp_path / "home")
    fmt, location, which, message = KEY_FILE_ERRORS[case]
    private, public = _key_files(tmp_path)
    gun = "r.example/app" if fmt == "notary" else None
    draft = flow.start(
        str(tmp_path / "r"), fmt=fmt, holders=["alice"], threshold=1, root_days=9, gun=gun
    )
    path = public if which == "public" else private
    passphrase = None if which == "private-nopass" else SECRET
    with pytest.raises(InputError) as err:
        flow.holder_key(
            draft, 0, location=location, keytype="ed25519", passphrase=passphrase, path=str(path)
        )
    assert message in err.value.message
    assert service.keys.list() == []  # refused before anything entered the store
    (saved,) = flow.saved()
    assert saved.next_holder == 0
