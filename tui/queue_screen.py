"""The signing queue: metadata of the open repository still awaiting signatures.

Enter opens the review of a role (what changed against the version it replaces)
and signs it with a key of this store; travelled copies signed elsewhere are merged.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Footer, Header, Input, Static

from trustkeep.core.ceremony import key_label

from ._common import FlowScreen, failure_text
from .messages import ActionFailed, StatusLoaded

__all__ = ["QueueScreen"]

_COLUMNS = ("ROLE", "VERSION", "SIGNATURES", "YOU CAN SIGN WITH")


class QueueScreen(FlowScreen[None]):
    CSS_PATH = "queue.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("m", "focus_merge", "Merge copies"),
        Binding("p", "publish", "Publish"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.roles: list[str] = []
        self.publishable = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Signing queue", classes="title", markup=False)
        yield Static("loading…", id="queue-note", markup=False)
        table: DataTable[Text] = DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(id="merge-row"):
            yield Input(id="merge-files", placeholder="travelled copies to merge (paths)")
            yield Button("Merge", id="merge")
            yield Button("Publish…", id="publish", disabled=True)
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False, name="queue")
    def action_reload(self) -> None:
        self.post_status()

    def on_status_loaded(self, message: StatusLoaded) -> None:
        view = message.view
        table = self.query_one("#queue", DataTable)
        table.clear(columns=True)
        for label in _COLUMNS:
            table.add_column(label)
        self.roles = view.unsigned_roles()
        for role in self.roles:
            r = view.role(role)
            mine = ", ".join(key_label(k, view.names) for k in view.signable.get(role, ()))
            table.add_row(
                Text(role),
                Text(str(r.version)),
                Text("; ".join(view.waiting(role))),
                Text(mine or "— (the file travels to its holders)"),
                key=role,
            )
        mine_count = sum(1 for role in self.roles if view.signable.get(role))
        note = (
            f"{len(self.roles)} role(s) await signatures; {mine_count} can be signed here. "
            "Enter reviews the selected role before signing."
            if self.roles
            else "Nothing awaits a signature."
        )
        self.publishable = view.publishable
        self.query_one("#publish", Button).disabled = not view.publishable
        if view.publishable:
            note += " Every staged change is signed: Publish writes it for clients."
        self.query_one("#queue-note", Static).update(note)
        if self.roles:
            table.focus()
        elif view.publishable:
            self.query_one("#publish", Button).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.roles):
            from .sign_screen import SignScreen

            self.app.push_screen(SignScreen(self.roles[event.cursor_row]))

    def action_focus_merge(self) -> None:
        self.query_one("#merge-files", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "publish":
            self.action_publish()
        else:
            self._merge()

    def action_publish(self) -> None:
        if self.publishable:
            self.publish_review()

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False, name="publish")
    def publish_review(self) -> None:
        lines = self.ceremony.publish_review()
        self.app.call_from_thread(self._confirm_publish, lines)

    def _confirm_publish(self, lines: list[str]) -> None:
        from .confirm_screen import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.query_one("#result", Static).update("publishing…")
                self.publish()

        self.app.push_screen(ConfirmScreen("Publish", lines, action="Publish"), confirmed)

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False, name="publish")
    def publish(self) -> None:
        result = self.ceremony.publish()
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.app.call_from_thread(self._published, lines)

    def _published(self, lines: list[str]) -> None:
        self.query_one("#result", Static).update("published:\n" + "\n".join(lines))
        self.ceremony_app.note(f"published {len(lines)} role(s)")
        self.action_reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._merge()

    def _merge(self) -> None:
        files = [Path(p).expanduser() for p in self.query_one("#merge-files", Input).value.split()]
        if not files:
            self.query_one("#result", Static).update("type the paths of the copies to merge")
            return
        self.merge(files)

    @work(thread=True, exclusive=True, group="merge", exit_on_error=False, name="merge")
    def merge(self, files: list[Path]) -> None:
        lines = self.ceremony.merge(files)
        self.app.call_from_thread(self._merged, lines)

    def _merged(self, lines: list[str]) -> None:
        self.query_one("#result", Static).update("\n".join(lines) or "nothing new to merge")
        self.ceremony_app.note(f"merged {len(lines)} signature change(s)")
        self.action_reload()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#result", Static).update(failure_text(message))
