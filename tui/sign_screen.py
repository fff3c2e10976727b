"""The sign flow: review what the role says, pick a key of this store, confirm, sign.

Nothing is written before the holder presses "Sign and write"; the passphrase is
asked by the service (through the app's modal) while the worker signs.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, OptionList, Static

from trustkeep.service.ceremony import SignPlan

from ._common import FlowScreen, diff_text, failure_text, key_option
from .messages import ActionFailed, PlanLoaded, Signed

__all__ = ["SignScreen"]


class SignScreen(FlowScreen[None]):
    """Review and sign one role; Escape goes back without writing anything."""

    CSS_PATH = "sign.tcss"

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        self.plan: SignPlan | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            f"Sign {self.role}: review what you are about to sign", id="sign-title", markup=False
        )
        yield Static("", id="waiting", markup=False)
        yield Static(
            "Sign with (keys of this store that are still missing):", id="keys-label", markup=False
        )
        yield OptionList(id="keys", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Sign and write", id="confirm", variant="primary", disabled=True)
            yield Button("Back", id="back")
        yield Static("", id="sign-result", markup=False)
        with VerticalScroll(id="review-box"):
            yield Static("loading…", id="review", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load_plan()

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, name="review")
    def load_plan(self) -> None:
        self.post_message(PlanLoaded(self.ceremony.plan(self.role)))

    def on_plan_loaded(self, message: PlanLoaded) -> None:
        self.plan = plan = message.plan
        self.query_one("#review", Static).update(diff_text(plan.lines()))
        self.query_one("#waiting", Static).update("\n".join(plan.waiting))
        keys = self.query_one("#keys", OptionList)
        keys.clear_options()
        for entry in plan.keys:
            keys.add_option(key_option(entry))
        keys.display = bool(plan.keys)
        if plan.keys:
            keys.highlighted = 0
            keys.focus()
        elif plan.review.verified:
            self.query_one("#keys-label", Static).update("Threshold met: nothing left to sign.")
        else:
            self.query_one("#keys-label", Static).update(
                "No key of this store may add a missing signature: "
                "the file must travel to the holders named above."
            )
        self.query_one("#confirm", Button).disabled = not plan.keys or self.busy

    def _chosen(self) -> str | None:
        keys = self.query_one("#keys", OptionList)
        if keys.highlighted is None or self.plan is None or not self.plan.keys:
            return None
        return keys.get_option_at_index(keys.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#confirm", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.action_back()
            return
        keyid = self._chosen()
        if keyid is None or self.busy or self.plan is None:
            return
        self.busy = True
        event.button.disabled = True
        self.query_one("#sign-result", Static).update("signing… (the passphrase is asked next)")
        self.sign(keyid, self.plan.review.digest)

    @work(thread=True, exclusive=True, group="sign", exit_on_error=False, name="sign")
    def sign(self, keyid: str, reviewed: str) -> None:
        result = self.ceremony.sign(self.role, keyid, reviewed=reviewed)
        self.post_message(Signed(result, self.ceremony.describe_sign(result)))

    def on_signed(self, message: Signed) -> None:
        self.busy = False
        state = "threshold met" if message.result.verified else "more signatures needed"
        self.query_one("#sign-result", Static).update(f"signed {message.line} ({state})")
        self.ceremony_app.note(f"signed {message.line}")
        self.load_plan()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        text = failure_text(message, outcome="; nothing was written")
        self.query_one("#sign-result", Static).update(text)
        self.query_one("#confirm", Button).disabled = not (self.plan and self.plan.keys)
        if message.stale:
            self.load_plan()  # show the new content: the holder reviews it before signing
