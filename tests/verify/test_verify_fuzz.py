"""hypothesis: mutated metadata never crashes the verifier and never verifies as valid."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

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
    many = verify_tuf(bundle, at=NOW, trusted_root=files["1.root.json"], mapper=parallel_map)
    assert one.to_dict() == many.to_dict()
    assert {(f.code, f.role) for f in one.errors} == {
        ("missing-role", bins[5]),
        ("version-mismatch", "bin-03"),
        ("threshold-not-met", "bin-03"),
    }


def test_parallel_map_uses_worker_processes() -> None:
    import os

    from trustkeep.adapters.process_pool import MIN_TASKS, parallel_map, workers

    pids = parallel_map(lambda _i: os.getpid(), list(range(MIN_TASKS)))
    assert len(pids) == MIN_TASKS
    if workers() >= 2:
        assert os.getpid() not in pids  # ran in forked workers, not in-process
    assert parallel_map(lambda i: i * 2, [1, 2, 3]) == [2, 4, 6]  # small batch: in-process


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
