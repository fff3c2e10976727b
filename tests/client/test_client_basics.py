"""The normal path and the exact requests of a refresh."""

from __future__ import annotations

from client_support import Clients


def test_fresh_refresh_requests_root_n_plus_1_then_each_top_level_role_once(
    clients: Clients,
) -> None:
    out = clients.both()
    assert out.ok
    assert out.requests == [("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)]
    assert out.versions == {
        "root.json": 1,
        "snapshot.json": 1,
        "targets.json": 1,
        "timestamp.json": 1,
    }
