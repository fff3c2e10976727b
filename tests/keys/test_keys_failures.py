"""Failure modes: read-only home, full disk, and SIGKILL in the middle of a write."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keystore_support import PASSPHRASE, cli_env, secrets_from, snapshot, trustkeep_cmd

from trustkeep.adapters.keystore import entry_from_dict
from trustkeep.errors import StorageError
from trustkeep.service._keymaterial import decrypt_store_pem, is_well_formed_encrypted_pem
from trustkeep.service.keys import KeyService

OTHER = "the other passphrase"


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A real small tmpfs at ``path`` (needs root); skips where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_read_only_home(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        home = mnt / "home"
        code, out, _ = run_cli(
            "--home", str(home), "key", "generate", "--type", "ed25519", "--name", "a"
        )
        assert code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        before = snapshot(home)
        for argv in (
            ("key", "generate", "--type", "ed25519"),
            ("key", "passwd", "a"),
            ("key", "remove", "a", "--yes"),
        ):
            code, out, err = run_cli("--home", str(home), *argv)
            assert (code, out) == (3, ""), argv
            assert "Read-only file system" in err, err
            assert len(err.splitlines()) == 1 and "Traceback" not in err
            assert snapshot(home) == before


def _fill(mnt: Path) -> None:
    """Use up every free block of the tmpfs."""
    fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


def test_full_disk(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TRUSTKEEP_PASSPHRASE", PASSPHRASE)
    with tmpfs(tmp_path / "mnt", "512k") as mnt:
        home = mnt / "home"
        code, _, _ = run_cli(
            "--home", str(home), "key", "generate", "--type", "ed25519", "--name", "a"
        )
        assert code == 0
        _fill(mnt)
        before = snapshot(home)
        for argv in (("key", "generate", "--type", "rsa-3072"), ("key", "passwd", "a")):
            code, out, err = run_cli("--home", str(home), *argv)
            assert (code, out) == (3, ""), (argv, err)
            assert err.endswith(": cannot write: disk full\n"), err
            assert snapshot(home) == before


def test_full_disk_simulated_write_failure(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without mount privileges: os.write fails with ENOSPC in the middle of the key file."""
    entry = KeyService(home, secrets_from({"": PASSPHRASE})).generate("ecdsa-p256", name="a")
    keys = KeyService(home, secrets_from({"new ": OTHER, "": PASSPHRASE}))
    before = snapshot(home)
    real_write = os.write

    def short_then_full(fd: int, data: bytes | memoryview) -> int:
        if len(data) > 64:
            return real_write(fd, bytes(data[:64]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", short_then_full)
    with pytest.raises(StorageError) as exc:
        keys.passwd("a")
    monkeypatch.undo()
    path = home / "keys" / "private" / f"{entry.keyid}.pem"
    assert exc.value.message == f"{path}: cannot write: disk full"
    assert snapshot(home) == before


# -- SIGKILL mid-write ---------------------------------------------------------------------


def check_store(home: Path, passphrases: tuple[str, ...]) -> dict[str, str]:
    """Every file parses, no plaintext key anywhere; returns keyid -> passphrase that opens it."""
    opened: dict[str, str] = {}
    for path in home.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert b"BEGIN PRIVATE KEY" not in data and b"BEGIN EC PRIVATE KEY" not in data, path
        if path.name.startswith("."):
            continue  # an interrupted write's temp file: ignored by the store
        if path.suffix == ".json":
            entry = entry_from_dict(json.loads(data))
            if entry.uri_scheme == "tkfile":
                assert (home / "keys" / "private" / f"{entry.keyid}.pem").is_file(), path
        else:
            assert is_well_formed_encrypted_pem(data), path
    return opened


def which_passphrase(pem: bytes, passphrases: tuple[str, ...]) -> str:
    for p in passphrases:
        if decrypt_store_pem(pem, p) is not None:
            return p
    raise AssertionError("private key opens with neither passphrase")


def kill_loop(
    home: Path,
    kills: int,
    make_cmd: Callable[[int], tuple[list[str], dict[str, str]]],
    after: Callable[[int], object],
) -> list[int]:
    """Run make_cmd(i) and SIGKILL it at a random point of its run until ``kills`` runs
    were killed (at most 4 * kills runs). A run that completes shrinks the window."""
    rng = random.Random(int(os.environ.get("TRUSTKEEP_KILL_SEED", "20261128")))
    cmd, env = make_cmd(-1)
    start = time.monotonic()
    subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
    window = time.monotonic() - start
    after(-1)
    codes: list[int] = []
    for i in range(4 * kills):
        cmd, env = make_cmd(i)
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.0) * window)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        codes.append(proc.wait())
        after(i)
        if codes[-1] == 0:
            window *= 0.7
        if codes.count(-signal.SIGKILL) >= kills:
            break
    return codes


# A harness around the real CLI in a subprocess: the n-th call of one os function first
# does half its work (os.write writes half the buffer), says PAUSED on stderr and sleeps,
# so the test can SIGKILL the process at exactly that point of the write.
_PAUSE_CODE = """
import os, sys, time
from trustkeep.cli import main
func, nth = sys.argv[1], int(sys.argv[2])
real = getattr(os, func)
calls = [0]
def paused(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth:
        if func == "write":
            real(args[0], bytes(args[1][: max(1, len(args[1]) // 2)]))
        sys.stderr.write("PAUSED\\n")
        sys.stderr.flush()
        time.sleep(60)
    return real(*args, **kwargs)
setattr(os, func, paused)
sys.exit(main(sys.argv[3:]))
"""


