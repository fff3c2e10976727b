"""A small form for one delegation change: labelled fields, Enter to go on, Escape to leave.

It only collects what the operator typed; the review comes from the service afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

__all__ = ["Field", "FormScreen"]

#: (id, label, placeholder, kind) — kind "text" or "integer"
Field = tuple[str, str, str, str]


class FormScreen(ModalScreen[dict[str, str] | None]):
    """Dismisses with ``{field id: typed text}`` on Review, None on Escape or Cancel."""

    CSS_PATH = "delegation_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: Sequence[Field], *, note: str = "") -> None:
        super().__init__()
        self.heading = title
        self.fields = list(fields)
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.heading, classes="title", markup=False)
            if self.note:
                yield Static(self.note, id="form-note", markup=False)
            for ident, label, placeholder, kind in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label", markup=False)
                    yield Input(
                        id=f"form-{ident}",
                        placeholder=placeholder,
                        type="integer" if kind == "integer" else "text",
                    )
            with Horizontal(classes="buttons"):
                yield Button("Review…", id="form-ok", variant="primary")
                yield Button("Cancel", id="form-cancel")

    def values(self) -> dict[str, str]:
        return {i: self.query_one(f"#form-{i}", Input).value.strip() for i, *_ in self.fields}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.dismiss(self.values())
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.values() if event.button.id == "form-ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
