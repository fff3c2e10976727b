"""Service API for this area (placeholder until implemented)."""

from __future__ import annotations

from typing import Any

__all__ = ["PinService"]


class PinService:
    def __init__(self, *args: Any) -> None:
        self._args = args
