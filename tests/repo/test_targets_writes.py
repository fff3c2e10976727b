"""The write paths: batched durability, timestamp reading only what it needs, hashed bins
beside other delegations, and the progress that long work reports."""

from __future__ import annotations

import errno
import io
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_oracle import fetch_target, updater
from securesystemslib.exceptions import FormatError
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import Key, Signature, Signer

from trustkeep.adapters import repo_dir
from trustkeep.adapters.atomic import AtomicWriter
from trustkeep.cli._progress import ProgressBar
from trustkeep.core.canonical import fast_canonical, pretty_sorted
from trustkeep.core.progress import report_every
from trustkeep.core.tuf_repo.expiry import ExpiryPolicy
from trustkeep.core.tuf_repo.status import state_checks
from trustkeep.errors import InputError, StorageError


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"file": 0, "dir": 0}
    real = os.fsync

    def fsync(fd: int) -> None:
        counts["dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"] += 1
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return counts


def test_bins_fsync_every_file_and_the_directory_once_per_level(  # type: ignore[no-untyped-def]
    tk, basic_repo, make_keys, monkeypatch
) -> None:
    repo, _ = basic_repo
    make_keys("binkey")
    counts = _count_fsyncs(monkeypatch)
    links: list[tuple[str, str]] = []
    real_link = os.link

    def link(src: str, dst: str) -> None:
        links.append((os.path.basename(os.path.dirname(src)), os.path.dirname(dst)))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    code, _, err = tk("delegation", "bins", str(repo), "--count", "32", "--key", "binkey")
    assert code == 0, err
    # staged first (32 bins + targets.json, each fsynced before its rename), then
    # published: those 33 as hard links to the durable staged files (not written and
    # fsynced again), and a new snapshot and timestamp written and fsynced
    assert counts["file"] == 33 + 2
    assert links == [("staged", str(repo))] * 33
    # the staging area once, then one per published level: not one per file
    assert counts["dir"] == 1 + 4  # bins, targets.json, snapshot, timestamp
    assert not [p.name for p in repo.iterdir() if p.name.endswith(".tmp")]
    assert not (repo / "staged").exists()
    assert {p.stat().st_nlink for p in repo.glob("bins-*.json")} == {1}
    assert tk("snapshot", str(repo))[0] == 0 and tk("timestamp", str(repo))[0] == 0
    updater(repo, repo.parent / "client")[0].refresh()


