"""A process-pool ``map`` for CPU-bound pure work (verification of many metadata files).

The verifier's per-file checks are pure functions of picklable tasks, so running
them in worker processes gives the same results. Whether to use workers, and how
many, is decided by the amount of work (the bytes the tasks carry) and the cores
that are free right now (CPUs this process may use minus the 1-minute load): a
pool that cannot win (little work, a busy machine) is not started, so it never
loses to one process by more than the fork of the workers.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from trustkeep.core.progress import STEP

__all__ = ["MIN_TASKS", "MIN_WORK_BYTES", "choose_workers", "free_cores", "parallel_map", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: below this many tasks the pool's start-up costs more than it saves
MIN_TASKS = 64
#: below this much metadata one process finishes before workers pay for their fork
MIN_WORK_BYTES = 16 * 1024 * 1024
#: each further worker needs at least this much metadata to pay for itself
BYTES_PER_WORKER = 8 * 1024 * 1024

#: tasks a worker takes at a time, at most
CHUNK_MAX = 256

#: (fn, tasks) of the running map: forked workers inherit it, so only indices travel
_STATE: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def workers() -> int:
    """CPUs this process may use (at most 8)."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def free_cores() -> int:
    """CPUs not busy right now: :func:`workers` minus the 1-minute load (this process's
    own share counted as free), at least 1."""
    cpus = workers()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus
    return max(1, min(cpus, int(cpus - load + 1.5)))


def _weight(task: Any) -> int:
    """The bytes a task carries (``task.raw``, as the verifier's targets tasks have)."""
    raw = getattr(task, "raw", None)
    return len(raw) if isinstance(raw, bytes | bytearray) else 0


def choose_workers(tasks: Sequence[Any], *, max_workers: int | None = None) -> int:
    """Worker processes for ``tasks``: ``max_workers`` when given (``--jobs``), else by the
    bytes to check and the free cores; 1 means in this process."""
    if len(tasks) < MIN_TASKS:
        return 1
    if max_workers is not None:
        return max(1, min(max_workers, workers()))
    work = sum(map(_weight, tasks))
    if work < MIN_WORK_BYTES:
        return 1
    return max(1, min(free_cores(), 1 + (work - MIN_WORK_BYTES) // BYTES_PER_WORKER))


def _call(index: int) -> Any:
    assert _STATE is not None
    fn, tasks = _STATE
    return fn(tasks[index])


def _usable(n_workers: int, n_tasks: int) -> bool:
    if n_workers < 2 or n_tasks < 2:
        return False
    import multiprocessing  # only when a pool may start: it costs start-up time

    return (
        "fork" in multiprocessing.get_all_start_methods()
        # forking a process that runs other threads (a TUI worker) can deadlock
        and threading.active_count() == 1
    )


def parallel_map(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    max_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """``[fn(t) for t in tasks]``, across processes when it pays off (same results, same order).

    Workers are forked after the tasks are in place, so the (large) task data is
    shared copy-on-write instead of pickled; only indices go out and results come back.
    ``max_workers=1`` keeps everything in this process; None lets
    :func:`choose_workers` decide. ``progress(done, total)`` is called as results come
    in (every :data:`~trustkeep.core.progress.STEP` results, and at the end).
    """
    global _STATE
    n_workers = choose_workers(tasks, max_workers=max_workers)
    if not _usable(n_workers, len(tasks)):
        return _collect(map(fn, tasks), len(tasks), progress)
    # small chunks: a worker slowed by other load hands its share to the others, and
    # the last chunks leave little idle time (results are small: chunks cost little)
    chunk = max(1, min(CHUNK_MAX, len(tasks) // (n_workers * 32)))
    _STATE = (fn, tasks)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    gc.freeze()  # the children's collector leaves the inherited heap alone (no copy-on-write)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(n_workers, mp_context=context) as pool:
            mapped = pool.map(_call, range(len(tasks)), chunksize=chunk)
            return _collect(mapped, len(tasks), progress)
    except (BrokenProcessPool, OSError):
        return _collect(map(fn, tasks), len(tasks), progress)
    finally:
        _STATE = None
        gc.unfreeze()


def _collect(
    results: Iterable[R], total: int, progress: Callable[[int, int], None] | None
) -> list[R]:
    if progress is None:
        return list(results)
    out: list[R] = []
    for result in results:
        out.append(result)
        if len(out) % STEP == 0 or len(out) >= total:
            progress(len(out), total)
    return out
