"""Delegation graphs: pre-order DFS, terminating roles, cycles, diamonds, odd role names.

Request sequences after the four top-level files are asserted exactly (the order
roles are visited); outcomes and trusted files equal python-tuf's ``Updater``.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from client_support import Clients
from simulator import Repository, new_signer

# (delegator, role, paths, terminating)
Graph = list[tuple[str, str, list[str], bool]]

GRAPHS: dict[str, tuple[Graph, list[str]]] = {
    "basic": ([("targets", "A", ["*"], False)], ["A"]),
    "single-level": ([("targets", "A", ["*"], False), ("targets", "B", ["*"], False)], ["A", "B"]),
    "two-level-dfs": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("A", "C", ["*"], False),
            ("A", "D", ["*"], False),
        ],
        ["A", "C", "D", "B"],
    ),
    "terminating-stops-backtracking": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("A", "C", ["*"], True),
            ("A", "D", ["*"], False),
        ],
        ["A", "C"],
    ),
    "terminating-keeps-own-descendants": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("A", "C", ["*"], True),
            ("C", "D", ["*"], False),
        ],
        ["A", "C", "D"],
    ),
    "paths-not-matching": (
        [
            ("targets", "A", ["*.py"], False),
            ("targets", "B", ["*"], False),
            ("A", "C", ["*"], False),
        ],
        ["B"],
    ),
    "cycle": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("B", "C", ["*"], False),
            ("C", "D", ["*"], False),
            ("D", "B", ["*"], False),
        ],
        ["A", "B", "C", "D"],
    ),
    "diamond-visited-once": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("B", "C", ["*"], False),
            ("A", "C", ["*"], False),
        ],
        ["A", "C", "B"],
    ),
    "diamond-through-second-path": (
        [
            ("targets", "A", ["*"], False),
            ("targets", "B", ["*"], False),
            ("B", "C", ["*"], False),
            ("A", "C", ["*.py"], False),
        ],
        ["A", "B", "C"],
    ),
}


def build(repo: Repository, graph: Graph) -> None:
    for delegator, role, paths, terminating in graph:
        repo.delegate(delegator, role, paths=paths, terminating=terminating)
    repo.publish_all()


@pytest.mark.parametrize("name", list(GRAPHS))
def test_graph_traversal_order(clients: Clients, repo: Repository, name: str) -> None:
    graph, visited = GRAPHS[name]
    build(repo, graph)
    out = clients.both("missing-target")
    assert not out.ok
    version = repo.md["snapshot"].signed.version
    assert out.requests[:4] == [
        ("root", 2),
        ("timestamp", None),
        ("snapshot", version),
        ("targets", 1),
    ]
    assert out.requests[4:] == [(role, 1) for role in visited]


TREE: Graph = [
    ("targets", "A", ["*.doc", "*.md"], False),
    ("targets", "B", ["releases/*/*"], False),
    ("B", "C", ["releases/x/*"], False),
    ("B", "D", ["releases/y/*.zip"], False),
]


@pytest.mark.parametrize(
    ("path", "found", "visited"),
    [
        ("targetfile", True, []),
        ("README.md", True, ["A"]),
        ("releases/x/x_v1", True, ["B", "C"]),
        ("releases/y/y_v1.zip", True, ["B", "D"]),
        ("releases/z/z_v1.zip", False, ["B"]),
    ],
)
def test_target_search(
    clients: Clients, repo: Repository, path: str, found: bool, visited: list[str]
) -> None:
    for delegator, role, paths, terminating in TREE:
        repo.delegate(delegator, role, paths=paths, terminating=terminating)
    repo.add_target("targets", b"targetfile content", "targetfile")
    repo.add_target("A", b"README by A", "README.md")
    repo.add_target("C", b"x release by C", "releases/x/x_v1")
    repo.add_target("D", b"y release by D", "releases/y/y_v1.zip")
    repo.add_target("D", b"z release by D", "releases/z/z_v1.zip")
    repo.publish_all()
    out = clients.both(path)
    assert out.ok is found
    assert out.requests[4:] == [(role, 1) for role in visited]
    if found:
        assert list(out.targets.values()) == [repo.artifacts[path]]


def _diamond(repo: Repository) -> None:
    """C is delegated by A (*.py, key kA) and by B (everything, key kB); C is signed by kA."""
    signer_a, signer_b = new_signer(), new_signer()
    repo.delegate("targets", "A")
    repo.delegate("targets", "B")
    repo.delegate("A", "C", paths=["*.py"], signer=signer_a)
    repo.delegate("B", "C", paths=["*"], signer=signer_b)
    for delegator, signer in (("A", signer_a), ("B", signer_b)):
        delegations = repo.md[delegator].signed.delegations
        delegations.keys = {signer.public_key.keyid: signer.public_key}
        delegations.roles["C"].keyids = [signer.public_key.keyid]
    repo.signers["C"] = [signer_a]
    repo.add_target("C", b"python", "x.py")
    repo.add_target("C", b"text", "y.txt")
    repo.publish_all()


def test_diamond_is_verified_against_the_delegator_on_the_path(
    clients: Clients, repo: Repository
) -> None:
    """x.py reaches C through A (trusted); y.txt reaches C through B, whose key did not
    sign it: C must be verified against B on that path, and refused.

    tuf-conformance lists this as python-tuf's known failure (a role cached by name and
    not re-verified against the delegator of a later lookup). python-tuf 7.0.1, installed
    here, tracks (delegator, role) pairs and agrees with trustkeep, which this checks.
    """
    _diamond(repo)
    first = clients.both("x.py")
    assert first.ok
    second = clients.both("y.txt")
    assert not second.ok
    assert second.requests[-1] == ("C", 1)  # the local C failed against B: fetched once more


def test_diamond_in_one_download_with_the_same_state(clients: Clients, repo: Repository) -> None:
    """Both lookups in one run: the C trusted through A is not reused on B's path."""
    _diamond(repo)
    out = clients.both("x.py", "y.txt")
    assert not out.ok
    assert out.targets == {"x.py": b"python"}  # the first target, then a stop


