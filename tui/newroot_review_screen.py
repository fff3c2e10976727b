"""New root, last step: the review of exactly what is written, then sign and write.

"Sign and write" stays disabled until the operator ticks that the review was read
(never ticked by default); each holder present types a passphrase to sign.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Static

from trustkeep.service.ceremony_newroot import NewRootDraft, NewRootResult, NewRootReview

from ._common import diff_text
from .messages import ActionFailed
from .newroot_step import NewRootStep

__all__ = ["NewRootReviewScreen"]


class NewRootReviewScreen(NewRootStep[NewRootResult]):
    CSS_PATH = "review.tcss"
    FAILED_OUTCOME = "; nothing was written"

    def __init__(self, draft: NewRootDraft) -> None:
        super().__init__(draft, step="review")
        self.review: NewRootReview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("New root — review what will be written", classes="title", markup=False)
        with VerticalScroll(id="review-box"):
            yield Static("loading…", id="review", markup=False)
        yield Checkbox("I have read the review: sign and write these files", id="confirmed")
        yield Static("tick the box to enable Sign and write", id="confirm-hint", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Sign and write", id="write", variant="primary", disabled=True)
            yield Button("Pause", id="back")
            yield Button("Abort ceremony", id="abort", variant="error")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="review", exit_on_error=False, name="review")
    def load(self) -> None:
        review = self.ceremony_app.new_root.review(self.draft)
        self.app.call_from_thread(self._show, review)

    def _show(self, review: NewRootReview) -> None:
        self.review = review
        self.query_one("#review", Static).update(diff_text(review.lines))
        self.query_one("#confirmed", Checkbox).focus()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#write", Button).disabled = not event.value or self.busy
        hint = (
            "ticked: Tab, then Enter to sign and write"
            if event.value
            else ("tick the box to enable Sign and write")
        )
        self.query_one("#confirm-hint", Static).update(hint)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if self.pause_or_abort(event):
            return
        if self.review is not None and self.query_one("#confirmed", Checkbox).value:
            self.busy = True
            event.button.disabled = True
            self.query_one("#result", Static).update("signing… (each passphrase is asked next)")
            self.write(self.review.digest)

    @work(thread=True, exclusive=True, group="write", exit_on_error=False, name="write")
    def write(self, reviewed: str) -> None:
        result = self.ceremony_app.new_root.write(self.draft, reviewed=reviewed)
        self.app.call_from_thread(self.dismiss, result)

    def on_action_failed(self, message: ActionFailed) -> None:
        super().on_action_failed(message)
        self.query_one("#write", Button).disabled = not self.query_one("#confirmed", Checkbox).value
