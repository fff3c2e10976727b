"""The delegations flow's service (what the TUI calls): reviews computed by running the
change on a copy, a write refused when the delegator changed since its review, role
details and the filter rule."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tui_support import ADMIN_PASSPHRASE, Ceremony, publish_with_bob


def _flow(ceremony: Ceremony, tmp_path: Path):  # type: ignore[no-untyped-def]
    from trustkeep.service import Service
    from trustkeep.service.ceremony import CeremonyService

    service = Service(ceremony.admin_home, lambda _name: ADMIN_PASSPHRASE)
    return CeremonyService(service, ceremony.repo, transcript=tmp_path / "t.jsonl").delegation


def _digest(repo: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(repo.rglob("*")):
        if p.is_file():
            h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


def test_a_review_writes_nothing_and_fails_where_the_write_would(
    ceremony: Ceremony, tmp_path: Path
) -> None:
    from trustkeep.errors import InputError

    publish_with_bob(ceremony)
    flow = _flow(ceremony, tmp_path)
    before = _digest(ceremony.repo)
    review = flow.review_add("apps", keys=["alice"], paths=["apps/*"], threshold=1)
    assert review.delegator == "targets"
    assert "then published at once, with a new snapshot and timestamp" in review.lines
    ids = ceremony.keyids
    assert f"~ targets v2: signed here by tgt ({ids['tgt'][:8]})" in review.lines
    assert f"~ apps v1: signed here by alice ({ids['alice'][:8]})" in review.lines
    with pytest.raises(InputError, match="threshold 2 is larger than its 1 key"):
        flow.review_add("apps", keys=["alice"], paths=["apps/*"], threshold=2)
    with pytest.raises(InputError, match="is a top-level role name"):
        flow.review_add("snapshot", keys=["alice"], paths=["x/*"], threshold=1)
    assert _digest(ceremony.repo) == before


def test_a_write_after_the_delegator_changed_is_refused(ceremony: Ceremony, tmp_path: Path) -> None:
    from trustkeep.service.ceremony import ReviewOutdated

    publish_with_bob(ceremony)
    flow = _flow(ceremony, tmp_path)
    review = flow.review_add("apps", keys=["alice"], paths=["apps/*"], threshold=1)
    flow.repo.delegation_add(ceremony.repo, "docs", keys=["alice"], paths=["docs/*"])
    before = _digest(ceremony.repo)
    with pytest.raises(ReviewOutdated, match="targets changed since you reviewed"):
        flow.add("apps", keys=["alice"], paths=["apps/*"], threshold=1, reviewed=review)
    assert _digest(ceremony.repo) == before
    again = flow.review_add("apps", keys=["alice"], paths=["apps/*"], threshold=1)
    flow.add("apps", keys=["alice"], paths=["apps/*"], threshold=1, reviewed=again)
    assert [d.role for d in flow.tree()] == ["docs", "apps"]


def test_details_states_and_classic_bins_beside_a_role(ceremony: Ceremony, tmp_path: Path) -> None:
    publish_with_bob(ceremony)
    flow = _flow(ceremony, tmp_path)
    flow.add("apps", keys=["alice", "bob"], paths=["apps/*"], threshold=2)  # bob signs elsewhere
    view = flow.view()
    assert view.state("apps") == "staged, waiting"
    details = "\n".join(view.details("apps"))
    assert "threshold: 2 of 2 key(s)" in details and "scope: paths apps/*" in details
    assert "apps keys: 1 of 2 signatures — waiting for bob" in details
    assert view.matches("apps", "WAIT") and not view.matches("apps", "expired")
    review = flow.review_bins(count=16, keys=["tgt"], threshold=1, style="classic")
    assert review.lines[0].startswith("+ targets delegates every path to 16 classic hash bins")
    assert any("staged in" in line for line in review.lines)  # the staging area is not empty


def test_bins_under_a_delegated_role(ceremony: Ceremony, tmp_path: Path) -> None:
    publish_with_bob(ceremony)
    flow = _flow(ceremony, tmp_path)
    review = flow.review_add("team", keys=["alice"], paths=["team/*"], threshold=1)
    flow.add("team", keys=["alice"], paths=["team/*"], threshold=1, reviewed=review)
    review = flow.review_bins(count=16, keys=["tgt"], threshold=1, prefix="tb", delegator="team")
    assert review.delegator == "team"
    assert review.lines[0].startswith("+ team delegates every path to 16 succinct hash bins tb-0")
    flow.bins(count=16, keys=["tgt"], threshold=1, prefix="tb", delegator="team", reviewed=review)
    view = flow.view()
    assert [(d.delegator, d.role) for d in view.infos] == [("targets", "team"), ("team", "tb-*")]
    assert view.members["tb-*"][:2] == ("tb-0", "tb-1")
    assert "16 bin file(s): 16 signed, 0 waiting" in view.details("tb-*")
