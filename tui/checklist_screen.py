"""Checklist: re-sign expiring metadata (new versions, new expiry, then signatures)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, SelectionList, Static

from trustkeep.core.ceremony import time_left

from ._common import FlowScreen, failure_text, written_text
from .messages import ActionFailed, Refreshed, StatusLoaded

__all__ = ["WITHIN_DAYS", "ChecklistScreen"]

WITHIN_DAYS = 30

_STEPS = (
    "1. Tick the roles to renew (expired or due are ticked; root never is: tick it yourself).",
    "2. Write new versions: new expiry, signed by this store's keys (each passphrase asked"
    " once); snapshot and timestamp follow.",
    "3. Collect the signatures still missing: back on the status screen, sign each role"
    " marked ✗ (or let the file travel to its holders).",
    "4. Check the status screen says OK, then publish.",
)


class ChecklistScreen(FlowScreen[None]):
    """Nothing is written before "Write new versions"; Escape goes back.

    Due roles are ticked, except root: a new root version is never ticked by default.
    """

    CSS_PATH = "checklist.tcss"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Re-sign expiring metadata", id="checklist-title", markup=False)
        yield Static("\n".join(_STEPS).format(days=WITHIN_DAYS), id="steps", markup=False)
        yield Static("", id="checklist-note", markup=False)
        yield SelectionList[str](id="expiring")
        with Horizontal(classes="buttons"):
            yield Button("Write new versions", id="write", variant="primary", disabled=True)
            yield Button("Back", id="back")
        yield Static("", id="checklist-result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="checklist", exit_on_error=False, name="status")
    def load(self) -> None:
        self.post_status()

    def on_status_loaded(self, message: StatusLoaded) -> None:
        view = message.view
        due = set(view.due)
        choices = self.query_one("#expiring", SelectionList)
        choices.clear_options()
        for r in view.status.roles:
            left = time_left(r.expires, view.now) if view.now else f"{r.days_left} days left"
            mark = " — due" if r.role in due else ""
            label = f"{r.role} v{r.version} — expires {r.expires:%Y-%m-%d %H:%M}Z ({left}){mark}"
            choices.add_option((Text(label), r.role, r.role in due and r.role != "root"))
        if "root" in due:
            note = "root is due: tick it to write a new root version (it needs the root holders)."
        elif due:
            note = ""
        else:
            note = "Nothing is due for renewal; tick a role to renew it anyway."
        self.query_one("#checklist-note", Static).update(note)
        choices.focus()
        self.query_one("#write", Button).disabled = self.busy

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.action_back()
            return
        roles = list(self.query_one("#expiring", SelectionList).selected)
        if not roles or self.busy:
            self.notify("tick at least one role", severity="warning")
            return
        self.busy = True
        event.button.disabled = True
        self.query_one("#checklist-result", Static).update(f"writing {', '.join(roles)}…")
        self.refresh_roles(roles)

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False, name="re-sign")
    def refresh_roles(self, roles: list[str]) -> None:
        ceremony = self.ceremony
        results = ceremony.refresh(roles)
        lines = [ceremony.describe_change(c, r.names) for r in results for c in r.changes]
        self.post_message(Refreshed(results, lines))

    def on_refreshed(self, message: Refreshed) -> None:
        self.busy = False
        self.query_one("#checklist-result", Static).update(written_text(message.lines, 3))
        self.ceremony_app.note(f"re-signed {len(message.lines)} role(s)")
        self.load()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        text = failure_text(message, verb="stopped")
        text += "\nThe status screen shows what is on disk now."
        self.query_one("#checklist-result", Static).update(text)
        self.query_one("#write", Button).disabled = False
