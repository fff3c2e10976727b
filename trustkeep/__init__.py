"""trustkeep: trust roots of signed software (TUF and Notary v1)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
