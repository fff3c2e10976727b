"""What thread workers report back to the screens (past tense: it has happened)."""

from __future__ import annotations

from textual.message import Message

from trustkeep.service.ceremony import RotationChoices, SignPlan, StatusView
from trustkeep.service.repo import SignResult, WriteResult

__all__ = [
    "ActionFailed",
    "ChoicesLoaded",
    "PlanLoaded",
    "Refreshed",
    "Rotated",
    "Signed",
    "StatusLoaded",
    "TranscriptFailed",
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
    """A service call raised a trustkeep error; ``message`` is its one-line text."""

    def __init__(self, action: str, message: str, hint: str | None, *, stale: bool = False) -> None:
        super().__init__()
        self.action = action
        self.message = message
        self.hint = hint
        #: what was reviewed is no longer what is on disk: show it again
        self.stale = stale


class TranscriptFailed(Message):
    """A transcript line could not be written (the action itself went ahead)."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ChoicesLoaded(Message):
    def __init__(self, choices: RotationChoices) -> None:
        super().__init__()
        self.choices = choices


class Rotated(Message):
    def __init__(self, result: WriteResult, lines: list[str]) -> None:
        super().__init__()
        self.result = result
        self.lines = lines
