"""Where trustkeep keeps its state: --home, TRUSTKEEP_HOME, or the platform data dir."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["resolve_home"]


def resolve_home(option: str | os.PathLike[str] | None = None) -> Path:
    """The home directory: the option, else ``TRUSTKEEP_HOME``, else the user data dir."""
    if option:
        return Path(option).expanduser().absolute()
    env = os.environ.get("TRUSTKEEP_HOME")
    if env:
        return Path(env).expanduser().absolute()
    import platformdirs  # only here: start-up pays for it only when it is used

    return Path(platformdirs.user_data_dir("trustkeep", appauthor=False))
