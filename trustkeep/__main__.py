"""Console entry point (``trustkeep`` and ``python -m trustkeep``).

Kept apart from :mod:`trustkeep.cli` so that an interrupt while the command
modules load, or a reader closing the pipe early, ends quietly instead of with a
traceback.

Once the command is done and its output flushed, every object still alive is frozen
(:func:`gc.freeze`): the process is ending, and the collections of the interpreter's
shutdown then skip them instead of walking every object the command's modules made
(30 ms and more of a 0.25 s ``timestamp``). Files are written, synced and closed by
the command itself; exit handlers, thread joins and finalizers registered for exit
still run.
"""

from __future__ import annotations

import gc
import os
import sys

__all__ = ["entry"]

EXIT_INTERRUPTED = 130


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def entry() -> None:
    try:
        from trustkeep.cli import main

        code = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stderr.write("trustkeep: interrupted\n")
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        code = 0
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
