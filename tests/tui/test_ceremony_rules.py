"""The pure ceremony rules (trustkeep.core.ceremony): named case tables."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from securesystemslib.signer import CryptoSigner, Key

from trustkeep.core.ceremony import expiring_roles, review_role, rotation_progress, waiting_line
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.rootops import new_repository
from trustkeep.core.tuf_repo.state import RepoState
from trustkeep.core.tuf_repo.status import RepoStatus, RoleStatus, ThresholdCheck

A, B, C, D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
NAMES = {A: "alice", B: "bob", C: "carol"}

WAITING_CASES = {
    "two of three, carol awaited": (3, (A, B), (C,), "2 of 3 signatures — waiting for carol"),
    "threshold met": (2, (A, B), (C,), "2 of 2 signatures — threshold met"),
    "any one of two": (2, (A,), (B, C), "1 of 2 signatures — waiting for 1 more of bob, carol"),
    "both needed": (2, (), (C, B), "0 of 2 signatures — waiting for bob and carol"),
    "unnamed key by keyid prefix": (2, (A,), (D,), "1 of 2 signatures — waiting for dddddddd"),
    "named before unnamed": (
        3,
        (),
        (D, C, A),
        "0 of 3 signatures — waiting for alice and carol and dddddddd",
    ),
    "nobody left": (3, (A, B), (), "2 of 3 signatures — no key left that could sign"),
}


@pytest.mark.parametrize("case", WAITING_CASES, ids=list(WAITING_CASES))
def test_waiting_line(case: str) -> None:
    threshold, signed, unsigned, expected = WAITING_CASES[case]
    check = ThresholdCheck("root keys", threshold, signed, unsigned)
    assert waiting_line(check, NAMES) == expected


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEYS: list[Key] = [CryptoSigner.generate_ed25519().public_key for _ in range(5)]


def _state() -> RepoState:
    k = KEYS
    state = new_repository(
        keys={"root": [k[0], k[1]], "targets": [k[2]], "snapshot": [k[3]], "timestamp": [k[3]]},
        thresholds={"root": 2},
        now=NOW,
        policy=ExpiryPolicy.parse("root=365d"),
        consistent_snapshot=False,
    )
    return state


def _next_root(change: Callable[[RepoState], None]) -> RepoState:
    state = _state()
    state.previous_root = copy.deepcopy(state.root)
    state.root.signed.version = 2
    state.root.signed.expires = NOW + timedelta(days=400)
    change(state)
    return state


def _add_key(state: RepoState) -> None:
    state.root.signed.add_key(KEYS[4], "root")


def _swap_and_threshold(state: RepoState) -> None:
    state.root.signed.revoke_key(KEYS[1].keyid, "root")
    state.root.signed.add_key(KEYS[4], "root")
    state.root.signed.roles["root"].threshold = 1
    state.root.signed.roles["targets"].threshold = 1


def _unchanged(state: RepoState) -> None:
    return None


def _consistent(state: RepoState) -> None:
    state.root.signed.consistent_snapshot = True


ROTATIONS: dict[str, tuple[Callable[[RepoState], None], list[str], list[str]]] = {
    "key added": (_add_key, [f"+ key erin ({KEYS[4].keyid[:8]}) added to root"], ["~ root"]),
    "key swapped, threshold lowered": (
        _swap_and_threshold,
        [
            f"+ key erin ({KEYS[4].keyid[:8]}) added to root",
            f"- key {KEYS[1].keyid[:8]} removed from root",
            "~ root threshold 2 -> 1",
        ],
        ["~ targets"],
    ),
    "only expiry": (_unchanged, ["no key or threshold change"], ["+ key", "- key"]),
    "consistent snapshot on": (_consistent, ["~ consistent snapshot turned on"], []),
}


@pytest.mark.parametrize("case", ROTATIONS, ids=list(ROTATIONS))
def test_root_review_shows_the_change(case: str) -> None:
    change, present, absent = ROTATIONS[case]
    state = _next_root(change)
    review = review_role(state, "root", (), {KEYS[4].keyid: "erin"})
    lines = review.lines({KEYS[4].keyid: "erin"})
    assert lines[0] == "root version 2, expires 2028-01-02 12:00:00Z"
    assert lines[1] == "replaces version 1; expiry 2027-11-28 12:00:00Z -> 2028-01-02 12:00:00Z"
    for line in present:
        assert line in lines
    for prefix in absent:
        assert not any(line.startswith(prefix) for line in lines), prefix
    assert lines[-1] == f"sha256 of the signed content: {review.digest}"


def test_first_root_and_targets_reviews_have_no_diff() -> None:
    state = _state()
    root = review_role(state, "root", (), {})
    assert root.previous_version is None and not root.key_changes
    assert not any(line.startswith(("+", "-", "~", "replaces")) for line in root.lines({}))
    targets = review_role(state, "targets", (), {})
    assert targets.facts == ("0 target(s)",)
    assert review_role(state, "timestamp", (), {}).facts == ("records snapshot version 1",)


def _role(name: str, days_left: int, *, expired: bool = False) -> RoleStatus:
    return RoleStatus(
        role=name,
        version=1,
        expires=NOW + timedelta(days=days_left),
        days_left=days_left,
        checks=(),
        expired=expired,
        problems=(),
        warnings=(),
    )


EXPIRING = {
    "nothing due": ([("root", 300), ("targets", 60)], []),
    "targets due": ([("root", 300), ("targets", 29)], ["targets"]),
    "exactly 30 days is not due": ([("targets", 30)], []),
    "snapshot due within a week": ([("snapshot", 6), ("timestamp", 3)], ["snapshot"]),
    "timestamp due within a day": ([("snapshot", 8), ("timestamp", 0)], ["timestamp"]),
    "delegated and expired": ([("root", -1), ("bins-0", 3)], ["root", "bins-0"]),
}


@pytest.mark.parametrize("case", EXPIRING, ids=list(EXPIRING))
def test_expiring_roles(case: str) -> None:
    roles, expected = EXPIRING[case]
    status = RepoStatus(
        roles=tuple(_role(n, d, expired=d < 0) for n, d in roles), problems=(), warnings=()
    )
    assert expiring_roles(status, within_days=30, now=NOW) == expected


def _c(threshold: int, signed: tuple[str, ...], unsigned: tuple[str, ...]) -> ThresholdCheck:
    return ThresholdCheck("root keys", threshold, signed, unsigned)


PROGRESS_CASES = {
    "old and new awaited": (
        (_c(2, (A,), (B,)), _c(3, (), (A, C, D))),
        "signed by old root: 1 of 2, new root: 0 of 3 — waiting for bob, alice, carol, dddddddd",
    ),
    "old met, new awaited": (
        (_c(1, (A,), (B,)), _c(2, (A,), (C, D))),
        "signed by old root: 1 of 1, new root: 1 of 2 — waiting for carol, dddddddd",
    ),
    "both met": (
        (_c(1, (A,), ()), _c(1, (A,), ())),
        "signed by old root: 1 of 1, new root: 1 of 1 — every threshold met: publish it",
    ),
    "a first root: its own threshold only": (
        (_c(2, (A,), (B,)),),
        "signed by new root: 1 of 2 — waiting for bob",
    ),
    "nobody left": ((_c(2, (A,), ()),), "signed by new root: 1 of 2 — no key left that could sign"),
}


@pytest.mark.parametrize("case", PROGRESS_CASES, ids=list(PROGRESS_CASES))
def test_rotation_progress(case: str) -> None:
    checks, expected = PROGRESS_CASES[case]
    assert rotation_progress(checks, NAMES) == expected
