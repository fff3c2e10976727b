"""New root, step 1: where, which format, who holds the keys, threshold, expiries."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, RadioButton, RadioSet, Static

from trustkeep.core.ceremony import threshold_consequences
from trustkeep.service.ceremony_newroot import NewRootDraft

from ._common import FlowScreen, failure_text
from .messages import ActionFailed

__all__ = ["NewRootScreen"]


def _int(text: str, default: int = 0) -> int:
    return int(text) if text.strip().isdigit() else default


class NewRootScreen(FlowScreen[NewRootDraft]):
    """Escape leaves without saving anything; Next checks the choices and saves a draft."""

    CSS_PATH = "newroot.tcss"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("New root ceremony — 1. plan", classes="title", markup=False)
        with VerticalScroll(id="plan", can_focus=False):
            yield Label("Directory the new repository (or certificate) goes in")
            yield Input(id="directory", placeholder="/media/usb/acme-repo")
            yield Label("Format")
            with RadioSet(id="format"):
                yield RadioButton("TUF repository", value=True, id="fmt-tuf")
                yield RadioButton("Notary root certificate for a GUN", id="fmt-notary")
            yield Label("GUN: the repository the certificate is for", id="gun-label")
            yield Input(id="gun", placeholder="GUN, e.g. registry.example.com/acme/app")
            yield Label("Key holders, by name, separated by commas")
            yield Input(id="holders", placeholder="alice, bob, carol")
            yield Label("Root threshold (m of n)")
            yield Input(id="threshold", type="integer", placeholder="m, e.g. 2")
            yield Static("", id="consequences", markup=False)
            yield Label("Expiry in days: root, targets, snapshot, timestamp")
            with Horizontal(id="expiries"):
                yield Input("365", id="root-days", type="integer")
                yield Input("90", id="targets-days", type="integer")
                yield Input("7", id="snapshot-days", type="integer")
                yield Input("1", id="timestamp-days", type="integer")
        with Horizontal(classes="buttons"):
            yield Button("Next", id="next", variant="primary")
            yield Button("Cancel", id="back")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        for selector in ("#gun-label", "#gun"):
            self.query_one(selector).display = False
        self.query_one("#directory", Input).focus()
        self._explain()

    def _format(self) -> str:
        return "notary" if self.query_one("#fmt-notary", RadioButton).value else "tuf"

    def _holders(self) -> list[str]:
        return [n.strip() for n in self.query_one("#holders", Input).value.split(",") if n.strip()]

    def _explain(self) -> None:
        n = len(self._holders())
        m = _int(self.query_one("#threshold", Input).value)
        text = (
            "\n".join(threshold_consequences(m, n))
            if n
            else "name the holders to see what the threshold means"
        )
        self.query_one("#consequences", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._explain()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        for selector in ("#gun-label", "#gun"):
            self.query_one(selector).display = self._format() == "notary"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field is Next (every field has a default but the names)."""
        event.stop()
        self._next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "back":
            self.action_back()
        else:
            self._next()

    def _next(self) -> None:
        if not self.busy:
            self.busy = True
            fields = ["directory", "gun", "holders", "threshold", "root-days", "targets-days"]
            fields += ["snapshot-days", "timestamp-days"]
            self.start({k: self.query_one(f"#{k}", Input).value for k in fields})

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False, name="plan")
    def start(self, value: dict[str, str]) -> None:
        fmt = self._format()
        draft = self.ceremony_app.new_root.start(
            value["directory"],
            fmt=fmt,
            holders=[n.strip() for n in value["holders"].split(",")],
            threshold=_int(value["threshold"]),
            root_days=_int(value["root-days"]),
            targets_days=_int(value["targets-days"]),
            snapshot_days=_int(value["snapshot-days"]),
            timestamp_days=_int(value["timestamp-days"]),
            gun=value["gun"] if fmt == "notary" else None,
        )
        self.app.call_from_thread(self.dismiss, draft)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        self.query_one("#result", Static).update(failure_text(message))
