"""The rotation service: the pins a new-root ceremony saved are named by the review of a
rotation that retires their key; threshold-only and expiry-only versions; amending a
staged root; a root changed since its review is not staged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rotation_support import rotation_world
from tuf.api.metadata import Metadata, Root
from tui_support import ADMIN_PASSPHRASE, TEST_KDF_ITERATIONS, Ceremony

from trustkeep.errors import InputError
from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService, ReviewOutdated
from trustkeep.service.ceremony_home import CeremonyHome
from trustkeep.service.ceremony_newroot import NewRootService
from trustkeep.service.ceremony_rotation import KeyFile, RotationPlan, RotationService

SECRET = "Holder-passphrase-123"


def test_rotation_review_names_the_saved_pins_it_breaks(tmp_path: Path) -> None:
    service = Service(tmp_path / "home", lambda _name: SECRET)
    service.keys.kdf_iterations = TEST_KDF_ITERATIONS
    flow = NewRootService(service, CeremonyHome(service, transcript=tmp_path / "t.jsonl"))
    repo = tmp_path / "repo"
    draft = flow.start(str(repo), fmt="tuf", holders=["alice"], threshold=1, root_days=30)
    draft = flow.holder_key(draft, 0, location="file", keytype="ed25519", passphrase=SECRET)
    draft = flow.role_keys(draft, passphrase=SECRET)
    assert flow.write(draft, reviewed=flow.review(draft).digest).complete
    (pin,) = [b for b in flow.pins(draft) if b.kind == "tuf"]
    saved = flow.save_pin(draft, pin, tmp_path / "pins" / "acme-root.json")
    carol = service.keys.generate("ed25519", name="carol")
    ceremony = CeremonyService(service, repo, transcript=flow.home.transcript)
    alice = ceremony.rotation.choices().root_keys[0]
    review = ceremony.rotation.review(RotationPlan(remove=(alice,), add=(carol.keyid,)))
    assert review.lines[1] == (
        f"! the pins saved in {saved} name the retired key alice ({alice[:8]}): clients "
        "pinned with them need the pins of the new root (save them after it)"
    )
    assert review.lines[-1] == f"sha256 of the signed content: {review.digest}"
    assert not (repo / "staged").exists()


def _rotation(ceremony: Ceremony, tmp_path: Path) -> tuple[Service, RotationService]:
    service = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    cs = CeremonyService(service, ceremony.repo, transcript=tmp_path / "t.jsonl")
    return service, cs.rotation


def test_threshold_only_and_expiry_only(ceremony: Ceremony, tmp_path: Path) -> None:
    """No key change: a new threshold (as `root threshold`), else a new expiry alone (as
    `root expire`); both stage root v2 unsigned, each amending the staged version."""
    h = rotation_world(ceremony)
    _, rotation = _rotation(ceremony, tmp_path)
    with pytest.raises(InputError, match="nothing to change"):
        rotation.review(RotationPlan(threshold=2))  # the current threshold: no change
    rotation.write(rotation.review(RotationPlan(threshold=1)))
    staged = Metadata[Root].from_file(str(ceremony.repo / "staged" / "root.json"))
    assert (staged.signed.version, staged.signed.roles["root"].threshold) == (2, 1)
    assert staged.signatures == {}
    when = datetime(2028, 6, 30, tzinfo=UTC)
    review = rotation.review(RotationPlan(expires="2028-06-30"))
    assert "~ root threshold 2 -> 1" in review.lines  # still against published v1
    rotation.write(review)
    staged = Metadata[Root].from_file(str(ceremony.repo / "staged" / "root.json"))
    assert (staged.signed.version, staged.signed.expires) == (2, when)
    assert rotation.progress().line == (
        "signed by old root: 0 of 2, new root: 0 of 1 — waiting for alice, bob"
    )
    assert h.carol not in staged.signed.roles["root"].keyids


def test_amending_a_signed_staged_root_says_what_it_drops(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    h = rotation_world(ceremony)
    service, rotation = _rotation(ceremony, tmp_path)
    rotation.write(rotation.review(RotationPlan(add=(h.carol,))))
    service.repo.sign_staged(ceremony.repo, "root", "alice")
    review = rotation.review(RotationPlan(threshold=3))
    assert review.lines[1] == (
        "! amends the staged root v2 (not published): its 1 signature(s) are dropped and "
        "its holders sign again"
    )


def test_a_root_changed_since_the_review_is_not_staged(ceremony: Ceremony, tmp_path: Path) -> None:
    h = rotation_world(ceremony)
    service, rotation = _rotation(ceremony, tmp_path)
    review = rotation.review(RotationPlan(files=(KeyFile(str(h.dave_pem), "dave"),)))
    service.repo.root_add_key(ceremony.repo, ["carol"], sign=False)  # someone else, meanwhile
    before = (ceremony.repo / "staged" / "root.json").read_bytes()
    with pytest.raises(ReviewOutdated, match="changed since you reviewed"):
        rotation.write(review)
    assert (ceremony.repo / "staged" / "root.json").read_bytes() == before
    assert service.keys.get(h.dave) is None  # nothing imported either


def test_a_taken_name_for_a_key_file_is_refused(ceremony: Ceremony, tmp_path: Path) -> None:
    h = rotation_world(ceremony)
    _, rotation = _rotation(ceremony, tmp_path)
    with pytest.raises(InputError, match="the name 'carol' is already used by key"):
        rotation.review(RotationPlan(files=(KeyFile(str(h.dave_pem), "carol"),)))
    assert not (ceremony.repo / "staged").exists()


def test_a_key_file_of_a_key_already_in_the_store_keeps_its_entry(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    h = rotation_world(ceremony)
    service, rotation = _rotation(ceremony, tmp_path)
    pem = tmp_path / "carol.pub.pem"
    pem.write_text(service.keys.export_public("carol"))
    review = rotation.review(RotationPlan(files=(KeyFile(str(pem), "someone"),)))
    assert f"+ key carol ({h.carol[:8]}) added to root" in review.lines
    assert not [line for line in review.lines if "from the public key file" in line]
    rotation.write(review)
    entry = service.keys.get(h.carol)
    assert entry is not None and entry.name == "carol" and entry.has_private
