"""The root-rotation rule (TUF spec §5.3.4), in one place: verify, pin export and repo state.

Root N+1 is trusted from root N when it is exactly version N+1, a threshold of
root N's root keys signed it, and a threshold of its own root keys signed it.
Callers count the valid signatures with their own key model (python-tuf's
``get_verification_result`` or the verifier's ``count_signatures``) and ask this
rule for the verdict; every problem comes back as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["RotationProblem", "check_root_rotation"]


@dataclass(frozen=True)
class RotationProblem:
    """``kind``: ``version`` (not exactly N+1), ``old-threshold`` (too few signatures from
    root N's keys) or ``new-threshold`` (too few from its own); ``expected`` / ``found``."""

    kind: Literal["version", "old-threshold", "new-threshold"]
    expected: int
    found: int

    def describe(self, old_version: int, new_version: int) -> str:
        if self.kind == "version":
            return f"holds root v{self.found}, expected v{self.expected}"
        whose = f"root v{old_version}'s" if self.kind == "old-threshold" else "its own"
        return (
            f"root v{new_version} has {self.found} valid signature(s) from {whose} root keys, "
            f"threshold {self.expected}"
        )


def check_root_rotation(
    *,
    old_version: int,
    new_version: int,
    old_threshold: int,
    by_old: int,
    new_threshold: int,
    by_new: int,
) -> tuple[RotationProblem, ...]:
    """Every way root ``new_version`` fails to follow root ``old_version`` (empty: it follows)."""
    problems: list[RotationProblem] = []
    if new_version != old_version + 1:
        problems.append(RotationProblem("version", old_version + 1, new_version))
    if by_old < old_threshold:
        problems.append(RotationProblem("old-threshold", old_threshold, by_old))
    if by_new < new_threshold:
        problems.append(RotationProblem("new-threshold", new_threshold, by_new))
    return tuple(problems)