UNUSUAL = ["?", "#", "/delegatedrole", "../delegatedrole", "..", ".", "a.b.c", "%2F", "é"]


@pytest.mark.parametrize("role", UNUSUAL)
def test_unusual_role_names(clients: Clients, repo: Repository, role: str) -> None:
    repo.delegate("targets", role)
    repo.add_target(role, b"data", "file.txt")
    repo.publish_all()
    out = clients.both("file.txt")
    assert out.ok
    assert (quote(role, safe=""), 1) in out.requests
    files = sorted(p.name for p in clients.metadata_dir("trustkeep").iterdir())
    assert files == sorted(
        [
            f"{quote(role, safe='')}.json",
            "root.json",
            "snapshot.json",
            "targets.json",
            "timestamp.json",
        ]
    )
    # nothing left the metadata directory
    assert sorted(p.name for p in clients.dirs["trustkeep"].iterdir()) == [
        "metadata",
        "root.json",
        "targets",
    ]


def test_lookup_loads_a_bounded_number_of_roles(clients: Clients, repo: Repository) -> None:
    parent = "targets"
    for i in range(40):
        repo.delegate(parent, f"r{i}")
        parent = f"r{i}"
    repo.publish_all()
    mine = clients.trustkeep("missing")
    assert not mine.ok
    assert len(mine.requests) - 4 == 31  # 32 roles per lookup, targets included
    assert not clients.oracle("missing").ok


def test_delegated_role_missing_from_snapshot(clients: Clients, repo: Repository) -> None:
    repo.delegate("targets", "A")
    repo.publish_all()
    del repo.md["snapshot"].signed.meta["A.json"]
    repo.update_snapshot()
    repo.md["snapshot"].signed.meta.pop("A.json", None)
    repo.publish("snapshot")
    repo.publish_timestamp()
    out = clients.both("x")
    assert not out.ok
    assert ("A", 1) not in out.requests


def test_expired_delegated_role_is_refused(clients: Clients, repo: Repository) -> None:
    from simulator import days

    repo.delegate("targets", "A")
    repo.add_target("A", b"data", "file")
    repo.md["A"].signed.expires = days(-1)
    repo.publish_all()
    out = clients.both("file")
    assert not out.ok and "A.json" not in out.versions and out.targets == {}


def test_delegated_role_rollback_and_fast_forward_recovery(
    clients: Clients, repo: Repository
) -> None:
    repo.delegate("targets", "A")
    repo.add_target("A", b"data", "file")
    repo.md["A"].signed.version = 9
    repo.publish_all()
    assert clients.both("file").versions["A.json"] == 9
    repo.md["A"].signed.version = 2
    repo.publish("A")
    repo.update_snapshot()  # snapshot records A v2 < trusted v9
    out = clients.both("file")
    assert not out.ok and out.versions["A.json"] == 9
    repo.rotate_keys("snapshot")  # the repository's recovery: new snapshot keys
    repo.bump_root()
    repo.update_snapshot()
    out = clients.both("file")
    assert out.ok and out.versions["A.json"] == 2