def kill_at(home: Path, func: str, nth: int, *argv: str, **env: str) -> None:
    cmd = [*trustkeep_cmd()[:1], "-c", _PAUSE_CODE, func, str(nth), *argv]
    proc = subprocess.Popen(
        cmd,
        env=cli_env(home, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    proc.kill()
    proc.wait()
    assert line == "PAUSED\n", f"never reached {func} #{nth}: {line}{proc.stderr.read()}"


@pytest.mark.interop
@pytest.mark.parametrize(("func", "nth"), [("write", 1), ("fsync", 1), ("replace", 1)])
def test_kill_mid_passwd_keeps_the_old_key_file(home: Path, func: str, nth: int) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ecdsa-p256", name="k")
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    before = pem_path.read_bytes()
    kill_at(
        home,
        func,
        nth,
        "key",
        "passwd",
        "k",
        TRUSTKEEP_PASSPHRASE=PASSPHRASE,
        TRUSTKEEP_NEW_PASSPHRASE=OTHER,
    )
    check_store(home, (PASSPHRASE, OTHER))
    assert pem_path.read_bytes() == before  # the old file, whole
    leftovers = [p for p in (home / "keys" / "private").iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1  # the interrupted temp file: encrypted bytes, ignored
    assert leftovers[0].read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert [e.keyid for e in keys.list()] == [entry.keyid]
    keys.private_key("k")  # still opens with the old passphrase


@pytest.mark.interop
@pytest.mark.parametrize(("func", "nth"), [("write", 1), ("write", 2), ("replace", 2)])
def test_kill_mid_generate_leaves_no_partial_key(home: Path, func: str, nth: int) -> None:
    argv = ("key", "generate", "--type", "ed25519")
    kill_at(home, func, nth, *argv, TRUSTKEEP_PASSPHRASE="long-enough")
    check_store(home, ("long-enough",))
    assert KeyService(home, secrets_from({})).list() == []  # no entry without its key


@pytest.mark.interop
@pytest.mark.parametrize("nth", [1, 2])
def test_kill_mid_remove(home: Path, nth: int) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ed25519", name="k")
    kill_at(home, "unlink", nth, "key", "remove", "--yes", "k")
    check_store(home, (PASSPHRASE,))
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    if nth == 1:  # killed before the first unlink: the key is whole
        assert keys.list() == [entry]
        keys.private_key("k")
    else:  # the entry goes first; an encrypted orphan file may stay behind, never listed
        assert keys.list() == []
        assert is_well_formed_encrypted_pem(pem_path.read_bytes())


@pytest.mark.interop
def test_kill_during_passwd_at_random_times(home: Path) -> None:
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    entry = keys.generate("ecdsa-p256", name="k")
    pem_path = home / "keys" / "private" / f"{entry.keyid}.pem"
    state = {"current": PASSPHRASE}

    def make_cmd(_: int) -> tuple[list[str], dict[str, str]]:
        new = OTHER if state["current"] == PASSPHRASE else PASSPHRASE
        env = cli_env(home, TRUSTKEEP_PASSPHRASE=state["current"], TRUSTKEEP_NEW_PASSPHRASE=new)
        return trustkeep_cmd("key", "passwd", "k"), env

    def after(_: int) -> None:
        check_store(home, (PASSPHRASE, OTHER))
        state["current"] = which_passphrase(pem_path.read_bytes(), (PASSPHRASE, OTHER))

    codes = kill_loop(home, 4, make_cmd, after)
    assert -signal.SIGKILL in codes  # some runs were really killed mid-way


@pytest.mark.interop
def test_kill_during_generate_and_remove(home: Path) -> None:
    def gen_cmd(_: int) -> tuple[list[str], dict[str, str]]:
        env = cli_env(home, TRUSTKEEP_PASSPHRASE=PASSPHRASE)
        return trustkeep_cmd("key", "generate", "--type", "ecdsa-p256"), env

    codes = kill_loop(home, 3, gen_cmd, lambda _: check_store(home, (PASSPHRASE,)))
    assert -signal.SIGKILL in codes
    entries = sorted((home / "keys").glob("*.json"))
    assert entries

    def remove_cmd(_: int) -> tuple[list[str], dict[str, str]]:
        remaining = sorted(p.stem for p in (home / "keys").glob("*.json"))
        env = cli_env(home)
        return trustkeep_cmd("key", "remove", "--yes", remaining[0]), env

    def after_remove(_: int) -> None:
        check_store(home, (PASSPHRASE,))
        if not list((home / "keys").glob("*.json")):
            KeyService(home, secrets_from({"": PASSPHRASE})).generate("ed25519")

    codes = kill_loop(home, 3, remove_cmd, after_remove)
    assert -signal.SIGKILL in codes
    # every remaining key still opens with its passphrase
    keys = KeyService(home, secrets_from({"": PASSPHRASE}))
    for entry in keys.list():
        keys.private_key(entry)
