"""scan_notary_dir over real trust directories in every layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pem_support import TrustDir, make_pre_04_layout, notary_key_list, role_passphrase

from trustkeep.adapters.notary_dir import NotaryKeyFile, scan_notary_dir
from trustkeep.core.pem_keys import load_private_pem, notary_private_keyid
from trustkeep.errors import InputError

pytestmark = pytest.mark.interop


def summary(files: list[NotaryKeyFile]) -> dict[str, tuple[str | None, str | None, str]]:
    return {f.keyid: (f.role, f.gun, f.layout) for f in files}


def assert_files_load(files: list[NotaryKeyFile], role_of: dict[str, str]) -> None:
    for f in files:
        assert f.pem == f.path.read_bytes()
        key = load_private_pem(f.pem, role_passphrase(role_of[f.keyid]), source=f.path.name)
        assert notary_private_keyid(key.private_key) == f.keyid


def test_flat_layout_matches_notary_key_list(initialized_trust_dir: TrustDir) -> None:
    files = scan_notary_dir(initialized_trust_dir.path)
    listed = notary_key_list(initialized_trust_dir.path)
    assert {f.keyid: (f.role, f.gun or "") for f in files} == listed
    assert {f.layout for f in files} == {"flat"}
    assert [f.path for f in files] == sorted(f.path for f in files)
    assert_files_load(files, {k: role for k, (role, _gun) in listed.items()})


def test_docker_trust_dir_and_private_dir_itself(
    initialized_trust_dir: TrustDir, generated_trust_dir: TrustDir, tmp_path: Path
) -> None:
    docker = tmp_path / ".docker" / "trust"
    shutil.copytree(initialized_trust_dir.path, docker)
    expected = summary(scan_notary_dir(initialized_trust_dir.path))
    assert summary(scan_notary_dir(docker)) == expected
    assert summary(scan_notary_dir(docker / "private")) == expected
    delegation = [f for f in scan_notary_dir(generated_trust_dir.path) if f.role != "root"]
    assert [(f.role, f.gun) for f in delegation] == [("targets/releases", None)]


@pytest.mark.parametrize("strip_headers", [False, True], ids=["with-headers", "path-only"])
def test_pre_04_layout(
    initialized_trust_dir: TrustDir, tmp_path: Path, strip_headers: bool
) -> None:
    gun = initialized_trust_dir.gun
    legacy = tmp_path / "legacy"
    roles = make_pre_04_layout(initialized_trust_dir.path, legacy, strip_headers=strip_headers)
    files = scan_notary_dir(legacy)
    got = summary(files)
    assert got == {
        keyid: (
            role,
            None if role == "root" else gun,
            "root_keys" if role == "root" else "tuf_keys",
        )
        for keyid, role in roles.items()
    }
    assert_files_load(files, roles)
    # The real notary migrates this layout on first use; it agrees on IDs, roles and GUNs
    # (a root key without a role header it lists with an empty role).
    listed = notary_key_list(legacy)
    for keyid, (role, key_gun, _layout) in got.items():
        notary_role = "" if (strip_headers and role == "root") else role
        assert listed[keyid] == (notary_role, key_gun or "")


def test_ignores_non_key_files_and_symlinks(generated_trust_dir: TrustDir, tmp_path: Path) -> None:
    trust = tmp_path / "trust"
    shutil.copytree(generated_trust_dir.path, trust)
    private = trust / "private"
    expected = summary(scan_notary_dir(trust))
    (private / "README").write_text("not a key")
    (private / "notes.key").write_text("not a key name")
    (private / "ABCDEF.key").write_text("upper case is not a key ID")
    outside = tmp_path / "outside.key"
    outside.write_bytes(next(iter(private.glob("*.key"))).read_bytes())
    (private / ("f" * 64 + ".key")).symlink_to(outside)
    (private / "tuf_keys").symlink_to(tmp_path)
    assert summary(scan_notary_dir(trust)) == expected


def test_empty_trust_dir(tmp_path: Path) -> None:
    (tmp_path / "private").mkdir()
    assert scan_notary_dir(tmp_path) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "missing: not a directory"),
        (lambda p: (p / "file").write_text("x") and p / "file", "file: not a directory"),
        (lambda p: p, "not a Notary or Docker trust directory (no private/ directory)"),
    ],
    ids=["missing", "file", "no-private"],
)
def test_not_a_trust_dir(make, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(InputError) as e:
        scan_notary_dir(path)
    assert str(e.value).endswith(message)
    assert str(e.value).startswith(str(path))


def test_oversized_key_file(tmp_path: Path) -> None:
    big = tmp_path / "private" / ("a" * 64 + ".key")
    big.parent.mkdir()
    big.write_bytes(b"A" * (2 << 20))
    with pytest.raises(InputError, match="too large for a key file"):
        scan_notary_dir(tmp_path)
