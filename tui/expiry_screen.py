"""The expiry dashboard: every role of every repository opened, soonest first.

Colour by urgency (expired, critical, warning, ok), snapshot and timestamp included;
a filter narrows hundreds of rows; Enter re-signs: the repository's re-sign checklist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from trustkeep.core.ceremony import time_left
from trustkeep.service.ceremony_home import ExpiryRow

from ._common import FlowScreen, failure_text
from .messages import ActionFailed
from .widgets import FilterField

__all__ = ["ExpiryScreen"]

_STYLES = {
    "expired": "bold white on red",
    "critical": "bold red",
    "warning": "yellow",
    "ok": "green",
}
_COLUMNS = ("LEFT", "ROLE", "VERSION", "EXPIRES (UTC)", "REPOSITORY")
#: the filter waits this long after the last keystroke before narrowing the table


class ExpiryScreen(FlowScreen[None]):
    CSS_PATH = "expiry.tcss"
    AUTO_FOCUS = "#expiry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("slash", "filter", "Filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[ExpiryRow] = []
        self.shown: list[ExpiryRow] = []
        self.now: datetime | None = None
        #: every row's cells and filter text, built once per load
        self._cells: list[tuple[ExpiryRow, tuple[Text, ...], str]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Expiry dashboard", classes="title", markup=False)
        yield FilterField(
            id="filter",
            placeholder="filter: repository, role or urgency (/ to focus)",
            focus_on_enter="#expiry",
        )
        table: DataTable[Text] = DataTable(id="expiry", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(
            "Enter re-signs the selected repository. Red: expired or critical; "
            "yellow: due soon (snapshot within 7 days, timestamp within 1 day).",
            id="legend",
            markup=False,
        )
        yield Footer(show_command_palette=False)  # ctrl+p still opens it: room for the keys

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, group="expiry", exit_on_error=False, name="expiry")
    def action_reload(self) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        rows = self.ceremony_app.home.expiry(now=now)
        self.app.call_from_thread(self._show, rows, now)

    def _show(self, rows: list[ExpiryRow], now: datetime) -> None:
        self.rows = rows
        self.now = now
        self._cells = [(r, self._row_cells(r, now), self._text(r)) for r in rows]
        table = self.query_one("#expiry", DataTable)
        table.clear(columns=True)
        for label in _COLUMNS:
            table.add_column(label)
        self._fill()
        table.focus()

    @staticmethod
    def _text(r: ExpiryRow) -> str:
        """What the filter matches: repository, role and urgency (expired, critical…)."""
        return f"{r.directory} {r.role} {r.level}".lower()

    @staticmethod
    def _row_cells(r: ExpiryRow, now: datetime) -> tuple[Text, ...]:
        style = _STYLES[r.level]
        if r.error is not None or r.expires is None:
            cells: tuple[str, ...] = ("unreadable", "—", "—", "—", f"{r.directory}: {r.error}")
        else:
            cells = (
                time_left(r.expires, now),
                r.role,
                str(r.version),
                f"{r.expires:%Y-%m-%d %H:%M}",
                str(r.directory),
            )
        return tuple(Text(c, style=style if i < 2 else "") for i, c in enumerate(cells))

    def _fill(self) -> None:
        """Show the rows the filter keeps (cells built at load, never per keystroke)."""
        needle = self.query_one("#filter", Input).value.strip().lower()
        table = self.query_one("#expiry", DataTable)
        table.clear()
        kept = [(r, cells) for r, cells, text in self._cells if needle in text]
        self.shown = [r for r, _cells in kept]
        table.add_rows([cells for _r, cells in kept])
        if not self.rows:
            table.add_row(*(Text(c) for c in ("—", "no repository opened yet", "", "", "")))

    def on_filter_field_settled(self, event: FilterField.Settled) -> None:
        event.stop()
        self._fill()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if not 0 <= event.cursor_row < len(self.shown):
            return
        row = self.shown[event.cursor_row]
        from .checklist_screen import ChecklistScreen

        if self.ceremony_app.open_repository(row.directory):
            self.app.push_screen(ChecklistScreen())

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#legend", Static).update(failure_text(message))
