"""How long work reports its progress: a callback the front end supplies.

Pure: the service calls ``progress(task, done, total)`` as it goes (``done`` from 0 to
``total``); the CLI draws a bar on a terminal, the TUI may show its own, tests record.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "no_progress", "report_every"]

#: long loops report every this many steps (and at the end), not at every step
STEP = 256


class Progress(Protocol):
    def __call__(self, task: str, done: int, total: int) -> None:
        """``task`` ("signing", "writing"...) has done ``done`` of ``total`` steps."""


def no_progress(task: str, done: int, total: int) -> None:
    """The default: report nothing."""


def report_every(progress: Progress, task: str, done: int, total: int) -> None:
    """Report step ``done`` of ``total`` when it is a multiple of :data:`STEP` or the last."""
    if done % STEP == 0 or done >= total:
        progress(task, done, total)
