"""Small widgets the flows share."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from trustkeep.core.passphrase_strength import estimate_strength
from trustkeep.core.secrets import MIN_PASSPHRASE_LENGTH, weak_passphrase_reason

__all__ = ["FilterField", "NewPassphrase"]


class NewPassphrase(Vertical):
    """A new passphrase: masked, typed twice, its strength shown as it is typed."""

    DEFAULT_CSS = """
    NewPassphrase { height: auto; }
    NewPassphrase Input { width: 60; }
    NewPassphrase .strength { height: 1; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Input(password=True, placeholder="passphrase (not shown)", classes="first")
        yield Input(password=True, placeholder="the same passphrase again", classes="second")
        yield Static("strength: —", classes="strength", markup=False)

    def on_input_changed(self, event: Input.Changed) -> None:
        first = self.query_one(".first", Input).value
        second = self.query_one(".second", Input).value
        refused = weak_passphrase_reason(first, min_length=MIN_PASSPHRASE_LENGTH)
        if not first:
            text = "strength: —"
        elif refused is not None:
            text = f"not accepted: {refused}"
        else:
            text = f"strength: {estimate_strength(first).describe()}"
        if second and second != first:
            text += " — the two entries differ"
        elif second and refused is None:
            text += " — confirmed"
        self.query_one(".strength", Static).update(text)

    def value(self) -> tuple[str | None, str]:
        """``(passphrase, "")`` when typed twice and strong enough, else ``(None, why)``."""
        first = self.query_one(".first", Input).value
        second = self.query_one(".second", Input).value
        if not first:
            return None, "type a passphrase"
        refused = weak_passphrase_reason(first, min_length=MIN_PASSPHRASE_LENGTH)
        if refused is not None:
            return None, refused
        if first != second:
            return None, "the two passphrase entries differ"
        return first, ""

    def clear(self) -> None:
        for field in self.query(Input):
            field.value = ""


class FilterField(Input):
    """The filter of a long table or tree: after a pause in typing it posts one
    :class:`FilterField.Settled`, so the screen refilters once, never per keystroke
    (and never reloads); Enter moves the focus to ``focus_on_enter``."""

    #: seconds of no typing before the screen refilters
    DELAY = 0.15

    class Settled(Message):
        def __init__(self, field: FilterField) -> None:
            super().__init__()
            self.field = field

        @property
        def needle(self) -> str:
            return self.field.value.strip()

    def __init__(self, *, focus_on_enter: str, placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.focus_on_enter = focus_on_enter
        self._timer: Timer | None = None

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.DELAY, lambda: self.post_message(self.Settled(self)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.query_one(self.focus_on_enter).focus()
