"""``verify --pins`` with a trustkeep pin file (``pin export --json``).

The issue lists three pin files ``verify --pins`` reads: a daemon.json, a Notary
client config, and a trustkeep pin file. The first two are covered against the real
notary client elsewhere; here the third, exported by trustkeep itself from the real
Notary repository (accepted) and from an unrelated key (rejected, ``pin-mismatch``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from verify_support import GUN, NotaryRepo

pytestmark = pytest.mark.interop


def _export(run_cli: Any, home: Path, fmt: str, source: str, out: Path) -> Path:
    code, stdout, err = run_cli(
        "--home", str(home), "pin", "export", "--format", fmt, "--gun", GUN, "--from", source,
        "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["schema"] == 1 and "block" in doc
    out.write_text(stdout)
    return out


def _verify(run_cli: Any, metadata: Path, pins: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli("verify", str(metadata), "--pins", str(pins), "--gun", GUN, "--json")
    assert "Traceback" not in err
    return code, json.loads(out)


@pytest.mark.parametrize(("fmt", "mechanism"), [("docker", "cert-ids"), ("notary", "cert-ids")])
def test_trustkeep_pin_file_from_the_repository_is_accepted(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path, fmt: str, mechanism: str
) -> None:
    pins = _export(
        run_cli, tmp_path / "home", fmt, str(notary_repo.metadata), tmp_path / f"{fmt}.json"
    )
    code, doc = _verify(run_cli, notary_repo.metadata, pins)
    assert (code, doc["valid"]) == (0, True), doc["findings"]
    assert doc["anchor"]["type"] == "pins"
    assert doc["anchor"]["mechanism"] == f"{mechanism} ({GUN})"
    assert doc["findings"] == []


@pytest.mark.parametrize("fmt", ["docker", "notary"])
def test_trustkeep_pin_file_for_another_key_is_rejected(
    notary_repo: NotaryRepo, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", "audit passphrase")
    code, _, err = run_cli(
        "--home", str(home), "key", "generate", "--type", "ecdsa-p256", "--name", "other"
    )
    assert code == 0, err
    source = "other"
    if fmt == "notary":  # Notary pins certificates: a root certificate for that key
        source = str(tmp_path / "other.pem")
        code, _, err = run_cli(
            "--home", str(home), "notary", "cert", "other", "--gun", GUN, "--out", source
        )
        assert code == 0, err
    pins = _export(run_cli, home, fmt, source, tmp_path / f"{fmt}.json")
    code, doc = _verify(run_cli, notary_repo.metadata, pins)
    assert (code, doc["valid"]) == (1, False)
    assert {f["code"] for f in doc["findings"] if f["severity"] == "error"} == {"pin-mismatch"}
