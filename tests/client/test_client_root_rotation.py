"""Root rotation as a case table: keys, threshold and signers of each root version.

Each case is a list of versions ``(keys, threshold, signed_by, accepted)`` over a pool
of ten keys; the client starts from version 1. The last version's ``accepted`` is the
expected verdict; on failure the previous root must be the one on disk (exact bytes).
Both trustkeep and python-tuf's ``Updater`` run every case.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from client_support import Clients
from simulator import Repository, Server, new_signer
from tuf.api.metadata import Root

V = tuple[list[int], int, list[int], bool]

CASES: dict[str, list[V]] = {
    "one-key-replaced": [([1], 1, [1], True), ([2], 1, [2, 1], True), ([2], 1, [2], True)],
    "signatures-by-strangers-ignored": [
        ([1], 1, [3, 1, 4], True),
        ([2], 1, [3, 2, 1, 4], True),
        ([2], 1, [3, 2, 4], True),
    ],
    "3-of-5-any-combination": [
        ([0, 1, 2, 3, 4], 3, [0, 2, 4], True),
        ([0, 1, 2, 3, 4], 3, [0, 4, 1], True),
        ([0, 1, 2, 3, 4], 3, [1, 2, 3], True),
    ],
    "3-of-5-one-key-replaced": [
        ([0, 1, 2, 3, 4], 3, [0, 2, 4], True),
        ([0, 1, 3, 4, 5], 3, [0, 4, 1], True),
    ],
    "3-of-5-all-keys-replaced": [
        ([0, 1, 2, 3, 4], 3, [0, 2, 4], True),
        ([5, 6, 7, 8, 9], 3, [0, 2, 4, 5, 6, 7], True),
        ([5, 6, 7, 8, 9], 3, [5, 6, 7], True),
    ],
    "threshold-1-to-2": [([1, 2, 3], 1, [1], True), ([1, 2, 3], 2, [1, 2], True)],
    "threshold-2-to-1": [
        ([1, 2, 3], 2, [1, 2], True),
        ([1, 2, 3], 1, [1, 2], True),
        ([1, 2, 3], 1, [1], True),
    ],
    "one-to-five-keys": [([1], 1, [1], True), ([1, 2, 3, 4, 5], 5, [1, 2, 3, 4, 5], True)],
    "five-to-one-key": [
        ([1, 2, 3, 4, 5], 5, [1, 2, 3, 4, 5], True),
        ([6], 1, [1, 2, 3, 4, 5, 6], True),
    ],
    "new-key-without-old-signature": [([1], 1, [1], True), ([2], 1, [2, 3, 4], False)],
    "old-key-without-new-signature": [([1], 1, [1], True), ([2], 1, [1, 3, 4], False)],
    "3-of-5-only-two-new-keys-signed": [
        ([0, 1, 2, 3, 4], 3, [0, 2, 4], True),
        ([0, 1, 3, 4, 5], 3, [0, 2, 4], False),
    ],
    "3-of-5-only-two-old-keys-signed": [
        ([0, 1, 2, 3, 4], 3, [0, 2, 4], True),
        ([0, 1, 3, 4, 5], 3, [0, 4, 5], False),
    ],
    "threshold-raised-but-not-met": [([1, 2, 3], 1, [1], True), ([1, 2, 3], 2, [2], False)],
    "threshold-lowered-without-old-threshold": [
        ([1, 2, 3], 2, [1, 2], True),
        ([1, 2, 3], 1, [1], False),
    ],
    "five-keys-four-signed": [
        ([1], 1, [1], True),
        ([1, 2, 3, 4, 5], 5, [1, 2, 3, 4], False),
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_root_rotation_table(tmp_path: Path, repo: Repository, server: Server, name: str) -> None:
    pool = [new_signer() for _ in range(10)]
    repo.published["root"].clear()
    repo.root.version = 0
    for keys, threshold, signed_by, _ in CASES[name]:
        role = repo.root.roles["root"]
        for keyid in list(role.keyids):
            repo.root.revoke_key(keyid, Root.type)
        for i in keys:
            repo.root.add_key(pool[i].public_key, "root")
        role.threshold = threshold
        repo.root.version += 1
        repo.publish("root", signers=[pool[i] for i in signed_by])
    clients = Clients(tmp_path, repo, server)
    accepted = CASES[name][-1][3]
    out = clients.both()
    assert out.ok is accepted
    last = len(CASES[name]) if accepted else len(CASES[name]) - 1
    on_disk = (clients.metadata_dir("trustkeep") / "root.json").read_bytes()
    assert on_disk == repo.published["root"][last]
