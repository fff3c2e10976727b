"""The pure engine (``TrustedState``) step by step against python-tuf's ``TrustedMetadataSet``.

Both get the same bytes at the same reference time; each step must pass or fail in both,
and a failing step must name the finding code the report uses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from simulator import Repository, days
from tuf.api.exceptions import RepositoryError
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType

from trustkeep.core.client import ClientError, TrustedState

Step = tuple[str, bytes, bool]  # (method, data, local)


def _run(root: bytes, steps: list[tuple[str, bytes, bool]], at_days: int) -> list[str | None]:
    at = days(0) + timedelta(days=at_days)
    mine = TrustedState(root, at=at)
    theirs = TrustedMetadataSet(root, EnvelopeType.METADATA)
    theirs.reference_time = at
    codes: list[str | None] = []
    for method, data, local in steps:
        try:
            if method == "timestamp":
                mine.update_timestamp(data)
            elif method == "snapshot":
                mine.update_snapshot(data, local=local)
            else:
                mine.update_targets(data, "targets", "root")
            code = None
        except ClientError as e:
            code = e.code
        try:
            if method == "timestamp":
                theirs.update_timestamp(data)
            elif method == "snapshot":
                theirs.update_snapshot(data, trusted=local)
            else:
                theirs.update_targets(data)
            ok = True
        except RepositoryError:
            ok = False
        assert (code is None) == ok, (method, code)
        codes.append(code)
    return codes


def test_expired_local_snapshot_is_still_the_rollback_reference() -> None:
    repo = Repository.create()
    repo.md["targets"].signed.version = 5
    repo.publish("targets")
    repo.md["snapshot"].signed.expires = days(10)
    repo.update_snapshot()
    local_ts, local_snap = repo.published["timestamp"][2], repo.published["snapshot"][2]
    repo.md["targets"].signed.version = 3
    repo.publish("targets")
    repo.md["snapshot"].signed.expires = days(60)
    repo.update_snapshot()
    new_ts, new_snap = repo.published["timestamp"][3], repo.published["snapshot"][3]
    codes = _run(
        repo.published["root"][1],
        [
            ("timestamp", local_ts, True),
            ("timestamp", new_ts, False),
            ("snapshot", local_snap, True),
            ("snapshot", new_snap, False),
        ],
        at_days=20,
    )
    # the local snapshot verifies but is expired (and stale): kept as the reference,
    # so the new snapshot's targets v3 is a rollback from v5
    assert codes == [None, None, "expired", "rollback"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        ("version", "version-mismatch"),
        ("hash", "hash-mismatch"),
        ("length", "length-mismatch"),
        ("expired", "expired"),
    ],
)
def test_snapshot_checks_name_their_codes(mutate: str, code: str) -> None:
    repo = Repository.create(hashes=True)
    snap = repo.md["snapshot"].signed
    if mutate == "expired":
        snap.expires = days(-1)
    repo.update_snapshot()
    data = repo.published["snapshot"][2]
    if mutate == "version":
        snap.version = 7
        data = repo.sign("snapshot")
        repo.md["timestamp"].signed.snapshot_meta.hashes = None
        repo.md["timestamp"].signed.snapshot_meta.length = None
        repo.publish("timestamp")
    elif mutate == "hash":
        data = data.replace(b'"version":2', b'"version":3')
    elif mutate == "length":
        data = data + b" "
    codes = _run(
        repo.published["root"][1],
        [
            ("timestamp", repo.published["timestamp"][repo.md["timestamp"].signed.version], False),
            ("snapshot", data, False),
        ],
        at_days=0,
    )
    assert codes == [None, code]


def _codes_for_root(mutate: str) -> str | None:
    repo = Repository.create()
    trusted = repo.published["root"][1]
    old = list(repo.signers["root"])
    if mutate == "skip":
        repo.root.version = 3
        data = repo.publish_root()
    elif mutate == "not-by-old":
        repo.rotate_keys("root")
        repo.root.version = 2
        data = repo.publish_root()
    elif mutate == "not-by-new":
        repo.rotate_keys("root")
        repo.root.version = 2
        data = repo.publish("root", signers=old)
    elif mutate == "garbage":
        data = b"{"
    else:
        data = repo.bump_root()
    state = TrustedState(trusted, at=days(0))
    try:
        state.update_root(data)
    except ClientError as e:
        return e.code
    return None


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        ("ok", None),
        ("skip", "root-rotation-invalid"),
        ("not-by-old", "root-rotation-invalid"),
        ("not-by-new", "threshold-not-met"),
        ("garbage", "malformed"),
    ],
)
def test_root_checks_name_their_codes(mutate: str, code: str | None) -> None:
    assert _codes_for_root(mutate) == code


def test_an_unsigned_trusted_root_is_refused_before_anything() -> None:
    repo = Repository.create()
    data = repo.publish("root", signers=[])
    with pytest.raises(ClientError) as e:
        TrustedState(data, at=days(0))
    assert e.value.code == "threshold-not-met"
