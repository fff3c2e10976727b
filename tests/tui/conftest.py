"""Fixtures for the ceremony TUI; shared helpers live in tui_support.py.

Test modules import helpers from ``tui_support`` (a unique module name), never from
``conftest``: several test directories have a conftest.py and only one can be the
module named ``conftest`` at a time.
"""

from __future__ import annotations

from tui_support import _template, ceremony, make_app, tmux

__all__ = ["_template", "ceremony", "make_app", "tmux"]
