"""A review and an explicit confirmation before a write: nothing is ticked for you."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static

from ._common import diff_text

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses True only after the box is ticked and the action button pressed."""

    CSS_PATH = "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, lines: Sequence[str], *, action: str) -> None:
        super().__init__()
        self.heading = title
        self.lines = list(lines)
        self.action_label = action

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.heading, classes="title", markup=False)
            with VerticalScroll(id="confirm-review"):
                yield Static(diff_text(self.lines), markup=False)
            yield Checkbox("I have read this review", id="confirm-read")
            yield Static("tick the box to enable the button", id="confirm-hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(self.action_label, id="confirm-do", variant="primary", disabled=True)
                yield Button("Cancel", id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-read", Checkbox).focus()

    def on_resize(self, event: events.Resize) -> None:
        """The review scrolls; the box and its buttons always fit (80x24 too)."""
        self.query_one("#confirm-review", VerticalScroll).styles.max_height = max(
            3, min(event.size.height - 12, 40)
        )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#confirm-do", Button).disabled = not event.value
        hint = (
            f"ticked: Tab, then Enter to {self.action_label.lower()}"
            if event.value
            else ("tick the box to enable the button")
        )
        self.query_one("#confirm-hint", Static).update(hint)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        ok = event.button.id == "confirm-do" and self.query_one("#confirm-read", Checkbox).value
        self.dismiss(ok)

    def action_cancel(self) -> None:
        self.dismiss(False)
