"""Notary's root rule (ValidateRoot) against the real notary client, one forged root per row.

Each row builds a repository in the test (:mod:`notary_forge`), serves it to the real
``notary`` client over 127.0.0.1 (``notary list`` from an empty trust dir, so the client
evaluates the served root.json with the row's pins), and asserts the client's verdict.
``trustkeep verify`` and ``trustkeep pin check`` (and ``pin export`` for trust on first
use) on the same files must reach the same verdict.

Rows:
- *pin forgeries*: the root role lists the pinned (public) certificate P next to an
  attacker's certificate A, and only A signs. One row per pin form; a control row per
  form where P signs. daemon.json has no open-source client: its ``cert-ids`` and
  ``root-keys`` rows are checked against the notary client pinned to the same
  certificate (Notary ``certs`` with P's ID), which is what those pins mean.
- *bad certificates, trust on first use*: the role lists a good certificate G and a
  bad one B (wrong CN, expired, not yet valid, a bare non-x509 key, SHA-1 signed,
  RSA 1024), and only B signs. Controls: G signs; G and B sign; B is usable after all
  (a ``*`` CN prefixing the GUN; a start 12 hours ahead, inside Notary's day of leeway).
- *rotation*: the client holds root v1 in its cache and is served v2 signed by the old
  key, the new key or both (and v1's certificate expired): ``verify --root v1``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from notary_env import have_notary
from notary_forge import (
    ForgeServer,
    RootKey,
    bare_key,
    certificate_key,
    forge_repository,
    forge_server,
    utcnow,
    write_repository,
)
from pin_certs import make_cert

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("notary-root-rule")]

RunCli = Callable[..., tuple[int, str, str]]
REFUSED = "could not validate the path to a trusted root"


@dataclass(frozen=True)
class Case:
    id: str
    pin: str  # tofu | certs | certs-wildcard | ca | daemon-cert-ids | daemon-root-keys
    signed_by: str  # "attacker" | "pinned" | "both"
    bad: str | None = None  # tofu rows: the kind of the bad certificate
    accepted: bool = False  # the real client's verdict (asserted below)


PIN_FORMS = ("certs", "certs-wildcard", "ca", "daemon-cert-ids", "daemon-root-keys")
USABLE_KINDS = ("wildcard-cn", "starts-in-12-hours")
BAD_KINDS = ("wrong-cn", "expired", "not-yet-valid", "bare-key", "sha1-signed", "rsa-1024")
CASES = (
    *(Case(f"{p}-attacker-signs", p, "attacker") for p in PIN_FORMS),
    *(Case(f"{p}-pinned-signs", p, "pinned", accepted=True) for p in PIN_FORMS),
    *(Case(f"tofu-{b}-signs", "tofu", "attacker", bad=b) for b in BAD_KINDS),
    *(
        Case(f"tofu-good-signs-next-to-{b}", "tofu", "pinned", bad=b, accepted=True)
        for b in BAD_KINDS
    ),
    *(
        Case(f"tofu-both-sign-{b}", "tofu", "both", bad=b, accepted=True)
        for b in ("wrong-cn", "expired")
    ),
    # usable after all: a CN that is a '*' prefix of the GUN; a start within Notary's day of leeway
    *(Case(f"tofu-{u}-signs", "tofu", "attacker", bad=u, accepted=True) for u in USABLE_KINDS),
)


@dataclass(frozen=True)
class Built:
    case: Case
    gun: str
    metadata: Path  # the repository's files, for trustkeep
    client_config: Path  # what the real client is configured with
    pins: Path  # what trustkeep is given (the same file, or the daemon.json form)
    pins_kind: str  # "--notary-config" | "--daemon-json"
    pinned_id: str  # the certificate ID of P (pin rows) or G (trust on first use rows)
    other_id: str  # the keyid of A (pin rows) or B (trust on first use rows)


@dataclass(frozen=True)
class World:
    server: ForgeServer
    base: Path
    prefix: str
    now: datetime
    built: dict[str, Built]


def _bad_key(kind: str, gun: str, now: datetime) -> RootKey:
    if kind == "wrong-cn":
        return certificate_key(gun.rsplit("/", 1)[0] + "/someone-else", now=now)
    if kind == "wildcard-cn":
        return certificate_key(gun.rsplit("/", 1)[0] + "/*", now=now)
    if kind == "starts-in-12-hours":
        return certificate_key(gun, now=now, start=timedelta(hours=12))
    if kind == "expired":
        return certificate_key(gun, now=now, start=timedelta(days=-400), days=365)
    if kind == "not-yet-valid":
        return certificate_key(gun, now=now, start=timedelta(days=30))
    if kind == "bare-key":
        return bare_key()
    if kind == "sha1-signed":
        return certificate_key(gun, now=now, digest=hashes.SHA1())
    if kind == "rsa-1024":
        weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        return certificate_key(gun, now=now, key=weak)
    raise AssertionError(kind)


def _signers(case: Case, pinned: RootKey, other: RootKey) -> list[RootKey]:
    return {"attacker": [other], "pinned": [pinned], "both": [pinned, other]}[case.signed_by]


def _pin_documents(
    case: Case, gun: str, prefix: str, pinned: RootKey, ca_file: Path
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(the real client's config, trustkeep's pins, trustkeep's pin option)."""
    exact = {"trust_pinning": {"certs": {gun: [pinned.keyid]}, "disable_tofu": True}}
    if case.pin == "tofu":
        return {"trust_pinning": {}}, {"trust_pinning": {}}, "--notary-config"
    if case.pin == "certs":
        return exact, exact, "--notary-config"
    if case.pin == "certs-wildcard":
        doc = {"trust_pinning": {"certs": {prefix + "*": [pinned.keyid]}, "disable_tofu": True}}
        return doc, doc, "--notary-config"
    if case.pin == "ca":
        doc = {"trust_pinning": {"ca": {prefix: str(ca_file)}, "disable_tofu": True}}
        return doc, doc, "--notary-config"
    option = "cert-ids" if case.pin == "daemon-cert-ids" else "root-keys"
    ids = [pinned.keyid] if option == "cert-ids" else [pinned.canonical_id]
    daemon = {"content-trust": {"mode": "enforced", "trust-pinning": {option: {gun: ids}}}}
    return exact, daemon, "--daemon-json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not have_notary():
        pytest.skip("notary not installed (run tests/run.sh)")
    base = tmp_path_factory.mktemp("root-rule")
    prefix = f"forge.example/{uuid.uuid4().hex[:8]}/"
    now = utcnow()
    ca_cert, ca_key = make_cert(
        "Root Rule Test CA", ca=True, start=now - timedelta(days=1), days=3650
    )
    ca_file = base / "ca.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    built: dict[str, Built] = {}
    with forge_server() as server:
        for case in CASES:
            gun = prefix + case.id
            if case.pin == "ca":
                pinned = certificate_key(gun, now=now, issuer=(ca_cert, ca_key), eku=None)
            else:
                pinned = certificate_key(gun, now=now)
            other = _bad_key(case.bad, gun, now) if case.bad else certificate_key(gun, now=now)
            files = forge_repository([pinned, other], _signers(case, pinned, other))
            server.publish(gun, files)
            where = base / case.id
            client_doc, pins_doc, kind = _pin_documents(case, gun, prefix, pinned, ca_file)
            client_config = where / "client.json"
            pins = where / ("daemon.json" if kind == "--daemon-json" else "client.json")
            write_repository(files, where / "metadata")
            client_config.write_text(json.dumps(client_doc))
            pins.write_text(json.dumps(pins_doc))
            built[case.id] = Built(
                case, gun, where / "metadata", client_config, pins, kind, pinned.keyid, other.keyid
            )
        yield World(server, base, prefix, now, built)


