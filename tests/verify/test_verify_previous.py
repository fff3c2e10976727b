"""`--previous` is trusted state, as python-tuf's client cache is (issue 8 §2): verdicts
against the Updater started from that cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from securesystemslib.signer import CryptoSigner
from tufrepo import NOW, Repo, updater_accepts

from trustkeep.core.verify import MetadataBundle, verify_tuf

Files = dict[str, bytes]


def _cache_of(files: Files, root_name: str) -> Files:
    """What python-tuf's Updater keeps: the trusted root and the top-level roles, plain names."""
    snap = next(n for n in files if n.endswith("snapshot.json"))
    targets = next(n for n in files if n.endswith(".targets.json") or n == "targets.json")
    return {
        "root.json": files[root_name],
        "timestamp.json": files["timestamp.json"],
        "snapshot.json": files[snap],
        "targets.json": files[targets],
    }


def test_previous_root_is_the_anchor_a_stranger_repository_is_invalid(tmp_path: Path) -> None:
    previous = Repo.build().files()
    stranger = Repo.build()
    root = stranger.roots[0].signed
    for role in ("root", "timestamp", "snapshot", "targets"):  # different keys everywhere
        new = CryptoSigner.generate_ed25519()
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
        root.add_key(new.public_key, role)
        stranger.keys[role] = [new]
    stranger.rotate_root()
    stranger.rotate_root()
    stranger.refresh()
    files = stranger.files()
    report = verify_tuf(
        MetadataBundle(files, source="new"), at=NOW, previous=MetadataBundle(previous, "old")
    )
    assert report.anchor.kind == "previous" and report.anchor.version == 1
    assert "no-anchor" not in {f.code for f in report.findings}
    assert not report.valid
    assert "root-rotation-invalid" in report.codes()
    assert not updater_accepts(files, None, tmp_path, cache=_cache_of(previous, "1.root.json"))


def _restart_low(rotate: bool) -> tuple[Files, Files]:
    """A repository at timestamp/snapshot v5, then root v2 (new timestamp and snapshot keys
    when ``rotate``) and the repository restarts at timestamp/snapshot v1."""
    repo = Repo.build(consistent=False)
    assert repo.timestamp is not None and repo.snapshot is not None
    repo.timestamp.signed.version = repo.snapshot.signed.version = 5
    repo.refresh()
    before = repo.files()
    if rotate:
        repo.rotate_root(new_key=False)
        root = repo.roots[-1].signed
        for role in ("timestamp", "snapshot"):
            new = CryptoSigner.generate_ed25519()
            for keyid in list(root.roles[role].keyids):
                root.revoke_key(keyid, role)
            root.add_key(new.public_key, role)
            repo.keys[role] = [new]
    repo.timestamp.signed.version = repo.snapshot.signed.version = 1
    repo.refresh()
    return before, repo.files()


@pytest.mark.parametrize(("rotate", "valid"), [(True, True), (False, False)])
def test_fast_forward_recovery_as_the_updater(rotate: bool, valid: bool, tmp_path: Path) -> None:
    """Spec §5.3.11: after the timestamp and snapshot keys rotate, old versions in the
    cache no longer verify and do not block a restart at v1; without rotation, v1 is a
    rollback."""
    before, after = _restart_low(rotate)
    report = verify_tuf(
        MetadataBundle(after, source="new"), at=NOW, previous=MetadataBundle(before, "old")
    )
    cache = {
        "root.json": before["1.root.json"],
        "timestamp.json": before["timestamp.json"],
        "snapshot.json": before["snapshot.json"],
    }
    assert updater_accepts(after, None, tmp_path, cache=cache) is valid
    assert report.valid is valid, report.findings
    if rotate:
        skipped = [f for f in report.findings if f.code == "rollback"]
        assert {(f.severity, f.role) for f in skipped} == {
            ("warning", "timestamp"), ("warning", "snapshot"),
        }  # fmt: skip
    else:
        assert {(f.code, f.role) for f in report.errors} >= {
            ("rollback", "timestamp"), ("rollback", "snapshot"),
        }  # fmt: skip
