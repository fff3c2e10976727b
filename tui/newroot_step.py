"""What every step of the new-root ceremony shares: Pause keeps the draft (resumed from
the home screen), **Abort ceremony** forgets it, failures show on the step's result line."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.widgets import Button, Static

from trustkeep.service.ceremony_newroot import NewRootDraft

from ._common import FlowScreen, R, failure_text
from .messages import ActionFailed

__all__ = ["NewRootStep"]


class NewRootStep(FlowScreen[R]):
    """A step on ``draft``; ``step`` names it in the transcript's "new root aborted"."""

    #: added to a failure's text on the result line
    FAILED_OUTCOME: ClassVar[str] = ""

    def __init__(self, draft: NewRootDraft, *, step: str) -> None:
        super().__init__()
        self.draft = draft
        self.step = step

    def pause_or_abort(self, event: Button.Pressed) -> bool:
        """Handle Pause and Abort (and any press while busy); False: the step's own button."""
        event.stop()
        if self.busy:
            return True
        if event.button.id == "back":
            self.action_back()
        elif event.button.id == "abort":
            self.busy = True
            self.abort()
        else:
            return False
        return True

    @work(thread=True, exclusive=True, group="newroot-abort", exit_on_error=False, name="abort")
    def abort(self) -> None:
        self.ceremony_app.new_root.abort(self.draft, step=self.step)
        self.app.call_from_thread(self.dismiss, None)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        text = failure_text(message, outcome=self.FAILED_OUTCOME)
        self.query_one("#result", Static).update(text)
