"""How hard a passphrase is to guess: zxcvbn's estimate, shown when a new one is set.

zxcvbn (Dropbox's estimator) matches dictionary words, names, keyboard patterns,
repeats, sequences and dates, and counts the guesses an attacker who knows those
patterns needs. The attacker that matters for a stolen key file is an offline one
against a slow KDF (PBKDF2 with hundreds of thousands of iterations), zxcvbn's
"10,000 guesses per second" scenario. zxcvbn is imported on first use only: the
CLI's start-up does not pay for its word lists. (zxcvbn times its own run with the
clock; the estimate does not depend on it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PassphraseStrength", "estimate_strength"]

_LABELS = ("very weak", "weak", "fair", "good", "strong")
#: zxcvbn's own input bound: the estimate of a longer passphrase is that of its prefix
_MAX_LENGTH = 72


@dataclass(frozen=True)
class PassphraseStrength:
    score: int  # 0 (very weak) .. 4 (strong)
    guesses_log10: float
    crack_time: str  # e.g. "3 hours", "centuries", offline at 10,000 guesses/s
    warning: str  # zxcvbn's warning ("This is a top-10 common password."), or ""

    @property
    def label(self) -> str:
        return _LABELS[self.score]

    def describe(self) -> str:
        """``"weak (1/4): guessed in about 3 hours offline"`` plus zxcvbn's warning."""
        text = f"{self.label} ({self.score}/4): guessed in about {self.crack_time} offline"
        return f"{text}; {self.warning.rstrip('.')}" if self.warning else text


def estimate_strength(passphrase: str, *, user_inputs: Sequence[str] = ()) -> PassphraseStrength:
    """zxcvbn's estimate; ``user_inputs`` (e.g. the key's name) count as known words."""
    from zxcvbn import zxcvbn

    result = zxcvbn(passphrase[:_MAX_LENGTH], user_inputs=list(user_inputs), max_length=_MAX_LENGTH)
    return PassphraseStrength(
        score=int(result["score"]),
        guesses_log10=float(result["guesses_log10"]),
        crack_time=str(result["crack_times_display"]["offline_slow_hashing_1e4_per_second"]),
        warning=str(result["feedback"]["warning"] or ""),
    )
