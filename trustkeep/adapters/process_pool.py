"""A process-pool ``map`` for CPU-bound pure work (verification of many metadata files).

The verifier's per-file checks are pure functions of picklable tasks, so running
them in worker processes gives the same results; small batches stay in-process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

__all__ = ["parallel_map"]

T = TypeVar("T")
R = TypeVar("R")

#: below this many tasks the pool's start-up costs more than it saves
MIN_TASKS = 64


def _workers() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def parallel_map(fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
    """``[fn(t) for t in tasks]``, across processes when it pays off (same results, same order)."""
    workers = _workers()
    if (
        workers < 2
        or len(tasks) < MIN_TASKS
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return [fn(t) for t in tasks]
    chunk = max(1, len(tasks) // (workers * 4))
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(fn, tasks, chunksize=chunk))
    except (BrokenProcessPool, OSError):
        return [fn(t) for t in tasks]
