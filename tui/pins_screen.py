"""After a new root: what was written, and the pins clients need, each with a Save button."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Static

from trustkeep.service.ceremony_newroot import NewRootDraft, NewRootResult
from trustkeep.service.ceremony_pins import PinBlock

from ._common import FlowScreen, failure_text
from .messages import ActionFailed

__all__ = ["PinsScreen"]


class PinsScreen(FlowScreen[None]):
    CSS_PATH = "pins.tcss"

    def __init__(self, draft: NewRootDraft, result: NewRootResult) -> None:
        super().__init__()
        self.draft = draft
        self.result = result
        self.blocks: list[PinBlock] = []

    def compose(self) -> ComposeResult:
        yield Header()
        state = "complete" if self.result.complete else "waiting for signatures"
        yield Static(f"New root written ({state})", classes="title", markup=False)
        written = [f"wrote {p}" for p in self.result.files] + list(self.result.lines)
        yield Static("\n".join(written), id="written", markup=False)
        yield VerticalScroll(id="pins")
        with Horizontal(classes="buttons"):
            yield Button("Done", id="back", variant="primary")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="pins", exit_on_error=False, name="pins")
    def load(self) -> None:
        blocks = self.ceremony_app.new_root.pins(self.draft)
        self.app.call_from_thread(self._show, blocks)

    def _show(self, blocks: list[PinBlock]) -> None:
        self.blocks = blocks
        box = self.query_one("#pins", VerticalScroll)
        for i, block in enumerate(blocks):
            panel = Vertical(classes="pin")
            box.mount(panel)
            panel.border_title = block.title
            if not block.text:
                panel.mount(Static(block.note, markup=False))
                continue
            panel.mount(  # the path and Save first: visible without scrolling at 80x24
                Horizontal(
                    Input(str(block.default_path), id=f"path-{i}"),
                    Button("Save", id=f"save-{i}"),
                    classes="save-row",
                )
            )
            panel.mount(Static(block.text, classes="pin-text", markup=False))
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id or ""
        if button == "back":
            self.dismiss(None)
        elif button.startswith("save-"):
            i = int(button.removeprefix("save-"))
            path = Path(self.query_one(f"#path-{i}", Input).value).expanduser()
            self.save(self.blocks[i], path)

    @work(thread=True, exclusive=True, group="save", exit_on_error=False, name="save")
    def save(self, block: PinBlock, path: Path) -> None:
        written = self.ceremony_app.new_root.save_pin(self.draft, block, path)
        self.app.call_from_thread(
            self.query_one("#result", Static).update, f"saved {block.title} to {written}"
        )

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#result", Static).update(failure_text(message))
