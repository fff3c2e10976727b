"""The home screen: start a ceremony, open a repository, verify, watch expiries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from ._common import CeremonyScreen, failure_text
from .messages import ActionFailed

if TYPE_CHECKING:  # the new-root flow loads when it starts (not before the first frame)
    from trustkeep.service.ceremony_newroot import NewRootDraft

__all__ = ["HomeScreen"]

_ACTIONS = (
    ("new-root", "New root ceremony — TUF repository or Notary root certificate"),
    ("open", "Open a repository — status, signing queue, rotation, re-sign"),
    ("verify", "Verify metadata — a directory or archive against an anchor"),
    ("expiry", "Expiry dashboard — every role of every repository opened"),
    ("keys", "Key store — the keys of this home"),
)


class HomeScreen(CeremonyScreen[None]):
    CSS_PATH = "home.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "start('new-root')", "New root"),
        Binding("o", "start('open')", "Open"),
        Binding("v", "start('verify')", "Verify"),
        Binding("e", "start('expiry')", "Expiry"),
        Binding("x", "abort_saved", "Abort saved", show=False),
        Binding("u", "unfinished", "Unfinished", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[NewRootDraft] = []
        self.known: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="home-columns"):
            with Vertical(id="home-left"):
                yield Static("What do you want to do?", classes="title", markup=False)
                yield OptionList(*(Option(t, id=k) for k, t in _ACTIONS), id="actions")
                yield Input(placeholder="repository directory, then Enter", id="open-dir")
            with Vertical(id="home-right"):
                yield Static("Repositories opened before", classes="title", markup=False)
                yield OptionList(id="repositories", markup=False)
                yield Static(
                    "Unfinished ceremonies (Enter resumes, x aborts)", classes="title", markup=False
                )
                yield OptionList(id="saved", markup=False)
        yield Static("", id="home-result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#actions", OptionList).focus()
        # after the first frame: the loader imports the new-root side (keys, PKCS#8)
        self.call_after_refresh(self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def reload(self) -> None:
        known = self.ceremony_app.home.repositories()
        saved = self.ceremony_app.new_root.saved()
        self.app.call_from_thread(self._show, known, saved)

    def _show(self, known: list[Path], saved: list[NewRootDraft]) -> None:
        self.known, self.saved = known, saved
        repos = self.query_one("#repositories", OptionList)
        repos.clear_options()
        repos.add_options([Option(str(p), id=str(i)) for i, p in enumerate(known)])
        pending = self.query_one("#saved", OptionList)
        pending.clear_options()
        for i, d in enumerate(saved):
            done = sum(1 for h in d.holders if h.keyid)
            label = (
                f"{d.ceremony_id}  {d.format} root in {d.directory} ({done}/{len(d.holders)} keys)"
            )
            pending.add_option(Option(label, id=str(i)))
        pending.display = bool(saved)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id) if event.option.id and event.option.id.isdigit() else -1
        if event.option_list.id == "actions" and event.option.id:
            self.action_start(event.option.id)
        elif event.option_list.id == "repositories" and 0 <= index < len(self.known):
            self.ceremony_app.open_repository(self.known[index])
        elif event.option_list.id == "saved" and 0 <= index < len(self.saved):
            self._run_new_root(self.saved[index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.ceremony_app.open_repository(Path(event.value.strip()).expanduser())

    def action_start(self, what: str) -> None:
        if what == "new-root":
            self._run_new_root(None)
        elif what == "open":
            self.query_one("#open-dir", Input).focus()
        elif what == "verify":
            from .verify_screen import VerifyScreen

            self.app.push_screen(VerifyScreen())
        elif what == "expiry":
            from .expiry_screen import ExpiryScreen

            self.app.push_screen(ExpiryScreen())
        elif what == "keys":
            from .keys_screen import KeysScreen

            self.app.push_screen(KeysScreen())

    def _run_new_root(self, draft: NewRootDraft | None) -> None:
        from .newroot_flow import NewRootFlow

        NewRootFlow(self.ceremony_app, self._flow_done).start(draft)

    def _flow_done(self, text: str) -> None:
        self.query_one("#home-result", Static).update(text)
        self.reload()

    def action_unfinished(self) -> None:
        """Focus the unfinished ceremonies, the newest highlighted (Enter resumes it)."""
        pending = self.query_one("#saved", OptionList)
        if pending.option_count:
            pending.focus()
            pending.highlighted = pending.option_count - 1

    def action_abort_saved(self) -> None:
        pending = self.query_one("#saved", OptionList)
        index = pending.highlighted
        if not pending.has_focus or index is None or index >= len(self.saved):
            return
        self.abort_saved(self.saved[index])

    @work(thread=True, exclusive=True, group="home-abort", exit_on_error=False)
    def abort_saved(self, draft: NewRootDraft) -> None:
        self.ceremony_app.new_root.abort(draft, step="home")
        self.app.call_from_thread(self._flow_done, f"aborted {draft.ceremony_id}: nothing written")

    def on_action_failed(self, message: ActionFailed) -> None:
        self.query_one("#home-result", Static).update(failure_text(message))
