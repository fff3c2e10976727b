"""New root (TUF), step 3: the targets key and the online key (snapshot, timestamp)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Static

from trustkeep.service.ceremony_newroot import NewRootDraft

from .newroot_step import NewRootStep
from .widgets import NewPassphrase

__all__ = ["RoleKeysScreen"]


class RoleKeysScreen(NewRootStep[NewRootDraft]):
    CSS_PATH = "holder.tcss"

    def __init__(self, draft: NewRootDraft) -> None:
        super().__init__(draft, step="role keys")

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("New root — 3. targets and online keys", classes="title", markup=False)
        with VerticalScroll(id="holder", can_focus=False):
            yield Static(
                "Two ed25519 keys are made in this key store: one signs targets, one signs "
                "snapshot and timestamp (the online roles). One passphrase protects both.",
                classes="note",
                markup=False,
            )
            yield Label("New passphrase for the targets and online keys")
            yield NewPassphrase(id="passphrase")
        with Horizontal(classes="buttons"):
            yield Button("Create keys", id="make", variant="primary")
            yield Button("Pause", id="back")
            yield Button("Abort ceremony", id="abort", variant="error")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(NewPassphrase).query_one(".first").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.has_class("first"):
            self.query_one("#passphrase .second", Input).focus()
        else:
            self._make()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if not self.pause_or_abort(event):
            self._make()

    def _make(self) -> None:
        passphrase, why = self.query_one(NewPassphrase).value()
        if passphrase is None:
            self.query_one("#result", Static).update(why)
            return
        if not self.busy:
            self.busy = True
            self.query_one("#result", Static).update("creating the keys…")
            self.make_keys(passphrase)

    @work(thread=True, exclusive=True, group="role-keys", exit_on_error=False, name="role keys")
    def make_keys(self, passphrase: str) -> None:
        draft = self.ceremony_app.new_root.role_keys(self.draft, passphrase=passphrase)
        self.app.call_from_thread(self._made, draft)

    def _made(self, draft: NewRootDraft) -> None:
        self.query_one(NewPassphrase).clear()
        self.dismiss(draft)
