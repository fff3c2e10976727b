"""The rotation service after a new-root ceremony: the pins that ceremony saved are named
by the review of a rotation that retires the key they pin."""

from __future__ import annotations

from pathlib import Path

from tui_support import TEST_KDF_ITERATIONS

from trustkeep.service import Service
from trustkeep.service.ceremony import CeremonyService
from trustkeep.service.ceremony_home import CeremonyHome
from trustkeep.service.ceremony_newroot import NewRootService
from trustkeep.service.ceremony_rotation import RotationPlan

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