def test_timestamp_reads_only_root_timestamp_and_snapshot(tk, tkj, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    assert tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")[0] == 0
    assert tk("snapshot", str(repo))[0] == 0
    for name in ("targets.json", "bins-0.json", "bins-f.json"):
        (repo / name).write_bytes(b"not metadata at all")  # a full load would refuse these
    code, doc, err = tkj("timestamp", str(repo))
    assert code == 0, err
    assert [(r["role"], r["version"], r["verified"]) for r in doc["roles"]] == [
        ("timestamp", 3, True)
    ]
    signed = json.loads((repo / "timestamp.json").read_bytes())["signed"]
    snapshot = (repo / "snapshot.json").read_bytes()
    assert signed["meta"]["snapshot.json"]["version"] == 3  # bins published v2 already
    assert signed["meta"]["snapshot.json"]["length"] == len(snapshot)
    code, doc, err = tkj("timestamp", str(repo))  # snapshot unchanged: recorded version kept
    assert code == 0, err
    assert json.loads((repo / "timestamp.json").read_bytes())["signed"]["version"] == 4


def test_timestamp_refuses_a_snapshot_that_is_not_one(tk, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    before = (repo / "timestamp.json").read_bytes()
    (repo / "snapshot.json").write_bytes((repo / "targets.json").read_bytes())
    code, _, err = tk("timestamp", str(repo))
    assert code == 2
    assert "snapshot.json: holds targets metadata, expected snapshot" in err
    assert (repo / "timestamp.json").read_bytes() == before


def test_classic_bins_share_a_delegator_with_other_delegations(  # type: ignore[no-untyped-def]
    tk, tkj, basic_repo, make_keys, tmp_path
) -> None:
    repo, _ = basic_repo
    make_keys("binkey", "dele")
    assert tk("delegation", "add", str(repo), "ops", "--key", "dele", "--paths", "ops/*")[0] == 0
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey",
                      "--style", "classic")  # fmt: skip
    assert code == 0, err
    roles = json.loads((repo / "targets.json").read_bytes())["signed"]["delegations"]["roles"]
    assert [r["name"] for r in roles][:2] == ["ops", "bins-0"] and len(roles) == 17
    base = tmp_path / "files"
    (base / "ops").mkdir(parents=True)
    (base / "ops" / "deploy.sh").write_bytes(b"ops script")
    (base / "app.tar.gz").write_bytes(b"app")
    code, doc, err = tkj("targets", "add", str(repo), str(base), "--base", str(base))
    assert code == 0, err
    assert doc["placed"]["ops"] == ["ops/deploy.sh"]  # the earlier delegation keeps its paths
    assert [r for r in doc["placed"] if r.startswith("bins-")] != []
    assert tk("refresh", str(repo))[0] == 0
    assert tk("status", str(repo))[0] == 0
    assert fetch_target(repo, tmp_path / "c1", "ops/deploy.sh", base) == b"ops script"
    assert fetch_target(repo, tmp_path / "c2", "app.tar.gz", base) == b"app"


def test_succinct_bins_beside_other_delegations_say_why_not(tk, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey", "dele")
    assert tk("delegation", "add", str(repo), "ops", "--key", "dele", "--paths", "ops/*")[0] == 0
    before = (repo / "targets.json").read_bytes()
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey")
    assert code == 2
    assert "already delegates to 'ops'" in err and "cannot share it" in err
    assert "--style classic" in err and "--delegator ROLE" in err
    assert (repo / "targets.json").read_bytes() == before
    # the suggestion works: bins from a role of their own
    assert tk("delegation", "add", str(repo), "pkgs", "--key", "dele", "--paths", "pkgs/*")[0] == 0
    code, _, err = tk("delegation", "bins", str(repo), "--count", "16", "--key", "binkey",
                      "--delegator", "pkgs")  # fmt: skip
    assert code == 0, err


def test_bins_report_progress_to_the_service_callback(service, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    seen: list[tuple[str, int, int]] = []
    service.progress = lambda task, done, total: seen.append((task, done, total))
    service.repo.delegation_bins(repo, count=16, keys=["binkey"])
    assert [s for s in seen if s[0] == "signing"] == [("signing", 17, 17)]  # 16 bins + targets
    # published at once: the 17 roles, then a new snapshot and timestamp
    assert [s for s in seen if s[0] == "writing"] == [("writing", 19, 19)]


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "pool"])
def test_verify_reports_progress_per_level_of_the_tree(
    service, basic_repo, make_keys, jobs
) -> None:  # type: ignore[no-untyped-def]
    from trustkeep.service.verify import VerifyRequest

    repo, _ = basic_repo
    make_keys("binkey")
    service.repo.delegation_bins(repo, count=512, keys=["binkey"])
    seen: list[tuple[str, int, int]] = []
    service.progress = lambda task, done, total: seen.append((task, done, total))
    result = service.verify.verify(VerifyRequest(directory=repo, jobs=jobs))
    assert result.report.valid
    # targets, then the 512 bins every 256 results and at the end
    assert [s for s in seen if s[0] == "verifying roles"] == [
        ("verifying roles", 1, 1),
        ("verifying roles", 256, 512),
        ("verifying roles", 512, 512),
    ]


def test_long_loops_report_every_step_of_256_and_the_end() -> None:
    seen: list[int] = []
    for done in range(1, 1001):
        report_every(lambda _task, d, _total: seen.append(d), "hashing targets", done, 1000)
    assert seen == [256, 512, 768, 1000]


def test_targets_add_reports_hashing(service, basic_repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    files = tmp_path / "files"
    files.mkdir()
    for n in range(5):
        (files / f"f{n}").write_bytes(b"x" * n)
    seen: list[tuple[str, int, int]] = []
    service.repo.targets_list(repo)  # the front end may set its callback at any time
    service.progress = lambda task, done, total: seen.append((task, done, total))
    service.repo.targets_add(repo, [files], base=tmp_path)
    assert [s for s in seen if s[0] == "hashing targets"][-1] == ("hashing targets", 5, 5)


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_draws_after_the_delay_and_clears() -> None:
    stream, clock = _Terminal(tty=True), _Clock()
    bar = ProgressBar(stream, delay=2.0, interval=0.1, clock=clock)
    bar("writing", 0, 100)
    clock.now = 1.0
    bar("writing", 10, 100)
    assert stream.getvalue() == ""  # short work shows nothing
    clock.now = 2.5
    bar("writing", 50, 100)
    assert stream.getvalue() == "\rwriting [###############---------------] 50/100"
    clock.now = 2.55
    bar("writing", 51, 100)  # redrawn at most every interval
    assert stream.getvalue().count("\r") == 1
    clock.now = 3.0
    bar("writing", 100, 100)
    assert stream.getvalue().endswith("\r\x1b[2K")  # the line is left clean


def test_progress_bar_is_silent_when_stderr_is_not_a_terminal() -> None:
    stream, clock = _Terminal(tty=False), _Clock()
    bar = ProgressBar(stream, delay=0.0, clock=clock)
    for done in range(0, 101, 10):
        clock.now += 1
        bar("hashing targets", done, 100)
    assert stream.getvalue() == ""


def test_unknown_delegator_for_bins_is_an_input_error(service, basic_repo, make_keys) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    make_keys("binkey")
    with pytest.raises(InputError, match="not a targets role"):
        service.repo.delegation_bins(repo, count=16, keys=["binkey"], delegator="nope")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json_values)
def test_fast_canonical_json_is_byte_for_byte_securesystemslib(document: object) -> None:
    """The C-encoder shortcut signs exactly what python-tuf would, or steps aside."""
    fast = fast_canonical(document)
    try:
        slow = encode_canonical(document).encode("utf-8")
    except (FormatError, UnicodeEncodeError):
        assert fast is None
        return
    assert fast is None or fast == slow


def test_fast_canonical_steps_aside_for_escapes_and_floats() -> None:
    assert (
        fast_canonical({"b": [1, True, None], "a": "é/x"})
        == '{"a":"é/x","b":[1,true,null]}'.encode()
    )
    for document in ({"x": 1.0}, {"x": 'q"uote'}, {"x": "back\\slash"}, {"x": "line\n"}):
        assert fast_canonical(document) is None
    # orjson writes NaN/infinity as null and 1e16 without "+": neither passes as canonical
    for document in ({"x": float("nan")}, {"x": [float("inf")]}, {"x": 1e16}, {"x": -2.5e-7}):
        assert fast_canonical(document) is None
    # beyond orjson (ints over 64 bits): json's encoder writes them; a datetime is refused
    assert fast_canonical({"n": 2**70, "m": None}) == b'{"m":null,"n":1180591620717411303424}'
    assert fast_canonical({"t": datetime(2030, 1, 1)}) is None
    # keys sorted by code point, as securesystemslib sorts them (astral after the BMP)
    keys = {"\U0001f600": 1, "\uffff": 2, "\ue000": 3, "z": 4, "é": 5}
    assert fast_canonical(keys) == encode_canonical(keys).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_pretty_sorted_is_byte_for_byte_python_tufs_pretty_form(document: object) -> None:
    """orjson's pretty output, re-indented, is python-tuf's ``JSONSerializer`` form or None."""
    fast = pretty_sorted(document)
    try:
        slow = json.dumps(document, indent=1, separators=(",", ": "), sort_keys=True)
    except (TypeError, ValueError):
        assert fast is None
        return
    assert fast is None or fast == slow.encode("utf-8")


def test_pretty_sorted_steps_aside_where_orjson_differs() -> None:
    document = {"b": [1, True, {}], "a": {"x": [], "y": [[2]]}}
    assert pretty_sorted(document) == json.dumps(document, indent=1, sort_keys=True).encode()
    for other in ({"x": "é"}, {"x": 'q"'}, {"x": "a\\b"}, {"x": None}, {"x": 1.0}, {"n": 2**70}):
        assert pretty_sorted(other) is None


def test_written_metadata_is_python_tufs_pretty_form(basic_repo) -> None:  # type: ignore[no-untyped-def]
    """Every role file without a targets table is exactly what python-tuf's serializer
    writes for the same object (orjson writes it; the bytes must not change)."""
    from tuf.api.metadata import Metadata
    from tuf.api.serialization.json import JSONSerializer

    repo, _ = basic_repo
    checked = 0
    for path in sorted(repo.glob("*.json")):
        md = Metadata.from_file(str(path))
        if getattr(md.signed, "targets", None) or md.signed.type == "snapshot":
            continue  # a table: one line per entry, by design (see repo_dir.serialize)
        assert repo_dir.serialize(md) == JSONSerializer(compact=False).serialize(md)
        assert path.read_bytes() == repo_dir.serialize(md)
        checked += 1
    assert checked >= 3  # root, N.root, targets, timestamp


class _BadSigner(Signer):
    """Returns a signature that does not verify, under the right keyid."""

    def __init__(self, public_key: Key) -> None:
        self._key = public_key

    @property
    def public_key(self) -> Key:
        return self._key

    def sign(self, payload: bytes) -> Signature:
        return Signature(self._key.keyid, "00" * 64)

    @classmethod
    def from_priv_key_uri(cls, *args: object, **kwargs: object) -> Signer:  # pragma: no cover
        raise NotImplementedError


def test_a_bad_fresh_signature_is_not_counted(service, basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, ids = basic_repo
    state = service.repo.load(repo)
    key = state.root.signed.get_key(ids["tgt"])
    state.touch("targets", datetime.now(UTC), ExpiryPolicy())
    state.sign_role("targets", [_BadSigner(key)])
    (check,) = state_checks(state, "targets")
    assert check.signed == () and check.unsigned == (ids["tgt"],)
    assert state.trusted_signers("targets") is None


def test_snapshot_state_without_entries_never_writes_a_targets_role(basic_repo) -> None:  # type: ignore[no-untyped-def]
    repo, _ = basic_repo
    state = repo_dir.load_repo(repo, entries=False)
    assert state.targets.signed.version == 1 and not state.entries_loaded
    state.mark("targets")
    before = (repo / "targets.json").read_bytes()
    with pytest.raises(RuntimeError, match="without their entries"):
        repo_dir.write_changed(repo, state)
    assert (repo / "targets.json").read_bytes() == before


def test_atomic_writer_drops_unrenamed_files_when_the_command_fails(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="stop"), AtomicWriter(tmp_path) as writer:
        for n in range(50):
            writer.write(tmp_path / f"{n}.json", b"data")
        raise InputError("stop")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_atomic_writer_links_a_durable_file_or_writes_where_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "staged.json"
    source.write_bytes(b"same bytes")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.json").write_bytes(b"old")
    with AtomicWriter(out) as writer:
        writer.link(out / "old.json", source, b"same bytes")
    assert (out / "old.json").read_bytes() == b"same bytes"
    assert (out / "old.json").stat().st_ino == source.stat().st_ino

    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    with AtomicWriter(out) as writer:  # another device: the bytes are written instead
        writer.link(out / "new.json", source, b"same bytes")
    assert (out / "new.json").read_bytes() == b"same bytes"
    assert (out / "new.json").stat().st_ino != source.stat().st_ino
    assert sorted(p.name for p in out.iterdir()) == ["new.json", "old.json"]


def test_atomic_writer_reports_the_file_it_could_not_write(tmp_path: Path) -> None:
    (tmp_path / "b.json").mkdir()
    with pytest.raises(StorageError, match=r"b\.json: cannot write"), AtomicWriter(tmp_path) as w:
        for name in ("a.json", "b.json", "c.json"):
            w.write(tmp_path / name, name.encode())
    assert (tmp_path / "a.json").read_bytes() == b"a.json"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert (tmp_path / "b.json").is_dir()


@pytest.mark.parametrize(
    "size", [0, 1, 4095, 1 << 20, (1 << 20) - 1, (1 << 20) + 1, 3 * (1 << 20) + 5]
)
def test_hash_file_reads_any_size_whole(tmp_path: Path, size: int) -> None:
    """Small files are read in one read of their own size, larger ones in chunks: the
    length and both digests are hashlib's over the whole file either way."""
    import hashlib
    import os

    from trustkeep.adapters.repo_dir import hash_file

    data = os.urandom(size)
    path = tmp_path / "artifact.bin"
    path.write_bytes(data)
    length, hashes = hash_file(path)
    assert length == size
    assert hashes == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }


def test_hash_file_follows_a_file_that_grew_after_it_was_sized(  # type: ignore[no-untyped-def]
    tmp_path: Path, monkeypatch
) -> None:
    """fstat said 10 bytes, the file holds more by the time it is read: it is read on to
    its end, not cut at the size fstat gave."""
    import hashlib
    import os

    from trustkeep.adapters import repo_dir

    data = b"x" * 10 + os.urandom(3 * (1 << 20))
    path = tmp_path / "growing.bin"
    path.write_bytes(data)
    real = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        st = real(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    monkeypatch.setattr(repo_dir.os, "fstat", stale_fstat)
    length, hashes = repo_dir.hash_file(path)
    assert length == len(data)
    assert hashes["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 10, (1 << 20) - 1, 1 << 20, 2 * (1 << 20) + 3])
def test_hashed_copies_are_the_whole_file_and_refuse_a_changed_one(
    tmp_path: Path, size: int
) -> None:
    """A consistent-snapshot copy reads the length it had first (no 1 MiB buffer for a
    small file), then on: the copy is every byte; a file that changed since it was
    hashed is refused, not copied."""
    import hashlib
    import os

    from trustkeep.adapters.target_files import _copy_chunks
    from trustkeep.errors import InputError

    data = os.urandom(size)
    source = tmp_path / "artifact.bin"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert b"".join(_copy_chunks(str(source), digest, size)) == data
    source.write_bytes(data + b"grown")
    with pytest.raises(InputError, match="changed while being added"):
        b"".join(_copy_chunks(str(source), digest, size))
