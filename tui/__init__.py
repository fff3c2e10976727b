"""trustkeep's Textual TUI for key ceremonies (installed as ``trustkeep_tui``).

``CeremonyApp(ceremony, secrets)`` takes a :class:`trustkeep.service.ceremony.CeremonyService`
built over a ``Service`` whose secrets handler is the :class:`TuiSecrets` it is given.
"""

from __future__ import annotations

from .app import CeremonyApp
from .secrets import TuiSecrets

__all__ = ["CeremonyApp", "TuiSecrets"]
