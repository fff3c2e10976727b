"""Fixtures for the verifier's tests; shared helpers live in verify_support.py (see
tests/tui/conftest.py for why test modules never import from ``conftest``)."""

from __future__ import annotations

from verify_support import notary_repo

__all__ = ["notary_repo"]
