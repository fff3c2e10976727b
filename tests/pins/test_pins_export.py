"""`trustkeep pin export`: which roots are read, for which repository, in which format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pin_certs import notary_root
from test_pins_cli import _tuf_root_chain
from test_pins_files import DAEMON_JSON
from tuf.api.metadata import Metadata, Root

RunCli = Callable[..., tuple[int, str, str]]


GUN = "registry.example.com/acme/app"


@pytest.mark.parametrize("fmt", ["docker", "notary"])
def test_a_gun_ending_in_slash_is_refused(
    run_cli: RunCli, tmp_path: Path, root_file: tuple[Path, str, str], fmt: str
) -> None:
    """'registry.example.com/acme/' is no repository name and no glob: the pin never applies."""
    path, _, _ = root_file
    gun = "registry.example.com/acme/"
    code, out, err = run_cli("pin", "export", "--format", fmt, "--from", str(path), "--gun", gun)
    assert (code, out) == (2, "")
    assert err == (
        f"trustkeep: error: --gun '{gun}': no repository name ends in '/', "
        "so this pin would never apply\n"
        f"trustkeep: hint: pin every repository under it with --gun '{gun}*'\n"
    )
    target = tmp_path / "daemon.json"
    target.write_text(DAEMON_JSON)
    option = "--daemon-json" if fmt == "docker" else "--notary-config"
    code, _, err = run_cli("pin", "apply", option, str(target), "--from", str(path), "--gun", gun)
    assert code == 2 and "no repository name ends in '/'" in err
    assert target.read_text() == DAEMON_JSON
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json", "root.json"]
    code, out, _ = run_cli(
        "pin", "export", "--format", fmt, "--from", str(path), "--gun", gun + "*"
    )
    assert code == 0 and f'"{gun}*"' in out


def test_tuf_export_json_names_the_root_keyids(run_cli: RunCli, tmp_path: Path) -> None:
    """--json wraps the TUF root with the IDs used: its version and root keyids."""
    _, second = _tuf_root_chain(tmp_path / "metadata")
    code, out, err = run_cli(
        "pin", "export", "--format", "tuf", "--from", str(tmp_path / "metadata"), "--json"
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    expected = Metadata[Root].from_bytes(second).signed
    assert doc["root"].encode() == second
    assert doc["root_version"] == expected.version == 2
    assert doc["root_keyids"] == expected.roles["root"].keyids
    assert doc["sources"] == [str(tmp_path / "metadata")]


def test_export_warns_about_a_relative_ca_path(
    run_cli: RunCli, root_file: tuple[Path, str, str]
) -> None:
    """The Notary client resolves a relative `ca` path from its cwd: export says so too."""
    path, _, _ = root_file
    args = ("pin", "export", "--format", "notary", "--from", str(path), "--ca")
    code, out, err = run_cli(*args, "registry.example.com/=certs/ca.pem")
    assert code == 0
    assert json.loads(out)["trust_pinning"]["ca"] == {"registry.example.com/": "certs/ca.pem"}
    assert err == (
        "trustkeep: warning: ca path 'certs/ca.pem' for 'registry.example.com/' is relative: "
        "the Notary client resolves it from its current directory; use an absolute path\n"
    )
    code, _, err = run_cli(*args, "registry.example.com/=/etc/notary/ca.pem")
    assert (code, err) == (0, "")


def test_trust_dir_root_cached_under_another_gun_is_refused(cli: RunCli, tmp_path: Path) -> None:
    """Was: the root whose certificate names 'r.example/other' was pinned for the
    directory it sat in ('r.example/app'), a pin the Notary client would never honour."""
    from pin_certs import notary_root

    trust = tmp_path / "trust"
    good = trust / "tuf" / "r.example" / "good" / "metadata"
    bad = trust / "tuf" / "r.example" / "app" / "metadata"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    (good / "root.json").write_bytes(notary_root("r.example/good")[0])
    (bad / "root.json").write_bytes(notary_root("r.example/other")[0])
    expected = (
        f"trustkeep: error: {bad / 'root.json'}: the root certificate is for "
        "'r.example/other', not for 'r.example/app'"
    )
    for argv in (("pin", "export", "--from", str(trust)), ("notary", "ids", str(trust))):
        code, out, err = cli(*argv)
        assert code == 2, argv
        assert out == ""
        assert err.strip() == expected
    (bad / "root.json").write_bytes(notary_root("r.example/app")[0])
    code, out, err = cli("notary", "ids", str(trust), "--json")
    assert code == 0, err
    guns = [r["gun"] for r in json.loads(out)["repositories"]]
    assert guns == ["r.example/app", "r.example/good"]


def test_misnamed_versioned_root_names_both_files(cli: RunCli, tmp_path: Path) -> None:
    """Was: 'repo/5.root.json: root version 1 does not follow 1' (which file holds what?)."""
    from securesystemslib.signer import CryptoSigner
    from tuf.api.metadata import Metadata, Root

    signer = CryptoSigner.generate_ed25519()
    root = Metadata(Root())
    for role in ("root", "targets", "snapshot", "timestamp"):
        root.signed.add_key(signer.public_key, role)
    root.sign(signer)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "1.root.json").write_bytes(root.to_bytes())
    (repo / "5.root.json").write_bytes(root.to_bytes())  # a copy of version 1
    code, out, err = cli("pin", "export", "--format", "tuf", "--from", str(repo))
    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"trustkeep: error: {repo / '5.root.json'}: holds root version 1, which does not "
        f"follow version 1 in {repo / '1.root.json'}"
    )


def test_tuf_root_with_a_float_is_input_error(cli: RunCli, tmp_path: Path) -> None:
    """A float cannot be canonical JSON: no signer signed it; exit 2, not an internal error."""
    source = Path(__file__).resolve().parents[2] / "fixtures" / "tuf" / "valid" / "1.root.json"
    doc = json.loads(source.read_text())
    doc["signed"]["consistent_snapshot"] = 1.5
    bad = tmp_path / "float-root.json"
    bad.write_text(json.dumps(doc))
    code, out, err = cli("pin", "export", "--format", "tuf", "--from", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: not a valid TUF root: not canonical JSON" in err


@pytest.mark.parametrize("where", ["trust-dir", "metadata-dir", "root.json"])
def test_export_tuf_from_notary_trust_data_is_refused(
    run_cli: RunCli, tmp_path: Path, where: str
) -> None:
    """A Notary root printed as --format tuf is a file no TUF client loads: exit 2, say why."""
    gun = "registry.example.com/acme/app"
    metadata = tmp_path / "trust" / "tuf" / gun / "metadata"
    metadata.mkdir(parents=True)
    (metadata / "root.json").write_bytes(notary_root(gun)[0])
    source = {
        "trust-dir": tmp_path / "trust",
        "metadata-dir": metadata,
        "root.json": metadata / "root.json",
    }[where]
    code, out, err = run_cli("pin", "export", "--format", "tuf", "--from", str(source))
    assert (code, out) == (2, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"trustkeep: error: {source}") and "is Notary trust data" in lines[0]
    assert lines[1] == (
        "trustkeep: hint: pin Notary repositories with --format notary (Notary client) "
        "or --format docker (daemon.json)"
    )
