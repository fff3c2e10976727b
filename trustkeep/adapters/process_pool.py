"""A process-pool ``map`` for CPU-bound pure work (verification of many metadata files).

The verifier's per-file checks are pure functions of picklable tasks, so running
them in worker processes gives the same results; small batches stay in-process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

__all__ = ["MIN_TASKS", "parallel_map", "workers"]

T = TypeVar("T")
R = TypeVar("R")

#: below this many tasks the pool's start-up costs more than it saves
MIN_TASKS = 64

#: (fn, tasks) of the running map: forked workers inherit it, so only indices travel
_STATE: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def workers() -> int:
    """CPUs this process may use (at most 8)."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def _call(index: int) -> Any:
    assert _STATE is not None
    fn, tasks = _STATE
    return fn(tasks[index])


def _usable(n_workers: int, n_tasks: int) -> bool:
    return (
        n_workers >= 2
        and n_tasks >= MIN_TASKS
        and "fork" in multiprocessing.get_all_start_methods()
        # forking a process that runs other threads (a TUI worker) can deadlock
        and threading.active_count() == 1
    )


def parallel_map(
    fn: Callable[[T], R], tasks: Sequence[T], *, max_workers: int | None = None
) -> list[R]:
    """``[fn(t) for t in tasks]``, across processes when it pays off (same results, same order).

    Workers are forked after the tasks are in place, so the (large) task data is
    shared copy-on-write instead of pickled; only indices go out and results come back.
    ``max_workers=1`` keeps everything in this process.
    """
    global _STATE
    n_workers = workers() if max_workers is None else min(max_workers, workers())
    if not _usable(n_workers, len(tasks)):
        return [fn(t) for t in tasks]
    chunk = max(1, len(tasks) // (n_workers * 4))
    _STATE = (fn, tasks)
    gc.freeze()  # the children's collector leaves the inherited heap alone (no copy-on-write)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(n_workers, mp_context=context) as pool:
            results: list[R] = list(pool.map(_call, range(len(tasks)), chunksize=chunk))
            return results
    except (BrokenProcessPool, OSError):
        return [fn(t) for t in tasks]
    finally:
        _STATE = None
        gc.unfreeze()
