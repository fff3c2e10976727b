"""New root through the TUI with each place a holder's key can live: the OS keyring, an
imported PEM or Notary key file, and a holder elsewhere who sends a public key file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from newroot_support import ONLINE, answer_all, fast_app, holder, plan, review_and_write, role_keys
from notary_env import PASSPHRASES, NotaryClient, NotaryServer, have_notary
from pilot_support import screen_name, settle, text, wait_until
from tmux_support import TRUSTKEEP
from tui_support import TEST_KDF_ITERATIONS, python_tuf_accepts, transcript_steps

from trustkeep.service import Service

ALICE = "Alice-keyring-secret-31"
FILE_PASS = "Pem-file-secret-8842"
CAROL = "Carol-elsewhere-secret-5"


def _root(repo: Path) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads((repo / "root.json").read_text())["signed"]
    return signed


def _no_secret(tmp_path: Path, seen: dict[str, Any], *secrets: str) -> None:
    transcript = tmp_path / "transcript.jsonl"
    recorded = transcript.read_text() + transcript.with_suffix(".md").read_text()
    shown = "".join(v for k, v in seen.items() if k.startswith("screen-") or k == "last")
    for secret in secrets:
        assert secret not in shown
        assert secret not in recorded


async def _keyring_flow(app, repo: Path, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await plan(pilot, repo, "alice", "1")
        await holder(pilot, "alice", location="keyring", secret=ALICE, seen=seen)
        await role_keys(pilot)
        # alice's passphrase comes from the keyring: only the role keys are asked
        await review_and_write(pilot, [ONLINE, ONLINE], seen)


def test_holder_key_with_its_passphrase_in_the_os_keyring(
    tmp_path: Path, make_app, keyring_file: Path
) -> None:  # type: ignore[no-untyped-def]
    repo, seen = tmp_path / "acme", {}  # type: ignore[var-annotated]
    app = fast_app(make_app, tmp_path / "home")
    asyncio.run(_keyring_flow(app, repo, seen))
    assert [p.rsplit("(", 1)[1] for p in seen["prompts"]] == ["acme-targets)", "acme-online)"]
    assert "encrypted file, passphrase kept in the OS keyring" in seen["review"]
    assert seen["title"] == "New root written (complete)"
    python_tuf_accepts(repo)
    (keyid,) = _root(repo)["roles"]["root"]["keyids"]
    alice = Service(tmp_path / "home", lambda _n: "unused").keys.resolve("alice")
    assert alice.keyid == keyid and alice.remembered
    assert keyid in keyring_file.read_text()  # the real backend holds it
    _no_secret(tmp_path, seen, ALICE, ONLINE)
    steps = transcript_steps(tmp_path / "transcript.jsonl")
    assert [f["location"] for s, f in steps if s == "holder key"] == ["keyring"]


async def _import_flow(  # type: ignore[no-untyped-def]
    app, repo: Path, key_file: Path, file_pass: str, seen: dict[str, Any], gun: str | None = None
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await plan(pilot, repo, "alice", "1", gun=gun)
        await holder(pilot, "alice", location="import", path=key_file, secret=ALICE, seen=seen)
        seen["file-prompt"] = (await answer_all(pilot, [file_pass]))[0]
        if gun is None:
            await role_keys(pilot)
            await review_and_write(pilot, [ALICE, ONLINE, ONLINE], seen)
        else:
            await review_and_write(pilot, [ALICE], seen)
            await _save_pins(pilot, seen)


async def _save_pins(pilot, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    for i in (0, 1):
        await pilot.click(f"#save-{i}")
        await wait_until(pilot, lambda: "saved" in text(pilot, "#result"), "saved")
        seen[f"saved-{i}"] = text(pilot, "#result")
        pilot.app.screen.query_one("#result").update("")
    pilot.app.screen.query_one("#back").focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen_name(pilot) == "HomeScreen", "home again")


def test_holder_imports_an_encrypted_pem_private_key(tmp_path: Path, make_app) -> None:  # type: ignore[no-untyped-def]
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "alice-key.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(FILE_PASS.encode()),
        )
    )
    repo, seen = tmp_path / "acme", {}  # type: ignore[var-annotated]
    app = fast_app(make_app, tmp_path / "home")
    asyncio.run(_import_flow(app, repo, pem, FILE_PASS, seen))
    assert seen["file-prompt"] == f"Passphrase for key file {pem}"
    python_tuf_accepts(repo)
    root = _root(repo)
    (keyid,) = root["roles"]["root"]["keyids"]
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert root["keys"][keyid]["keyval"]["public"] == raw.hex()  # the imported key signs root
    _no_secret(tmp_path, seen, ALICE, FILE_PASS, ONLINE)


@pytest.mark.interop
def test_notary_root_from_an_imported_notary_key_file(
    tmp_path: Path, make_app, notary: NotaryServer
) -> None:  # type: ignore[no-untyped-def]
    if not have_notary():
        if os.environ.get("CI"):
            raise RuntimeError("notary not installed: tests/run.sh installs it")
        pytest.skip("notary not installed")
    trust = tmp_path / "notary-trust"
    made = subprocess.run(  # the real notary client writes the root key file
        ["notary", "-d", str(trust), "key", "generate", "ecdsa"],
        input="",
        env={**os.environ, **PASSPHRASES},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    (key_file,) = (trust / "private").glob("*.key")
    root_pass = PASSPHRASES["NOTARY_ROOT_PASSPHRASE"]
    gun = f"registry.example.com/acme/app-{uuid.uuid4().hex[:8]}"  # one server per session
    out, seen = tmp_path / "notary-root", {}  # type: ignore[var-annotated]
    app = fast_app(make_app, tmp_path / "home")
    asyncio.run(_import_flow(app, out, key_file, root_pass, seen, gun=gun))
    assert seen["file-prompt"].startswith(f"Passphrase for key file {key_file}")
    assert f"CN={gun}" in seen["review"]
    # notary names a root key by the ID trustkeep calls canonical
    assert f"canonical ID {key_file.stem}" in seen["written"]
    seen["cert-id"] = seen["written"].split("certificate ID ")[1].split()[0]
    daemon, config = out / "daemon-pins.json", out / "notary-pins.json"
    assert seen["saved-0"] == f"saved daemon.json content-trust block to {daemon}"
    assert seen["saved-1"] == f"saved Notary client trust_pinning to {config}"
    cert = str(out / "root.crt")
    for flag, pins in (("--daemon-json", daemon), ("--notary-config", config)):
        check = subprocess.run(
            [str(TRUSTKEEP), "pin", "check", flag, str(pins), "--gun", gun, "--from", cert],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stderr
        assert check.stdout.startswith(f"{gun}: accepted"), check.stdout
    # the real notary client: a repository on notary-server initialised with this root
    # certificate (its key is the one notary generated), then read by a fresh client that
    # trusts only the saved trust_pinning block
    NotaryClient(notary, trust).run("init", gun, "--rootcert", cert, "-p")
    fresh = NotaryClient(notary, tmp_path / "fresh-client")
    listed = fresh.run("list", gun, config=config, check=False)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    other = tmp_path / "other-pins.json"  # a pin of another certificate is refused
    other.write_text(config.read_text().replace(seen["cert-id"], "0" * 64))
    refused = NotaryClient(notary, tmp_path / "other-client").run(
        "list", gun, config=other, check=False
    )
    assert refused.returncode != 0
    assert "unable to match any certificates to trust_pinning" in refused.stdout
    _no_secret(tmp_path, seen, ALICE, root_pass)


async def _elsewhere_flow(app, repo: Path, pub: Path, seen: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await plan(pilot, repo, "alice, carol", "2")
        await holder(pilot, "alice", secret=ALICE, seen=seen)
        await holder(pilot, "carol", location="public", path=pub, seen=seen)
        await role_keys(pilot)
        await review_and_write(pilot, [ALICE, ONLINE, ONLINE], seen)


def _cli(home: Path, secret: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {"TRUSTKEEP_HOME": str(home), "TRUSTKEEP_PASSPHRASE": secret, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(TRUSTKEEP), *argv], env=env, capture_output=True, text=True, timeout=60
    )


def test_holder_elsewhere_gives_a_public_key_and_signs_with_the_cli(
    tmp_path: Path, make_app
) -> None:  # type: ignore[no-untyped-def]
    carol_home = tmp_path / "carol-home"
    carol = Service(carol_home, lambda _n: CAROL)
    carol.keys.kdf_iterations = TEST_KDF_ITERATIONS
    carol_id = carol.keys.generate("ed25519", name="carol").keyid
    pub = tmp_path / "carol.pub.pem"
    pub.write_text(carol.keys.export_public("carol"))
    repo, seen = tmp_path / "acme", {}  # type: ignore[var-annotated]
    app = fast_app(make_app, tmp_path / "home")
    asyncio.run(_elsewhere_flow(app, repo, pub, seen))
    assert "the root then waits for 1 more of: carol" in seen["review"]
    assert seen["title"] == "New root written (waiting for signatures)"
    assert "waiting for carol" in seen["written"]
    assert not (repo / "root.json").exists()  # staged, not published
    staged = repo / "staged" / "root.json"
    # carol signs the travelled file on her machine, the operator publishes
    signed = _cli(carol_home, CAROL, "sign", str(staged), "--key", "carol")
    assert signed.returncode == 0, signed.stderr
    published = _cli(tmp_path / "home", ONLINE, "publish", str(repo))
    assert published.returncode == 0, published.stderr
    python_tuf_accepts(repo)
    assert carol_id in _root(repo)["roles"]["root"]["keyids"]
    verified = _cli(tmp_path / "home", ONLINE, "verify", str(repo))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    _no_secret(tmp_path, seen, ALICE, ONLINE)