def _real_client(world: World, b: Built) -> tuple[bool, str]:
    """``notary list`` from an empty trust dir: the client fetches and judges root.json."""
    trust_dir = world.base / f"client-{uuid.uuid4().hex[:8]}"
    proc = subprocess.run(
        [
            "notary",
            "-c",
            str(b.client_config),
            "-s",
            world.server.url,
            "-d",
            str(trust_dir),
            "list",
            b.gun,
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    shutil.rmtree(trust_dir, ignore_errors=True)
    return proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_trustkeep_agrees_with_the_real_client(world: World, run_cli: RunCli, case: Case) -> None:
    b = world.built[case.id]
    accepted, output = _real_client(world, b)
    assert accepted == case.accepted, output  # the oracle's verdict, asserted
    if accepted:
        assert "release" in output
    else:
        assert REFUSED in output

    code, out, err = run_cli(
        "verify", str(b.metadata), "--gun", b.gun, "--pins", str(b.pins), "--json"
    )
    report = json.loads(out)
    assert (code, report["valid"]) == ((0, True) if accepted else (1, False)), report["findings"]
    root_errors = {f["code"] for f in report["findings"] if f["severity"] == "error"}
    if not accepted:
        assert root_errors & {"pin-mismatch", "threshold-not-met"}, report["findings"]
        assert report["roles"][0]["role"] == "root" and not report["roles"][0]["valid"]
        # what hangs below a refused root is not shown as verified either
        assert not any(r["verified"] for r in report["roles"]), report["roles"]
        below = [r for r in report["roles"] if r["role"] != "root"]
        assert below and all(
            "failed: its keys are not trusted" in r["unverified_reason"] for r in below
        )

    code, out, err = run_cli(
        "pin", "check", b.pins_kind, str(b.pins), "--gun", b.gun, "--from", str(b.metadata)
    )
    assert code == (0 if accepted else 1), out + err
    assert out.startswith(f"{b.gun}: {'accepted' if accepted else 'REJECTED'}")

    if case.pin == "tofu":  # with no pin: verify from its own root, and pin export
        code, out, err = run_cli("verify", str(b.metadata), "--gun", b.gun, "--json")
        assert (code, json.loads(out)["valid"]) == ((0, True) if accepted else (1, False))
        code, out, err = run_cli(
            "pin", "export", "--format", "notary", "--from", str(b.metadata), "--gun", b.gun
        )
        assert code == (0 if accepted else 1), err
        if accepted:  # only the certificates usable for the GUN are pinned
            usable = {b.pinned_id, *([b.other_id] if case.bad in USABLE_KINDS else [])}
            assert json.loads(out)["trust_pinning"]["certs"][b.gun] == sorted(usable)


def test_the_forgery_names_the_pinned_certificate(world: World, run_cli: RunCli) -> None:
    """The attack in the words of the report: P passes the pin but did not sign."""
    b = world.built["certs-attacker-signs"]
    code, out, _ = run_cli(
        "pin", "check", "--notary-config", str(b.pins), "--gun", b.gun, "--from", str(b.metadata)
    )
    assert code == 1
    assert "0 signature(s) from usable pinned root certificates, threshold 1" in out
    assert "its certificate does not pass the pin" in out


@dataclass(frozen=True)
class Rotation:
    id: str
    signed_by: tuple[str, ...]  # of "old" (v1's certificate), "new" (v2's)
    trusted_expired: bool = False  # v1's certificate has expired
    accepted: bool = False
    code: str | None = None  # trustkeep's finding when refused


ROTATIONS = (
    Rotation("old-and-new-sign", ("old", "new"), accepted=True),
    Rotation("only-new-signs", ("new",), code="root-rotation-invalid"),
    Rotation("only-old-signs", ("old",), code="threshold-not-met"),
    Rotation(
        "trusted-certificate-expired",
        ("old", "new"),
        trusted_expired=True,
        code="certificate-invalid",
    ),
)


@pytest.mark.parametrize("rot", ROTATIONS, ids=[r.id for r in ROTATIONS])
def test_rotation_agrees_with_the_real_client(
    world: World, run_cli: RunCli, tmp_path: Path, rot: Rotation
) -> None:
    """A client holding root v1 is served v2: v2 needs v1's threshold and its own."""
    gun = f"{world.prefix}rotation-{rot.id}"
    validity = dict(start=timedelta(days=-400), days=365) if rot.trusted_expired else {}
    old = certificate_key(gun, now=world.now, **validity)  # type: ignore[arg-type]
    new = certificate_key(gun, now=world.now)
    v1 = forge_repository([old], [old])
    signers = [{"old": old, "new": new}[s] for s in rot.signed_by]
    v2 = forge_repository([new], signers, version=2, extra_keys=[old])
    world.server.publish(gun, v2)
    trust_dir = tmp_path / "client"
    cache = trust_dir / "tuf" / gun / "metadata"
    cache.mkdir(parents=True)
    (cache / "root.json").write_bytes(v1["root.json"])
    proc = subprocess.run(
        ["notary", "-s", world.server.url, "-d", str(trust_dir), "list", gun],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert (proc.returncode == 0) == rot.accepted, proc.stdout + proc.stderr
    if not rot.accepted:
        assert "could not" in proc.stdout and "trusted root" in proc.stdout

    trusted = tmp_path / "v1.root.json"
    trusted.write_bytes(v1["root.json"])
    metadata = write_repository(v2, tmp_path / "metadata")
    code, out, _ = run_cli("verify", str(metadata), "--root", str(trusted), "--gun", gun, "--json")
    report = json.loads(out)
    assert (code, report["valid"]) == ((0, True) if rot.accepted else (1, False)), report
    if rot.code is not None:
        assert rot.code in {f["code"] for f in report["findings"] if f["severity"] == "error"}
