"""Table-driven rules: root rotation and thresholds (like python-tuf's
tests/test_updater_key_rotations.py), expiry specs, target paths, bin prefixes.

trustkeep's verdict is checked against the expected one AND against python-tuf's
client state machine (TrustedMetadataSet) as an independent oracle.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import SuccinctRoles
from tuf.api.serialization.json import JSONSerializer
from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
from tuf.ngclient.config import EnvelopeType

from trustkeep.core.tuf_repo import rootops
from trustkeep.core.tuf_repo.delegation import bin_prefixes
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy, parse_duration
from trustkeep.core.tuf_repo.state import apply_signatures, root_is_verified
from trustkeep.core.tuf_repo.status import repo_status
from trustkeep.core.tuf_repo.targetsops import validate_target_path
from trustkeep.errors import InputError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = ExpiryPolicy()
SIGNERS = [CryptoSigner.generate_ed25519() for _ in range(7)]


@dataclass(frozen=True)
class Rotation:
    v1_keys: tuple[int, ...]
    v1_threshold: int
    v2_keys: tuple[int, ...]
    v2_threshold: int
    signed_by: tuple[int, ...]
    valid: bool


R = Rotation
ROTATIONS: dict[str, Rotation] = {
    "1-of-1 rotate, signed by old and new":
        R((0,), 1, (1,), 1, (0, 1), True),
    "1-of-1 rotate, signed by new only":
        R((0,), 1, (1,), 1, (1,), False),
    "1-of-1 rotate, signed by old only":
        R((0,), 1, (1,), 1, (0,), False),
    "3-of-5, same keys, signed by 0 2 4":
        R((0, 1, 2, 3, 4), 3, (0, 1, 2, 3, 4), 3, (0, 2, 4), True),
    "3-of-5, same keys, signed by 2 only":
        R((0, 1, 2, 3, 4), 3, (0, 1, 2, 3, 4), 3, (0, 4), False),
    "2-of-3 rotate, signed by 1 old + 2 new: not valid":
        R((0, 1, 2), 2, (3, 4, 5), 2, (0, 3, 4), False),
    "2-of-3 rotate, signed by 2 old + 2 new":
        R((0, 1, 2), 2, (3, 4, 5), 2, (0, 1, 3, 4), True),
    "2-of-3 -> 3-of-4, one key replaced, signed by 2 kept + 1 new":
        R((0, 1, 2), 2, (0, 1, 3, 4), 3, (0, 1, 3), True),
    "2-of-3 -> 3-of-4, one key replaced, signed by 1 kept + 2 new":
        R((0, 1, 2), 2, (0, 1, 3, 4), 3, (0, 3, 4), False),
    "2-of-3 -> 3-of-4, signed by the removed key + 1 kept + 1 new":
        R((0, 1, 2), 2, (0, 1, 3, 4), 3, (2, 0, 3), False),
    "2-of-3 -> 3-of-4, removed key + 3 new-set keys":
        R((0, 1, 2), 2, (0, 1, 3, 4), 3, (2, 0, 3, 4), True),
    "threshold raised 2 -> 3, signed by 2":
        R((0, 1, 2), 2, (0, 1, 2), 3, (0, 1), False),
    "threshold lowered 3 -> 1, signed by 1":
        R((0, 1, 2), 3, (0, 1, 2), 1, (0,), False),
    "threshold lowered 3 -> 1, signed by 3":
        R((0, 1, 2), 3, (0, 1, 2), 1, (0, 1, 2), True),
}  # fmt: skip


def _keys(idx: tuple[int, ...]) -> list[CryptoSigner]:
    return [SIGNERS[i] for i in idx]


def _state_v1(case: Rotation):  # type: ignore[no-untyped-def]
    online = SIGNERS[6].public_key
    state = rootops.new_repository(
        keys={
            "root": [s.public_key for s in _keys(case.v1_keys)],
            "targets": [online],
            "snapshot": [online],
            "timestamp": [online],
        },
        thresholds={"root": case.v1_threshold},
        now=NOW,
        policy=POLICY,
        consistent_snapshot=True,
    )
    apply_signatures(state.root, _keys(case.v1_keys))
    return state


@pytest.mark.parametrize("name", list(ROTATIONS))
def test_root_rotation_rules(name: str) -> None:
    case = ROTATIONS[name]
    state = _state_v1(case)
    v1_bytes = state.root.to_bytes(JSONSerializer())
    remove = [SIGNERS[i].public_key.keyid for i in case.v1_keys if i not in case.v2_keys]
    add = [SIGNERS[i].public_key for i in case.v2_keys if i not in case.v1_keys]
    later = NOW + timedelta(days=1)
    if remove or add:
        rootops.rotate_keys(
            state, "root", remove=remove, add=add, threshold=case.v2_threshold,
            now=later, policy=POLICY,
        )  # fmt: skip
    else:
        rootops.set_threshold(state, "root", case.v2_threshold, now=later, policy=POLICY)
    assert state.root.signed.version == 2
    assert state.previous_root is not None and state.previous_root.signed.version == 1
    apply_signatures(state.root, _keys(case.signed_by))

    # trustkeep's verdict (used by status and sign)
    assert root_is_verified(state.root, state.previous_root) is case.valid
    root_status = repo_status(state, now=later).roles[0]
    assert root_status.role == "root"
    assert root_status.verified is case.valid
    assert [c.label for c in root_status.checks] == ["root v1 keys", "root v2 keys"]

    # python-tuf's client agrees
    trusted = TrustedMetadataSet(v1_bytes, EnvelopeType.METADATA)
    v2_bytes = state.root.to_bytes(JSONSerializer())
    if case.valid:
        trusted.update_root(v2_bytes)
        assert trusted.root.version == 2
    else:
        with pytest.raises(UnsignedMetadataError):
            trusted.update_root(v2_bytes)


def test_changes_before_full_signature_amend_the_staged_version() -> None:
    case = ROTATIONS["2-of-3 -> 3-of-4, one key replaced, signed by 2 kept + 1 new"]
    state = _state_v1(case)
    rootops.add_root_keys(state, "root", [SIGNERS[3].public_key], now=NOW, policy=POLICY)
    rootops.add_root_keys(state, "root", [SIGNERS[4].public_key], now=NOW, policy=POLICY)
    rootops.set_threshold(state, "root", 3, now=NOW, policy=POLICY)
    assert state.root.signed.version == 2  # one new version, amended twice
    apply_signatures(state.root, _keys((0, 1, 3)))
    assert root_is_verified(state.root, state.previous_root)
    rootops.set_root_expiry(state, now=NOW, policy=POLICY)
    assert state.root.signed.version == 3  # v2 was complete: a new version
    assert state.root.signatures == {}


@pytest.mark.parametrize(
    ("keys", "threshold", "error"),
    [
        (3, 1, None),
        (3, 3, None),
        (3, 0, "threshold 0 is below 1"),
        (3, -2, "threshold -2 is below 1"),
        (3, 4, "threshold 4 is larger than its 3 key(s)"),
        (1, 2, "threshold 2 is larger than its 1 key(s)"),
    ],
)
def test_threshold_rules(keys: int, threshold: int, error: str | None) -> None:
    case = Rotation(tuple(range(keys)), 1, (), 1, (), True)
    state = _state_v1(case)
    before = state.root.to_dict()
    if error is None:
        rootops.set_threshold(state, "root", threshold, now=NOW, policy=POLICY)
        assert state.root.signed.roles["root"].threshold == threshold
        return
    with pytest.raises(InputError) as exc:
        rootops.set_threshold(state, "root", threshold, now=NOW, policy=POLICY)
    assert str(exc.value) == f"role 'root': {error}"
    assert state.root.to_dict() == before  # nothing staged
    with pytest.raises(InputError, match="threshold"):
        rootops.new_repository(
            keys={r: [s.public_key for s in _keys(tuple(range(keys)))] for r in
                  ("root", "targets", "snapshot", "timestamp")},
            thresholds={"targets": threshold}, now=NOW, policy=POLICY, consistent_snapshot=False,
        )  # fmt: skip


def test_removing_keys_below_threshold_is_refused() -> None:
    state = _state_v1(Rotation((0, 1, 2), 2, (), 1, (), True))
    with pytest.raises(InputError, match="removing leaves 1 key"):
        rootops.remove_root_keys(
            state, "root", [SIGNERS[0].public_key.keyid, SIGNERS[1].public_key.keyid],
            now=NOW, policy=POLICY,
        )  # fmt: skip
    assert state.root.signed.version == 1


@pytest.mark.parametrize(
    ("spec", "role", "expected"),
    [
        (None, "root", NOW + timedelta(days=365)),
        (None, "timestamp", NOW + timedelta(days=1)),
        (None, "bins-3f", NOW + timedelta(days=90)),
        ("root=2y,timestamp=6h", "root", NOW + timedelta(days=730)),
        ("root=2y,timestamp=6h", "timestamp", NOW + timedelta(hours=6)),
        ("root=2y,timestamp=6h", "snapshot", NOW + timedelta(days=7)),
        ("30d", "targets", NOW + timedelta(days=30)),
        ("targets=2027-03-01", "targets", datetime(2027, 3, 1, tzinfo=UTC)),
        ("targets=2027-03-01T12:30:00Z", "targets", datetime(2027, 3, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_expiry_policy(spec: str | None, role: str, expected: datetime) -> None:
    assert ExpiryPolicy.parse(spec).expires(role, NOW) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("root=0d", "must be more than 0"),
        ("root=12", "expected a duration like 90d or a date"),
        ("root=1d,root=2d", "role 'root' given twice"),
        ("nobody=1d", "unknown role 'nobody'"),
        ("1d,2d", "more than one value without a role"),
        ("root=1000y", "at most 100y"),
    ],
)
def test_expiry_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ExpiryPolicy.parse(spec, known_roles=("root", "targets", "snapshot", "timestamp"))


def test_expiry_in_the_past_is_refused() -> None:
    with pytest.raises(InputError, match="is not in the future"):
        ExpiryPolicy.parse("2020-01-01").expires("root", NOW)
    assert parse_duration("2w") == timedelta(days=14)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("a.txt", True),
        ("dir/sub/a.txt", True),
        ("ünïcode/ok.bin", True),
        ("", False),
        ("/etc/passwd", False),
        ("../x", False),
        ("a/../../x", False),
        ("a//b", False),
        ("a/./b", False),
        ("a\\b", False),
        ("a\x00b", False),
    ],
)
def test_target_paths(path: str, ok: bool) -> None:
    if ok:
        assert validate_target_path(path) == path
    else:
        with pytest.raises(InputError, match="target path"):
            validate_target_path(path)


@pytest.mark.parametrize("bit_length", [4, 5, 8, 10, 13, 16])
def test_classic_bin_prefixes_match_succinct_bins(bit_length: int) -> None:
    succinct = SuccinctRoles([], 1, bit_length, "bins")
    names = list(succinct.get_roles())
    digits = (bit_length + 3) // 4
    owner: dict[str, str] = {}
    for index, name in enumerate(names):
        for prefix in bin_prefixes(index, bit_length):
            assert len(prefix) == digits
            assert prefix not in owner  # no prefix in two bins
            owner[prefix] = name
    assert len(owner) == 16**digits  # every prefix in some bin
    for n in range(2000):
        path = f"pkg/file-{n}.tar.gz"
        digest = hashlib.sha256(path.encode()).hexdigest()
        assert owner[digest[:digits]] == succinct.get_role_for_target(path)
