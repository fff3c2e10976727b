"""hypothesis: mutated metadata never crashes the verifier and never verifies as valid."""

from __future__ import annotations

import json
from functools import cache, partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tufrepo import NOW, Repo, mutate_bytes

from trustkeep.core.verify import MetadataBundle, verify_tuf
from trustkeep.core.verify.notary import verify_notary

FUZZ = settings(
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@cache
def _files() -> dict[str, bytes]:
    return Repo.build(root_versions=2, threshold=1).files()


def _signed(raw: bytes) -> Any:
    try:
        return json.loads(raw).get("signed")
    except (ValueError, AttributeError, RecursionError):
        return None


def _verify(files: dict[str, bytes]) -> bool:
    report = verify_tuf(MetadataBundle(files, source="fuzz"), at=NOW)
    return report.valid


def test_unmutated_repository_is_valid() -> None:
    assert _verify(dict(_files()))


@FUZZ
@given(data=st.data())
def test_byte_mutations(data: st.DataObject) -> None:
    files = dict(_files())
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = mutate_bytes(data, files[name])
    valid = _verify(files)  # never raises
    if _signed(files[name]) != _signed(_files()[name]):
        assert not valid, f"{name} mutated (see the draws above) still valid"


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    doc[head] = _set(doc[head], rest, value)
    return doc


@FUZZ
@given(data=st.data())
def test_field_mutations(data: st.DataObject) -> None:
    files = dict(_files())
    name = data.draw(st.sampled_from(sorted(files)))
    doc = json.loads(files[name])
    path = data.draw(st.sampled_from(_paths(doc)))
    value = data.draw(_json)
    mutated = _set(doc, path, value)
    files[name] = json.dumps(mutated).encode()
    valid = _verify(files)
    if _signed(files[name]) != _signed(_files()[name]):
        assert not valid, f"{name}: {path} = {value!r} still valid"


@settings(max_examples=60, deadline=2000, derandomize=True)
@given(data=st.binary(max_size=400), name=st.sampled_from(["root.json", "targets/x.json"]))
def test_notary_garbage_never_crashes(data: bytes, name: str) -> None:
    report = verify_notary(MetadataBundle({name: data}, source="fuzz"), at=NOW)
    assert not report.valid


def test_process_pool_gives_the_same_report() -> None:
    """The service's process-pool mapper changes speed, never the verdict or the findings."""
    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map
    from trustkeep.core.verify._tuftargets import sequential

    repo = Repo.build(delegations=False, succinct_bits=7, n_targets=300)
    bins = [n for n in repo.targets if n.startswith("bin-")]
    assert len(bins) >= MIN_TASKS
    del repo.targets[bins[5]]  # one missing bin
    files = repo.files()
    files["1.bin-03.json"] = files["1.bin-03.json"].replace(b'"version": 1', b'"version": 2', 1)
    bundle = MetadataBundle(files, source="pool")
    one = verify_tuf(bundle, at=NOW, trusted_root=files["1.root.json"], mapper=sequential)
    pool = partial(parallel_map, max_workers=2)
    many = verify_tuf(bundle, at=NOW, trusted_root=files["1.root.json"], mapper=pool)
    assert one.to_dict() == many.to_dict()
    assert {(f.code, f.role) for f in one.errors} == {
        ("missing-role", bins[5]),
        ("version-mismatch", "bin-03"),
        ("threshold-not-met", "bin-03"),
    }


def _slow_pid(_i: int) -> int:
    import os
    import time

    time.sleep(0.005)  # long enough that every process takes some chunks
    return os.getpid()


def test_parallel_map_uses_worker_processes() -> None:
    import os

    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map, workers

    pids = parallel_map(_slow_pid, list(range(MIN_TASKS * 2)), max_workers=2)
    assert len(pids) == MIN_TASKS * 2
    if workers() >= 2:
        # this process works beside one forked child
        assert len(set(pids)) == 2 and os.getpid() in pids
    assert parallel_map(lambda i: i * 2, [1, 2, 3]) == [2, 4, 6]  # small batch: in-process


def test_parallel_map_keeps_order_and_reports_progress() -> None:
    import contextlib
    import os

    from trustkeep.adapters.process_pool import parallel_map
    from trustkeep.core.progress import STEP

    seen: list[tuple[int, int]] = []
    tasks = list(range(STEP * 5 + 7))
    fds = set(os.listdir("/proc/self/fd"))
    got = parallel_map(
        lambda i: (i, i * i), tasks, max_workers=2, progress=lambda d, t: seen.append((d, t))
    )
    assert got == [(i, i * i) for i in tasks]
    assert set(os.listdir("/proc/self/fd")) == fds  # every pipe closed
    # and every child reaped: no zombie left (other tests' servers may still run)
    with contextlib.suppress(ChildProcessError):
        assert os.waitpid(-1, os.WNOHANG)[0] == 0
    assert seen[-1] == (len(tasks), len(tasks))
    assert [d for d, _ in seen] == sorted({d for d, _ in seen})  # growing, never repeated


def test_parallel_map_redoes_what_a_dead_child_held() -> None:
    """A child that dies mid-map (killed, out of memory) loses nothing: this process
    does the chunks whose results never came."""
    import os

    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map, workers

    parent = os.getpid()

    def fn(i: int) -> int:
        if os.getpid() != parent and i % 7 == 3:
            os._exit(9)  # the child dies on its first chunk holding such an item
        return _slow_pid(i) and i + 1

    tasks = list(range(MIN_TASKS * 2))
    assert workers() < 2 or parallel_map(fn, tasks, max_workers=2) == [i + 1 for i in tasks]


def test_parallel_map_works_on_when_no_process_can_be_forked(monkeypatch: Any) -> None:
    import os

    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    tasks = list(range(MIN_TASKS * 2))
    assert parallel_map(lambda i: (i, os.getpid()), tasks, max_workers=2) == [
        (i, os.getpid()) for i in tasks
    ]


def test_parallel_map_raises_what_the_function_raises() -> None:
    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map

    def fn(i: int) -> int:
        if i == MIN_TASKS:
            raise ValueError("bad task")
        return _slow_pid(i)

    with pytest.raises(ValueError, match="bad task"):
        parallel_map(fn, list(range(MIN_TASKS * 2)), max_workers=2)


def test_pool_is_chosen_by_work_and_free_cores(monkeypatch: Any) -> None:
    from dataclasses import dataclass

    from trustkeep.adapters import process_pool
    from trustkeep.adapters.process_pool import MIN_TASKS, MIN_WORK_BYTES, choose_workers, workers

    monkeypatch.setattr(process_pool, "free_cores", lambda: 2)  # the instant moves: fix it

    @dataclass
    class Task:
        size: int  # the bytes the task checks, as RoleTask.size

    small = [Task(100)] * MIN_TASKS
    assert choose_workers(small) == 1  # little work: one process
    big = [Task(MIN_WORK_BYTES // MIN_TASKS * 4)] * MIN_TASKS
    assert choose_workers(big) == 2  # 16 MiB: one more worker for each further 8 MiB
    assert choose_workers(small, max_workers=2) == min(2, workers())  # --jobs decides
    assert choose_workers([Task(0)] * 3) == 1


@pytest.mark.parametrize(
    ("load", "running", "busy"),
    [
        (1.0, 1, 0),  # idle (this VM's load average sits near 1 at rest)
        (2.6, 1, 0),  # a command that has just finished: the average lags, the instant not
        (2.0, 2, 1),  # another process busy now and for the last minute
        (0.4, 3, 0),  # a blip at this instant, the minute was quiet
        (9.0, 9, 8),  # a busy machine: one process only
    ],
)
def test_free_cores_are_the_smaller_of_the_average_and_the_instant(
    monkeypatch: Any, load: float, running: int, busy: int
) -> None:
    import os

    from trustkeep.adapters import process_pool

    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(process_pool, "_running_now", lambda: running)
    cpus = process_pool.workers()
    assert process_pool.free_cores() == max(1, min(cpus, cpus - busy))
    monkeypatch.setattr(process_pool, "_running_now", lambda: None)  # not Linux
    assert process_pool.free_cores() == max(1, min(cpus, int(cpus - max(0, load - 1) + 0.5)))


def test_parallel_map_with_one_job_stays_in_process() -> None:
    import os

    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map

    pids = parallel_map(lambda _i: os.getpid(), list(range(MIN_TASKS)), max_workers=1)
    assert set(pids) == {os.getpid()}


def test_verify_jobs_option(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tufrepo import Repo

    repo = Repo.build(root_versions=2).write(tmp_path / "repo")
    results = []
    for jobs in ("1", "2"):
        code, out, err = run_cli("verify", str(repo), "--jobs", jobs, "--json")
        assert code in (0, 1), err
        results.append(out)
    assert results[0] == results[1]
    code, _, err = run_cli("verify", str(repo), "--jobs", "0")
    assert code == 2 and "--jobs" in err


# encodings, hex spellings and explicit nulls: the verdict is python-tuf's ----------------
def _oracle_agrees(files: dict[str, bytes], repo: Repo) -> None:
    from tufrepo import oracle

    report = verify_tuf(
        MetadataBundle(files, source="fuzz"), at=NOW, trusted_root=files["1.root.json"]
    )
    expected = oracle(files, files["1.root.json"], repo.delegators, at=NOW)
    assert report.valid is expected, report.findings


@cache
def _hashed_repo() -> tuple[Repo, dict[str, bytes]]:
    """A repository whose snapshot records length and sha256 of every targets file."""
    import hashlib

    from tuf.api.metadata import MetaFile

    repo = Repo.build(root_versions=2)
    files = repo.files()
    assert repo.snapshot is not None and repo.timestamp is not None
    for name in ("targets", "releases"):
        data = files[f"1.{name}.json"]
        repo.snapshot.signed.meta[f"{name}.json"] = MetaFile(
            1, len(data), {"sha256": hashlib.sha256(data).hexdigest()}
        )
    repo.sign(repo.snapshot, "snapshot")
    return repo, repo.files()


ENCODINGS = ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"]


@settings(max_examples=40, deadline=4000, derandomize=True)
@given(data=st.data())
def test_other_encodings_are_never_valid(data: st.DataObject) -> None:
    _repo, files = _hashed_repo()
    files = dict(files)
    name = data.draw(st.sampled_from(sorted(set(files) - {"1.root.json", "root.json"})))
    encoding = data.draw(st.sampled_from(ENCODINGS))
    files[name] = files[name].decode("utf-8").encode(encoding)
    report = verify_tuf(
        MetadataBundle(files, source="fuzz"), at=NOW, trusted_root=_hashed_repo()[1]["1.root.json"]
    )
    # (the anchor and plain root.json are not fetched by a client: they are not drawn)
    assert not report.valid, f"{name} in {encoding} still valid"
    assert "malformed" in report.codes()


_hex_edit = st.lists(
    st.tuples(st.integers(0, 63), st.sampled_from(["upper", "space", "drop", "keep"])),
    min_size=1,
    max_size=4,
)


def _spell(digest: str, edits: list[tuple[int, str]]) -> str:
    chars = list(digest)
    for pos, how in edits:
        if how == "upper":
            chars[pos] = chars[pos].upper()
        elif how == "space":
            chars[pos] = chars[pos] + " "
        elif how == "drop":
            chars[pos] = ""
    return "".join(chars)


@settings(max_examples=40, deadline=4000, derandomize=True)
@given(edits=_hex_edit, role=st.sampled_from(["targets", "releases"]))
def test_hex_spellings_agree_with_python_tuf(edits: list[tuple[int, str]], role: str) -> None:
    """A recorded hash is the lowercase hex string it is: any other spelling mismatches."""
    repo, files = _hashed_repo()
    files = dict(files)
    doc = json.loads(files["1.snapshot.json"])
    entry = doc["signed"]["meta"][f"{role}.json"]
    entry["hashes"]["sha256"] = _spell(entry["hashes"]["sha256"], edits)
    signer = repo.keys["snapshot"][0]
    from securesystemslib.formats import encode_canonical

    sig = signer.sign(encode_canonical(doc["signed"]).encode())  # type: ignore[union-attr]
    doc["signatures"] = [sig.to_dict()]
    files["1.snapshot.json"] = json.dumps(doc).encode()
    _oracle_agrees(files, repo)


#: (file, path to an optional field) python-tuf's model drops when it is null
NULLABLE = [
    ("1.snapshot.json", ("meta", "targets.json", "length")),
    ("1.snapshot.json", ("meta", "releases.json", "hashes")),
    ("1.targets.json", ("delegations",)),
    ("1.targets.json", ("delegations", "roles", 0, "paths")),
    ("1.targets.json", ("delegations", "roles", 0, "terminating")),
    ("1.targets.json", ("delegations", "succinct_roles")),
    ("timestamp.json", ("meta", "snapshot.json", "length")),
    ("timestamp.json", ("meta", "extra.json")),
    ("2.root.json", ("consistent_snapshot",)),
]


@settings(max_examples=40, deadline=4000, derandomize=True)
@given(spot=st.sampled_from(NULLABLE), signed_with_null=st.booleans())
def test_explicit_nulls_agree_with_python_tuf(
    spot: tuple[str, tuple[Any, ...]], signed_with_null: bool
) -> None:
    """null inserted after signing, or signed with the null: the Updater's verdict either way."""
    from securesystemslib.formats import encode_canonical

    repo, files = _hashed_repo()
    files = dict(files)
    name, path = spot
    doc = json.loads(files[name])
    node = doc["signed"]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = None
    if signed_with_null:
        role = {"1.snapshot.json": "snapshot", "1.targets.json": "targets",
                "timestamp.json": "timestamp", "2.root.json": "root"}[name]  # fmt: skip
        data = encode_canonical(doc["signed"]).encode()  # type: ignore[union-attr]
        doc["signatures"] = [s.sign(data).to_dict() for s in repo.keys[role]]
    files[name] = json.dumps(doc).encode()
    _oracle_agrees(files, repo)


_segment = st.text(alphabet="ab*?[]/.-", min_size=0, max_size=8)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pattern=_segment, path=st.text(alphabet="ab/.-", min_size=0, max_size=8))
def test_path_matcher_equals_python_tuf(pattern: str, path: str) -> None:
    """The compiled path predicates decide as python-tuf's ``is_delegated_path``."""
    from tuf.api.metadata import DelegatedRole

    from trustkeep.core.verify._tufmodel import matcher

    expected = DelegatedRole("r", [], 1, False, [pattern]).is_delegated_path(path)
    assert matcher(pattern)(path) is expected
