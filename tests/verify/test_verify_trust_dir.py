"""`trustkeep verify` of a trust directory: a --gun cannot leave it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tufrepo import Repo

AT = "2030-01-01T00:00:00Z"


@pytest.mark.parametrize("gun", ["../../outside", "", "/abs", "reg.io/./app", "reg.io/../x"])
def test_gun_cannot_leave_the_trust_directory(run_cli: Any, tmp_path: Path, gun: str) -> None:
    files = Repo.build().files()
    for where in (tmp_path / "trust/tuf/reg.io/app/metadata", tmp_path / "outside/metadata"):
        where.mkdir(parents=True)
        for name, data in files.items():
            (where / name).write_bytes(data)
    # "../../outside" used to be joined to trust/tuf/ and verified from outside the trust dir
    code, out, err = run_cli("verify", str(tmp_path / "trust"), "--gun", gun, "--at", AT)
    assert (code, out) == (2, "")
    assert err.startswith(f"trustkeep: error: --gun {gun!r} is not a repository name"), err
    code, out, err = run_cli("verify", str(tmp_path / "trust"), "--gun", "reg.io/app", "--at", AT)
    assert code == 0, err
