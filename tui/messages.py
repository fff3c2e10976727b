"""What thread workers report back to the screens (past tense: it has happened)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from trustkeep.errors import TrustkeepError

if TYPE_CHECKING:  # messages name these types; the TUI's first frame does not load them
    from trustkeep.service.ceremony import SignPlan, StatusView
    from trustkeep.service.ceremony_rotation import (
        RotationChoices,
        RotationProgress,
        RotationReview,
    )
    from trustkeep.service.repo import SignResult, WriteResult

__all__ = [
    "ActionFailed",
    "ChoicesLoaded",
    "PlanLoaded",
    "ProgressLoaded",
    "Refreshed",
    "Rotated",
    "RotationReviewed",
    "Signed",
    "StatusLoaded",
]


class StatusLoaded(Message):
    def __init__(self, view: StatusView) -> None:
        super().__init__()
        self.view = view


class PlanLoaded(Message):
    def __init__(self, plan: SignPlan) -> None:
        super().__init__()
        self.plan = plan


class Signed(Message):
    def __init__(self, result: SignResult, line: str) -> None:
        super().__init__()
        self.result = result
        self.line = line


class Refreshed(Message):
    def __init__(self, results: list[WriteResult], lines: list[str]) -> None:
        super().__init__()
        self.results = results
        self.lines = lines


class ActionFailed(Message):
    """A worker's service call raised ``error``; the one message every screen renders.

    Posted by the one ``Worker.StateChanged`` handler (``CeremonyScreen``), never by
    the workers themselves.
    """

    def __init__(self, action: str, error: TrustkeepError) -> None:
        super().__init__()
        self.action = action
        self.error = error

    @property
    def message(self) -> str:
        return self.error.message

    @property
    def hint(self) -> str | None:
        return self.error.hint

    @property
    def stale(self) -> bool:
        """What was reviewed is no longer what is on disk: show it again."""
        from trustkeep.service.ceremony import ReviewOutdated

        return isinstance(self.error, ReviewOutdated)


class ChoicesLoaded(Message):
    def __init__(self, choices: RotationChoices) -> None:
        super().__init__()
        self.choices = choices


class Rotated(Message):
    def __init__(self, result: WriteResult, lines: list[str]) -> None:
        super().__init__()
        self.result = result
        self.lines = lines


class RotationReviewed(Message):
    def __init__(self, review: RotationReview) -> None:
        super().__init__()
        self.review = review


class ProgressLoaded(Message):
    def __init__(self, progress: RotationProgress) -> None:
        super().__init__()
        self.progress = progress
