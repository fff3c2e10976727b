"""The key store: every key of this home, where it lives, never a secret."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from trustkeep.core.keys import KeyEntry

from ._common import FlowScreen

__all__ = ["KeysScreen"]


class KeysScreen(FlowScreen[None]):
    CSS_PATH = "keys.tcss"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Key store {self.ceremony_app.service.home}", classes="title", markup=False)
        table: DataTable[Text] = DataTable(id="key-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="keys", exit_on_error=False, name="key store")
    def load(self) -> None:
        entries = self.ceremony_app.service.keys.list()
        self.app.call_from_thread(self._show, entries)

    def _show(self, entries: list[KeyEntry]) -> None:
        table = self.query_one("#key-table", DataTable)
        table.clear(columns=True)
        for label in ("NAME", "KEYID", "TYPE", "LIVES IN"):
            table.add_column(label)
        for e in entries:
            keys = self.ceremony_app.service.keys
            where = keys.backend_of(e) if e.has_private else "public only (held elsewhere)"
            table.add_row(Text(e.name or "—"), Text(e.keyid), Text(e.keytype), Text(where))
        table.focus()
