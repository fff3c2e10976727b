"""A process-pool ``map`` for CPU-bound pure work (verification of many metadata files).

The verifier's per-file checks are pure functions of picklable tasks, so running
them in worker processes gives the same results. Whether to use workers, and how
many, is decided by the amount of work (the bytes the tasks check) and the cores
that are free right now (CPUs this process may use minus the smaller of the 1-minute
load and the tasks runnable at this instant): a
pool that cannot win (little work, a busy machine) is not started, so it never
loses to one process by more than the fork of the workers.

The pool is this process plus forked children, all taking chunks from one pipe
(:class:`_ForkedMap`): no executor threads, no task pickling, and this process's own
share of the results never pickled at all (``concurrent.futures`` cost this process
about 0.2 s of a million targets in result handling, competing with its workers).
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

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

#: chunks at most in one map (their numbers must fit in the work pipe's buffer at once)
MAX_CHUNKS = 8192

_INDEX = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")


def workers() -> int:
    """CPUs this process may use (at most 8)."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def free_cores() -> int:
    """CPUs not busy right now, at least 1: :func:`workers` minus what other processes
    use, which is the smaller of the 1-minute load (this process's own share counted as
    free) and the tasks runnable at this instant besides this one. The average lags: a
    command that has just finished still counts in it for a minute, the instant does not.
    """
    cpus = workers()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cpus
    running = _running_now()
    busy = load - 1 if running is None else min(load - 1, running - 1)
    return max(1, min(cpus, int(cpus - max(0.0, busy) + 0.5)))


def _running_now() -> int | None:
    """Runnable tasks at this instant, this one included (Linux ``/proc/loadavg``)."""
    try:
        with open("/proc/loadavg", "rb") as f:
            return int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


def _weight(task: Any) -> int:
    """The bytes a task checks (``task.size``, as the verifier's targets tasks have)."""
    size = getattr(task, "size", 0)
    return size if isinstance(size, int) else 0


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


def _usable(n_workers: int, n_tasks: int) -> bool:
    return (
        n_workers >= 2
        and n_tasks >= 2
        and hasattr(os, "fork")
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

    ``n`` workers are this process and ``n - 1`` children forked after the tasks are in
    place, so the (large) task data is shared copy-on-write, never pickled; only results
    travel, from the children. ``max_workers=1`` keeps everything in this process; None
    lets :func:`choose_workers` decide. ``progress(done, total)`` is called as results
    come in (every :data:`~trustkeep.core.progress.STEP` results, and at the end).
    """
    n_workers = choose_workers(tasks, max_workers=max_workers)
    if not _usable(n_workers, len(tasks)):
        return _collect(map(fn, tasks), len(tasks), progress)
    # small chunks: a worker slowed by other load hands its share to the others, and
    # the last chunks leave little idle time (results are small: chunks cost little)
    chunk = max(1, min(CHUNK_MAX, len(tasks) // (n_workers * 32)), -(-len(tasks) // MAX_CHUNKS))
    gc.freeze()  # the children's collector leaves the inherited heap alone (no copy-on-write)
    try:
        return _ForkedMap(fn, tasks, chunk, progress).run(n_workers - 1)
    finally:
        gc.unfreeze()


class _ForkedMap(Generic[T, R]):
    """One :func:`parallel_map` over forked children, this process working beside them.

    The chunk numbers wait in a pipe, written before the fork; every process reads the
    next one (4 bytes: one atomic read) until the pipe is empty, so a process slowed by
    other load simply takes fewer. A child writes each chunk's results to its own pipe
    (pickled, length first); this process reads what is there after each chunk of its
    own, so no child waits on a full pipe for long. A chunk a child took but whose
    results never came (the child died) is done here: the results are the same.
    """

    def __init__(
        self,
        fn: Callable[[T], R],
        tasks: Sequence[T],
        chunk: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.fn, self.tasks, self.chunk, self.progress = fn, tasks, chunk, progress
        self.results: list[list[R] | None] = [None] * -(-len(tasks) // chunk)
        self.done = 0
        self.reported = 0

    def _compute(self, index: int) -> list[R]:
        start = index * self.chunk
        return list(map(self.fn, self.tasks[start : start + self.chunk]))

    def _store(self, index: int, results: list[R]) -> None:
        if self.results[index] is None:
            self.results[index] = results
            self.done += len(results)
        if self.progress is not None and (
            self.done - self.reported >= STEP or self.done >= len(self.tasks)
        ):
            self.reported = self.done
            self.progress(self.done, len(self.tasks))

    def run(self, n_children: int) -> list[R]:
        work_r, work_w = os.pipe()
        children: list[tuple[int, _Inbox]] = []
        try:
            os.write(work_w, b"".join(_INDEX.pack(i) for i in range(len(self.results))))
            os.close(work_w)
            work_w = -1
            for _ in range(n_children):
                try:
                    children.append(self._fork(work_r))
                except OSError:  # no more processes or pipes: the ones there do the work
                    break
            while (index := _next_index(work_r)) is not None:
                self._store(index, self._compute(index))
                for _, inbox in children:
                    for got, results in inbox.drain(block=False):
                        self._store(got, results)
            for pid, inbox in children:
                for got, results in inbox.drain(block=True):
                    self._store(got, results)
                os.waitpid(pid, 0)
            children = []
        finally:
            for fd in (work_r, work_w):
                if fd >= 0:
                    os.close(fd)
            for pid, inbox in children:  # interrupted: end the children
                _end(pid)
                inbox.close()
        for index, results in enumerate(self.results):
            if results is None:  # a child died holding it
                self._store(index, self._compute(index))
        return [r for results in self.results if results is not None for r in results]

    def _fork(self, work_r: int) -> tuple[int, _Inbox]:
        out_r, out_w = os.pipe()
        _enlarge(out_w)
        try:
            pid = os.fork()
        except OSError:
            os.close(out_r)
            os.close(out_w)
            raise
        if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
            code = 1
            try:
                os.close(out_r)
                while (index := _next_index(work_r)) is not None:
                    data = pickle.dumps((index, self._compute(index)), pickle.HIGHEST_PROTOCOL)
                    _write_all(out_w, _LENGTH.pack(len(data)) + data)
                code = 0
            except BaseException:  # the parent redoes the chunks it never got
                code = 1
            finally:
                os._exit(code)
        os.close(out_w)
        return pid, _Inbox(out_r)


class _Inbox:
    """The reading end of one child's results pipe: length-prefixed pickled chunks."""

    def __init__(self, fd: int) -> None:
        self.fd: int = fd
        self.buffer = bytearray()
        os.set_blocking(fd, False)

    def drain(self, *, block: bool) -> list[tuple[int, Any]]:
        """The complete chunks that arrived; with ``block``, all until the child is done."""
        if self.fd < 0:
            return []
        os.set_blocking(self.fd, block)
        while True:
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            if not data:  # the child closed its end: exited
                self.close()
                break
            self.buffer += data
        return self._complete()

    def _complete(self) -> list[tuple[int, Any]]:
        out = []
        view = memoryview(self.buffer)
        at = 0
        while len(view) - at >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(view, at)
            if len(view) - at - _LENGTH.size < size:
                break
            start = at + _LENGTH.size
            out.append(pickle.loads(view[start : start + size]))
            at = start + size
        view.release()
        del self.buffer[:at]
        return out

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _next_index(work_r: int) -> int | None:
    data = os.read(work_r, _INDEX.size)
    return _INDEX.unpack(data)[0] if len(data) == _INDEX.size else None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _enlarge(fd: int) -> None:
    """A results pipe of 1 MiB where Linux allows it: a child rarely waits to write."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _end(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


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
