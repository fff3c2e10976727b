"""The protocol bullets: request counts, rollback, equal versions, partial progress, roots.

Every scenario runs trustkeep's client and python-tuf's ``Updater`` on the same
repository state (``Clients.both``): same verdict, same trusted versions on disk.
Request sequences are asserted exactly for trustkeep.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from client_support import Clients, versions
from simulator import Repository, days, new_signer, sign_document

from trustkeep.service.pull import ClientSession, Limits

FRESH = [("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)]


def test_fresh_refresh_requests_root_n_plus_1_then_each_top_level_role_once(
    clients: Clients,
) -> None:
    out = clients.both()
    assert out.ok
    assert out.requests == FRESH
    assert out.versions == {
        "root.json": 1, "snapshot.json": 1, "targets.json": 1, "timestamp.json": 1,
    }  # fmt: skip


def test_403_ends_the_root_walk_like_404(clients: Clients, repo: Repository) -> None:
    repo.bump_root()
    repo.status["2.root.json"] = 403
    out = clients.both()
    assert out.ok and out.versions["root.json"] == 1
    assert out.requests == FRESH


def test_other_http_errors_fail_without_retry(clients: Clients, repo: Repository) -> None:
    repo.status["2.root.json"] = 500
    out = clients.both()
    assert not out.ok and out.requests == [("root", 2)]
    del repo.status["2.root.json"]
    repo.status["timestamp.json"] = 404
    out = clients.both()
    assert not out.ok and out.requests == [("root", 2), ("timestamp", None)]
    assert out.versions == {"root.json": 1}


def test_second_refresh_fetches_root_and_timestamp_only(clients: Clients) -> None:
    assert clients.both().ok
    out = clients.both()
    assert out.ok
    # equal timestamp version: kept, and the valid local snapshot/targets are not fetched
    assert out.requests == [("root", 2), ("timestamp", None)]


def test_equal_timestamp_version_with_new_content_is_not_stored(
    clients: Clients, repo: Repository
) -> None:
    assert clients.both().ok
    before = (clients.metadata_dir("trustkeep") / "timestamp.json").read_bytes()
    repo.md["timestamp"].signed.snapshot_meta.version = 100
    repo.publish("timestamp")
    out = clients.both()
    assert out.ok
    assert out.requests == [("root", 2), ("timestamp", None)]
    assert (clients.metadata_dir("trustkeep") / "timestamp.json").read_bytes() == before


def test_local_snapshot_and_targets_at_recorded_version_are_not_fetched(
    clients: Clients, repo: Repository
) -> None:
    assert clients.both().ok
    repo.publish_timestamp()  # timestamp v2, same snapshot v1
    out = clients.both()
    assert out.requests == [("root", 2), ("timestamp", None)]
    assert out.versions["timestamp.json"] == 2
    repo.update_targets()  # targets v2, snapshot v2, timestamp v3
    out = clients.both()
    assert out.requests == [("root", 2), ("timestamp", None), ("snapshot", 2), ("targets", 2)]


def test_timestamp_rollback_stops_all_fetching(clients: Clients, repo: Repository) -> None:
    repo.publish_timestamp()  # v2
    assert clients.both().ok
    repo.md["timestamp"].signed.version = 1
    repo.publish("timestamp")
    out = clients.both()
    assert not out.ok
    assert out.requests == [("root", 2), ("timestamp", None)]
    assert out.versions["timestamp.json"] == 2


def test_snapshot_version_rollback_in_timestamp_stops_all_fetching(
    clients: Clients, repo: Repository
) -> None:
    repo.hashes = True
    repo.update_snapshot()  # snapshot v2, timestamp v2
    assert clients.both().ok
    repo.md["snapshot"].signed.version = 1
    repo.publish("snapshot")
    repo.publish_timestamp()  # v3 recording snapshot v1
    out = clients.both()
    assert not out.ok
    assert out.requests[-1] == ("timestamp", None)
    assert out.versions == {
        "root.json": 1,
        "snapshot.json": 2,
        "targets.json": 1,
        "timestamp.json": 2,
    }


def test_snapshot_404_keeps_the_new_timestamp(clients: Clients, repo: Repository) -> None:
    assert clients.both().ok
    repo.update_snapshot()
    del repo.published["snapshot"][2]
    out = clients.both()
    assert not out.ok
    assert out.requests == [("root", 2), ("timestamp", None), ("snapshot", 2)]
    assert out.versions["timestamp.json"] == 2 and out.versions["snapshot.json"] == 1


def test_snapshot_version_not_the_one_timestamp_records(clients: Clients, repo: Repository) -> None:
    repo.md["snapshot"].signed.version += 1
    repo.published["snapshot"][1] = repo.sign("snapshot")  # served as 1.snapshot.json
    out = clients.both()
    assert not out.ok
    assert out.versions == {"root.json": 1, "timestamp.json": 1}
    assert out.requests[-1] == ("snapshot", 1)


def test_stale_local_snapshot_still_guards_targets_rollback(
    clients: Clients, repo: Repository
) -> None:
    repo.hashes = True
    repo.update_targets()  # targets v2
    assert clients.both().ok
    repo.md["targets"].signed.version = 1
    repo.publish("targets")
    repo.update_snapshot()  # snapshot v3 records targets v1: rollback against local v2
    out = clients.both()
    assert not out.ok
    assert out.versions["snapshot.json"] == 2 and out.versions["targets.json"] == 2


def test_unsigned_local_root_makes_no_request(clients: Clients) -> None:
    path = clients.metadata_dir("trustkeep") / "root.json"
    doc = json.loads(path.read_bytes())
    doc["signatures"][0]["sig"] = "00" * 64
    for who in ("trustkeep", "oracle"):
        (clients.metadata_dir(who) / "root.json").write_text(json.dumps(doc))
    out = clients.both()
    assert not out.ok
    assert out.requests == []


def test_malformed_local_root_makes_no_request(clients: Clients) -> None:
    doc = json.loads(clients.root)
    del doc["signed"]["version"]
    for who in ("trustkeep", "oracle"):
        (clients.metadata_dir(who) / "root.json").write_text(json.dumps(doc))
    out = clients.both()
    assert not out.ok and out.requests == []


def test_metadata_dir_holds_only_the_latest_non_versioned_files(
    clients: Clients, repo: Repository
) -> None:
    repo.bump_root()
    repo.delegate("targets", "a/../b", paths=["*"])
    repo.publish_all()
    assert clients.trustkeep("missing").ok is False  # looks up the delegated role
    top = sorted(p.name for p in clients.metadata_dir("trustkeep").iterdir())
    assert top == [
        "a%2F..%2Fb.json",
        "root.json",
        "root_history",
        "snapshot.json",
        "targets.json",
        "timestamp.json",
    ]
    history = clients.metadata_dir("trustkeep") / "root_history"
    assert sorted(p.name for p in history.iterdir()) == ["2.root.json"]
    # the exact bytes the server sent
    assert (clients.metadata_dir("trustkeep") / "root.json").read_bytes() == repo.published["root"][
        2
    ]
    assert (clients.metadata_dir("trustkeep") / "a%2F..%2Fb.json").read_bytes() == (
        repo.published["a/../b"][1]
    )


# -- root rotation -----------------------------------------------------------------


def test_root_rotation_chain_then_404(clients: Clients, repo: Repository) -> None:
    repo.bump_root()
    repo.bump_root()
    out = clients.both()
    assert out.ok
    assert out.requests[:4] == [("root", 2), ("root", 3), ("root", 4), ("timestamp", None)]
    assert out.versions["root.json"] == 3


def test_root_version_field_must_be_n_plus_1(clients: Clients, repo: Repository) -> None:
    repo.root.version = 3
    data = repo.publish_root()
    repo.published["root"][2] = data  # served as 2.root.json, says version 3
    del repo.published["root"][3]
    out = clients.both()
    assert not out.ok
    assert out.requests == [("root", 2)]
    assert out.versions == {"root.json": 1}


def _rotate_root_keys(repo: Repository, old_keep: int, new_count: int, threshold: int) -> list:
    """New root: keep ``old_keep`` old root keys, add keys up to ``new_count``, ``threshold``."""
    old = list(repo.signers["root"])
    for signer in old[old_keep:]:
        repo.root.revoke_key(signer.public_key.keyid, "root")
    repo.signers["root"] = old[:old_keep]
    while len(repo.signers["root"]) < new_count:
        repo.add_key("root")
    repo.root.roles["root"].threshold = threshold
    return old


def test_root_threshold_changes_one_to_five_keys(clients: Clients, repo: Repository) -> None:
    for count in range(1, 6):
        old = _rotate_root_keys(repo, 1, count, count)
        repo.bump_root(old=old)
        out = clients.both()
        assert out.ok and out.versions["root.json"] == count + 1


def test_root_rotation_without_old_threshold_fails(clients: Clients, repo: Repository) -> None:
    old = _rotate_root_keys(repo, 0, 3, 2)
    repo.bump_root(old=[])  # signed by the new keys only
    del old
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1


def test_root_rotation_without_new_threshold_fails(clients: Clients, repo: Repository) -> None:
    old = _rotate_root_keys(repo, 1, 3, 3)
    repo.root.version += 1
    repo.publish("root", signers=[*old, repo.signers["root"][1]])  # 2 of the 3 new keys
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1


def test_old_threshold_of_two_needs_two_distinct_old_keys(
    clients: Clients, repo: Repository
) -> None:
    _rotate_root_keys(repo, 1, 2, 2)
    repo.bump_root()  # v2: two root keys, threshold 2
    assert clients.both().ok
    first, second = repo.signers["root"]
    repo.root.version += 1
    repo.publish("root", signers=[first, second])
    assert clients.both().ok  # v3 by both
    repo.root.version += 1
    repo.publish("root", signers=[first])
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 3


def test_duplicate_keyids_in_a_root_role_are_refused(clients: Clients, repo: Repository) -> None:
    signed = repo.md["root"].signed.to_dict()
    signed["version"] = 2
    keyid = signed["roles"]["root"]["keyids"][0]
    signed["roles"]["root"]["keyids"] = [keyid, keyid]
    signed["roles"]["root"]["threshold"] = 2
    repo.published["root"][2] = sign_document(signed, repo.signers["root"])
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1


def test_duplicate_signatures_are_refused(clients: Clients, repo: Repository) -> None:
    repo.root.roles["root"].threshold = 1
    repo.root.version = 2
    doc = json.loads(repo.publish_root())
    doc["signatures"] = doc["signatures"] * 2
    repo.published["root"][2] = json.dumps(doc).encode()
    out = clients.both()
    assert not out.ok and out.versions["root.json"] == 1


def test_unknown_signatures_are_ignored(clients: Clients, repo: Repository) -> None:
    repo.root.version = 2
    repo.publish("root", signers=[*repo.signers["root"], new_signer()])
    out = clients.both()
    assert out.ok and out.versions["root.json"] == 2


def test_same_key_under_two_keyids_counts_once(clients: Clients, repo: Repository) -> None:
    """Stricter than python-tuf (which counts keyids): one key is one signer.

    The second keyid is not the key's hash (keyids are not recomputed), so
    python-tuf counts two signatures here and accepts; trustkeep counts the key once.
    """
    signer = repo.signers["root"][0]
    signed = repo.md["root"].signed.to_dict()
    signed["version"] = 2
    alias = "ab" * 32
    signed["keys"][alias] = signed["keys"][signer.public_key.keyid]
    signed["roles"]["root"]["keyids"].append(alias)
    signed["roles"]["root"]["threshold"] = 2
    from securesystemslib.formats import encode_canonical

    sig = signer.sign(encode_canonical(signed).encode()).signature
    doc = {
        "signed": signed,
        "signatures": [
            {"keyid": signer.public_key.keyid, "sig": sig},
            {"keyid": alias, "sig": sig},
        ],
    }
    repo.published["root"][2] = json.dumps(doc).encode()
    assert clients.trustkeep().ok is False
    assert versions(clients.metadata_dir("trustkeep"))["root.json"] == 1
    assert clients.oracle().ok is True  # python-tuf: two keyids, two signatures


def test_expired_final_root_is_persisted_then_refused(clients: Clients, repo: Repository) -> None:
    """Spec §5.3.10: the final root's expiry is checked after it is persisted.

    trustkeep then stops (no timestamp request: the update is aborted); python-tuf
    still fetches timestamp before refusing it. Same verdict, same files.
    """
    repo.root.expires = days(-1)
    repo.bump_root()
    mine = clients.trustkeep()
    assert not mine.ok
    assert mine.requests == [("root", 2), ("root", 3)]
    assert mine.versions == {"root.json": 2}
    theirs = clients.oracle()
    assert not theirs.ok and theirs.versions == mine.versions


def test_expired_intermediate_root_is_fine(clients: Clients, repo: Repository) -> None:
    repo.root.expires = days(-1)
    repo.bump_root()
    repo.root.expires = days(30)
    repo.bump_root()
    out = clients.both()
    assert out.ok and out.versions["root.json"] == 3


def test_root_rotations_are_bounded(clients: Clients, repo: Repository) -> None:
    for _ in range(6):
        repo.bump_root()
    assert clients.both().versions["root.json"] == 7  # python-tuf agrees below its bound
    for _ in range(6):
        repo.bump_root()
    clients.server.clear()
    session = ClientSession(
        metadata_dir=clients.metadata_dir("trustkeep"),
        metadata_url=clients.server.metadata_url,
        at=datetime.now(UTC),
        limits=Limits(root_rotations=3),
    )
    session.refresh()  # the bound ends the walk: no error, the next refresh goes on
    roots = [r for r in clients.server.metadata_requests() if r[0] == "root"]
    assert roots == [("root", 8), ("root", 9), ("root", 10)]
    assert versions(clients.metadata_dir("trustkeep"))["root.json"] == 10


@pytest.mark.parametrize(
    "served",
    [b"", b"not json", b"[]", b'{"signed": {}, "signatures": []}', b"\xff\xfe", "snapshot"],
)
def test_malformed_or_wrong_type_timestamp(
    clients: Clients, repo: Repository, served: bytes | str
) -> None:
    assert clients.both().ok
    repo.publish_timestamp()
    data = repo.published["snapshot"][1] if served == "snapshot" else served
    assert isinstance(data, bytes)
    repo.raw["timestamp.json"] = data
    out = clients.both()
    assert not out.ok and out.versions["timestamp.json"] == 1
    assert out.requests == [("root", 2), ("timestamp", None)]


def test_a_verified_root_in_root_history_is_not_fetched_again(
    clients: Clients, repo: Repository
) -> None:
    """An interrupted run can leave root.json behind its root_history copy (as python-tuf)."""
    repo.bump_root()
    repo.bump_root()
    assert clients.both().ok
    for who in ("trustkeep", "oracle"):
        (clients.metadata_dir(who) / "root.json").unlink()
        (clients.metadata_dir(who) / "root.json").write_bytes(repo.published["root"][1])
    out = clients.both()
    assert out.ok and out.versions["root.json"] == 3
    assert out.requests == [("root", 4), ("timestamp", None)]
    history = clients.metadata_dir("trustkeep") / "root_history" / "2.root.json"
    history.write_bytes(b"{}")  # a broken copy is ignored: fetched instead
    (clients.metadata_dir("trustkeep") / "root.json").write_bytes(repo.published["root"][1])
    mine = clients.trustkeep()
    assert mine.ok and mine.requests[:2] == [("root", 2), ("root", 4)]
