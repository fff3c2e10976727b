"""Checklist: rotate a root key (retire one, add one, threshold), then collect signatures.

The review is built from the choices on screen; nothing is written before
"Write the new root" is pressed.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from trustkeep.core.ceremony import key_label
from trustkeep.service.ceremony import RotationChoices

from ._common import FlowScreen, diff_text, failure_text, key_option, written_text
from .messages import ActionFailed, ChoicesLoaded, Rotated

__all__ = ["RotateScreen"]

_STEPS = (
    "1. Choose the root key to retire and the key of this store that replaces it.",
    "2. Set the root threshold of the new version and read the review.",
    "3. Write the new root: signed by this store's keys of the old and new root.",
    "4. Collect the missing signatures (old holders and new) with Sign on the status screen.",
)


class RotateScreen(FlowScreen[None]):
    """Rotate one root key; Escape goes back without writing anything."""

    CSS_PATH = "rotate.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.choices: RotationChoices | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Rotate a root key", id="rotate-title", markup=False)
        yield Static("\n".join(_STEPS), id="rotate-steps", markup=False)
        with Horizontal(id="rotate-pick"):
            yield OptionList(id="old", markup=False)
            yield OptionList(id="new", markup=False)
        yield Input(id="threshold", type="integer", placeholder="root threshold")
        yield Static("", id="rotate-review", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Write the new root", id="rotate-write", variant="primary", disabled=True)
            yield Button("Back", id="back")
        yield Static("", id="rotate-result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#old", OptionList).border_title = "retire"
        self.query_one("#new", OptionList).border_title = "add"
        self.load()

    @work(thread=True, exclusive=True, group="rotate-load", exit_on_error=False, name="rotation")
    def load(self) -> None:
        self.post_message(ChoicesLoaded(self.ceremony.rotation_choices()))

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = c = message.choices
        old = self.query_one("#old", OptionList)
        old.clear_options()
        old.add_options(Option(key_label(k, c.names), id=k) for k in c.root_keys)
        new = self.query_one("#new", OptionList)
        new.clear_options()
        new.add_options(key_option(e) for e in c.candidates)
        old.highlighted = 0 if c.root_keys else None
        new.highlighted = 0 if c.candidates else None
        self.query_one("#threshold", Input).value = str(c.threshold)
        old.focus()
        self._review()

    # -- the review, from what is chosen on screen ---------------------------------------

    def _picked(self) -> tuple[str, str, int] | None:
        old = self.query_one("#old", OptionList)
        new = self.query_one("#new", OptionList)
        value = self.query_one("#threshold", Input).value
        if old.highlighted is None or new.highlighted is None or not value.isdigit():
            return None
        old_id = old.get_option_at_index(old.highlighted).id
        new_id = new.get_option_at_index(new.highlighted).id
        if old_id is None or new_id is None:
            return None
        return old_id, new_id, int(value)

    def _review(self) -> None:
        c = self.choices
        picked = self._picked()
        write = self.query_one("#rotate-write", Button)
        if c is None or picked is None:
            self.query_one("#rotate-review", Static).update("choose both keys and a threshold")
            write.disabled = True
            return
        old, new, threshold = picked
        lines = self.ceremony.rotation_review(c, old=old, new=new, threshold=threshold)
        self.query_one("#rotate-review", Static).update(diff_text(lines))
        write.disabled = self.busy

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._review()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._review()

    # -- the write ----------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.action_back()
            return
        picked = self._picked()
        if picked is None or self.busy:
            return
        self.busy = True
        event.button.disabled = True
        self.query_one("#rotate-result", Static).update("writing the new root…")
        self.rotate(*picked)

    @work(thread=True, exclusive=True, group="rotate", exit_on_error=False, name="rotation")
    def rotate(self, old: str, new: str, threshold: int) -> None:
        result = self.ceremony.rotate(old=old, new=new, threshold=threshold)
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.post_message(Rotated(result, lines))

    def on_rotated(self, message: Rotated) -> None:
        self.busy = False
        self.query_one("#rotate-result", Static).update(written_text(message.lines, 4))
        self.ceremony_app.note(f"rotated {'; '.join(message.lines)}")
        self.load()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        text = failure_text(message, outcome="; nothing was written")
        self.query_one("#rotate-result", Static).update(text)
        self._review()
