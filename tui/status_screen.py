"""The status screen: every role's version, expiry and signatures, who is awaited."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from trustkeep.core.ceremony import waiting_line
from trustkeep.core.tuf_repo.status import RoleStatus, StatusCode
from trustkeep.service.ceremony import StatusView

from ._common import CeremonyScreen, failure_text
from .messages import ActionFailed, StatusLoaded
from .phrases import issue_text
from .widgets import FilterField

__all__ = ["StatusScreen"]

#: already said by the "waiting for" lines above the problems
_SHOWN = (StatusCode.THRESHOLD_NOT_MET, StatusCode.UNSIGNED)
_COLUMNS = ("ROLE", "VERSION", "EXPIRES", "DAYS LEFT", "SIGNATURES")
#: the filter waits this long after the last keystroke before narrowing the table


def _state(view: StatusView, role: RoleStatus) -> str:
    """What the filter matches besides the name: signed / waiting / expired, staged."""
    word = "expired" if role.expired else ("signed" if role.verified else "waiting")
    return f"staged {word}" if view.is_staged(role.role) else word


class StatusScreen(CeremonyScreen[None]):
    """Routes: Enter/``s`` sign, ``g`` signing queue, ``e`` re-sign, ``k`` rotate, ``r`` reload."""

    CSS_PATH = "status.tcss"
    AUTO_FOCUS = "#roles"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh", show=False),
        Binding("s", "sign", "Sign"),
        Binding("g", "queue", "Queue"),
        Binding("e", "expiring", "Re-sign"),
        Binding("k", "rotate", "Rotate"),
        Binding("d", "delegations", "Delegate"),
        Binding("slash", "filter", "Filter", show=False),
        Binding("escape", "home", "Home"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: StatusView | None = None
        #: every row's cells, built once per load; the filter only picks among them
        self._cells: list[tuple[RoleStatus, tuple[str, ...], str]] = []
        #: the roles the table shows now, in order
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading…", id="summary", markup=False)
        yield FilterField(
            id="status-filter",
            placeholder="filter: role name or state (/ to focus)",
            focus_on_enter="#roles",
        )
        table: DataTable[Text] = DataTable(id="roles", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="details", markup=False)
        yield Static("", id="last-action", markup=False)
        yield Footer(show_command_palette=False)  # ctrl+p still opens it: room for the keys

    def on_mount(self) -> None:
        path = self.ceremony.transcript.path
        self.query_one("#last-action", Static).update(f"transcript: {path}")
        self.action_reload()

    # -- work goes to the service, in a thread ---------------------------------------

    @work(thread=True, exclusive=True, group="status", exit_on_error=False, name="status")
    def action_reload(self) -> None:
        self.post_status()

    # -- rendering ---------------------------------------------------------------------

    def on_status_loaded(self, message: StatusLoaded) -> None:
        self.view = view = message.view
        roles = view.rows()
        self._cells = [
            (
                r,
                (
                    r.role
                    + (" (staged)" if view.is_staged(r.role) else "")
                    + ("" if r.ok else " ✗"),
                    str(r.version),
                    f"{r.expires:%Y-%m-%d %H:%M}Z",
                    "expired" if r.expired else str(r.days_left),
                    " + ".join(waiting_line(c, view.names) for c in r.checks),
                ),
                f"{r.role} {_state(view, r)}".lower(),
            )
            for r in roles
        ]
        self._fill(columns=True)
        unsigned = view.unsigned_roles()
        if view.status.ok and not unsigned:
            summary = "status: OK — every role is signed and current"
        elif view.status.ok:
            summary = f"status: OK (published) — staged, awaiting signatures: {', '.join(unsigned)}"
        elif unsigned:
            summary = f"status: NOT OK — awaiting signatures on: {', '.join(unsigned)}"
        else:
            summary = "status: NOT OK — see the problems below"
        self.query_one("#summary", Static).update(summary)
        self.query_one("#details", Static).update(self._details(view))

    def _fill(self, *, columns: bool = False) -> None:
        """Show the rows the filter keeps (cells built at load, never per keystroke)."""
        table = self.query_one("#roles", DataTable)
        selected = table.cursor_row
        needle = self.query_one("#status-filter", Input).value.strip().lower()
        kept = [(r, cells) for r, cells, text in self._cells if needle in text]
        if columns:  # columns sized to every row's content: the header lines up
            table.clear(columns=True)
            for i, label in enumerate(_COLUMNS):
                widths = (len(cells[i]) for _r, cells, _t in self._cells)
                table.add_column(label, width=max([len(label), *widths]))
        else:
            table.clear()
        table.add_rows([tuple(Text(c) for c in cells) for _r, cells in kept])
        self.shown = [r.role for r, _cells in kept]
        if kept:
            table.move_cursor(row=min(selected, len(kept) - 1))

    def on_filter_field_settled(self, event: FilterField.Settled) -> None:
        event.stop()
        self._fill()

    def action_filter(self) -> None:
        self.query_one("#status-filter", Input).focus()

    @staticmethod
    def _details(view: StatusView) -> str:
        lines = []
        for role in view.unsigned_roles():
            lines += [f"{role} — {w}" for w in view.waiting(role)]
        problems = [*view.status.problems, *(p for r in view.status.roles for p in r.problems)]
        lines += [f"problem: {issue_text(p)}" for p in problems if p.code not in _SHOWN]
        warnings = [*view.status.warnings, *(w for r in view.status.roles for w in r.warnings)]
        lines += [f"warning: {issue_text(w)}" for w in warnings]
        if view.publishable:
            lines.append("every staged change is signed: publish it from the signing queue (g)")
        return "\n".join(lines)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#last-action", Static).update(failure_text(message))

    def note(self, text: str) -> None:
        """Show what just happened (set by the screens this one opened) and reload."""
        self.query_one("#last-action", Static).update(text)
        self.action_reload()

    # -- routing -----------------------------------------------------------------------

    def _selected_role(self) -> str | None:
        table = self.query_one("#roles", DataTable)
        if self.view is None or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_sign()

    def action_sign(self) -> None:
        role = self._selected_role()
        if role is None or self.view is None:
            return
        if self.view.role(role).verified:
            self.notify(
                f"{role}: threshold already met; nothing to sign", severity="warning", markup=False
            )
            return
        from .sign_screen import SignScreen

        self.app.push_screen(SignScreen(role))

    def action_expiring(self) -> None:
        from .checklist_screen import ChecklistScreen

        self.app.push_screen(ChecklistScreen())

    def action_queue(self) -> None:
        from .queue_screen import QueueScreen

        self.app.push_screen(QueueScreen(), callback=self._back_from_flow)

    def _back_from_flow(self, _result: None) -> None:
        self.action_reload()

    def action_delegations(self) -> None:
        from .delegations_screen import DelegationsScreen

        self.app.push_screen(DelegationsScreen(), callback=self._back_from_flow)

    def action_home(self) -> None:
        self.dismiss(None)

    def action_rotate(self) -> None:
        from .rotate_screen import RotateScreen

        self.app.push_screen(RotateScreen())
