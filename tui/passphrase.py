"""The passphrase / PIN modal: one masked input, never echoed, never logged."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

__all__ = ["PassphraseModal"]


class PassphraseModal(ModalScreen["str | None"]):
    """Asks for ``name`` (e.g. ``passphrase for key 1a2b3c4d (bob)``); None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.prompt = name

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-box"):
            text = self.prompt[0].upper() + self.prompt[1:]
            yield Label(text, id="passphrase-prompt", markup=False)
            yield Input(password=True, id="secret", placeholder="not shown while you type")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#secret", Input).focus()

    def _finish(self, value: str | None) -> None:
        field = self.query_one("#secret", Input)
        field.value = ""
        self.dismiss(value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._finish(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._finish(self.query_one("#secret", Input).value)
        else:
            self._finish(None)

    def action_cancel(self) -> None:
        self._finish(None)
