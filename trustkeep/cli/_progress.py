"""A progress bar on stderr for long work, drawn only when stderr is a terminal.

The service reports ``(task, done, total)`` through :class:`trustkeep.core.progress.Progress`;
a task that is still running after ``delay`` seconds gets a bar, redrawn at most every
``interval`` seconds, and the line is cleared when it ends. Pipes, files and CI logs get
nothing: their output stays what the command prints.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar"]

_WIDTH = 30


class ProgressBar:
    """``ProgressBar()(task, done, total)``: a :class:`~trustkeep.core.progress.Progress`."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        delay: float = 2.0,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self.delay = delay
        self.interval = interval
        self._clock = clock
        self._task: str | None = None
        self._started = 0.0
        self._drawn = 0.0
        self._visible = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def __call__(self, task: str, done: int, total: int) -> None:
        now = self._clock()
        if task != self._task:
            self._clear()
            self._task, self._started = task, now
        if done >= total:
            self._clear()
            self._task = None
            return
        if now - self._started < self.delay:
            return
        if self._visible and now - self._drawn < self.interval:
            return
        if not self._visible and not self._is_terminal():
            return
        self._draw(task, done, total, now)

    def _is_terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _draw(self, task: str, done: int, total: int, now: float) -> None:
        filled = _WIDTH * done // total if total else 0
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\r{task} [{bar}] {done:,}/{total:,}")
        self.stream.flush()
        self._visible, self._drawn = True, now

    def _clear(self) -> None:
        if self._visible:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._visible = False
