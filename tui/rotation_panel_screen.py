"""Root rotation, step 2: the staged new root's signatures, live; then publish.

"signed by old root: 1 of 2, new root: 0 of 3 — waiting for carol, dave". Holders
present sign here (a review to tick, then the passphrase); the others sign a copy of
DIR/staged/root.json elsewhere (``trustkeep sign COPY --key K``), and the copy is merged
back here. Publish (a review to tick) once every threshold is met.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Static

from trustkeep.core.ceremony import key_label
from trustkeep.service.ceremony import SignPlan
from trustkeep.service.ceremony_rotation import RotationProgress

from ._common import FlowScreen, failure_text
from .messages import ActionFailed, PlanLoaded, ProgressLoaded, Signed

__all__ = ["RotationPanelScreen"]


class RotationPanelScreen(FlowScreen[None]):
    """Who signed the staged root and who is awaited; sign, merge copies, publish."""

    CSS_PATH = "rotate.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("m", "focus_merge", "Merge"),
        Binding("p", "publish", "Publish"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.progress: RotationProgress | None = None
        self._signing: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("New root: loading…", id="panel-title", markup=False)
        yield Static("", id="panel-line", markup=False)
        with VerticalScroll(id="panel-body"):
            yield Static("", id="panel-checks", markup=False)
            yield Static("Sign here (keys of this store):", id="sign-label", markup=False)
            yield Container(id="sign-keys")
            yield Static("", id="travel-hint", markup=False)
            with Horizontal(id="merge-row", classes="row"):
                yield Input(id="merge-path", placeholder="travelled copy signed elsewhere (path)")
                yield Button("Merge", id="merge")
            yield Static("", id="panel-result", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Publish…", id="publish", variant="primary", disabled=True)
            yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, group="panel", exit_on_error=False, name="rotation")
    def action_reload(self) -> None:
        self.post_message(ProgressLoaded(self.ceremony.rotation.progress()))

    async def on_progress_loaded(self, message: ProgressLoaded) -> None:
        self.progress = p = message.progress
        keys = self.query_one("#sign-keys", Container)
        await keys.remove_children()
        if not p.staged:
            self.query_one("#panel-title", Static).update("No new root is staged.")
            self.query_one("#panel-line", Static).update("")
            self.query_one("#panel-checks", Static).update("")
            self.query_one("#sign-label", Static).display = False
            self.query_one("#publish", Button).disabled = True
            return
        where = p.path.relative_to(self.ceremony.directory) if p.path else "staged/root.json"
        self.query_one("#panel-title", Static).update(
            f"New root v{p.version}, staged in {where} (clients still read the published root)"
        )
        self.query_one("#panel-line", Static).update(p.line)
        self.query_one("#panel-checks", Static).update("\n".join(p.checks))
        self.query_one("#travel-hint", Static).update(
            f"Holders elsewhere: send a copy of {where} with {p.version - 1}.root.json beside "
            "it; they run 'trustkeep sign COPY --key K'; merge the signed copy here:"
        )
        buttons = [
            Button(f"Sign as {e.name or e.keyid[:8]}", id=f"sign-{e.keyid}", classes="sign")
            for e in p.signable
        ]
        await keys.mount_all(buttons)
        label = self.query_one("#sign-label", Static)
        label.display = True
        label.update(
            "Sign here (keys of this store):"
            if buttons
            else f"No key of this store may add a signature: copies of {p.path} travel."
        )
        self.query_one("#publish", Button).disabled = not p.complete or self.busy
        if p.complete:
            self.query_one("#publish", Button).focus()
        elif buttons:
            buttons[0].focus()
        else:
            self.query_one("#merge-path", Input).focus()

    # -- signing here: the review, ticked, then the passphrase --------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id or ""
        if button == "back":
            self.action_back()
        elif button == "merge":
            self._merge()
        elif button == "publish":
            self.action_publish()
        elif button.startswith("sign-") and not self.busy:
            self._signing = button.removeprefix("sign-")
            self.load_plan()

    @work(thread=True, exclusive=True, group="panel-sign", exit_on_error=False, name="review")
    def load_plan(self) -> None:
        self.post_message(PlanLoaded(self.ceremony.plan("root")))

    def on_plan_loaded(self, message: PlanLoaded) -> None:
        from .confirm_screen import ConfirmScreen

        plan, keyid = message.plan, self._signing
        if keyid is None:
            return
        who = key_label(keyid, plan.names)

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self._say("not signed: nothing was written")
                return
            self.busy = True
            self._say(f"signing as {who}… (the passphrase is asked next)")
            self.sign(keyid, plan)

        title = f"Sign root v{plan.review.version} as {who}"
        self.app.push_screen(ConfirmScreen(title, plan.lines(), action="Sign"), confirmed)

    @work(thread=True, exclusive=True, group="panel-sign", exit_on_error=False, name="sign")
    def sign(self, keyid: str, plan: SignPlan) -> None:
        result = self.ceremony.sign("root", keyid, reviewed=plan.review.digest)
        self.post_message(Signed(result, self.ceremony.describe_sign(result)))

    def on_signed(self, message: Signed) -> None:
        self.busy = False
        self._signing = None
        self._say(f"signed {message.line}")
        self.ceremony_app.note(f"signed {message.line}")
        self.action_reload()

    # -- travelled copies -------------------------------------------------------------

    def action_focus_merge(self) -> None:
        self.query_one("#merge-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._merge()

    def _merge(self) -> None:
        field = self.query_one("#merge-path", Input)
        files = [Path(p).expanduser() for p in field.value.split()]
        if not files:
            self._say("type the path of a copy signed elsewhere")
            return
        self.merge(files)

    @work(thread=True, exclusive=True, group="panel-merge", exit_on_error=False, name="merge")
    def merge(self, files: list[Path]) -> None:
        lines = self.ceremony.merge(files)
        self.app.call_from_thread(self._merged, lines)

    def _merged(self, lines: list[str]) -> None:
        self.query_one("#merge-path", Input).value = ""
        self._say("\n".join(lines) or "nothing new to merge")
        self.ceremony_app.note(f"merged {len(lines)} signature change(s)")
        self.action_reload()

    # -- publishing ---------------------------------------------------------------------

    def action_publish(self) -> None:
        if self.progress is not None and self.progress.complete and not self.busy:
            self.publish_review()

    @work(thread=True, exclusive=True, group="panel-publish", exit_on_error=False, name="publish")
    def publish_review(self) -> None:
        lines = self.ceremony.publish_review()
        self.app.call_from_thread(self._confirm_publish, lines)

    def _confirm_publish(self, lines: list[str]) -> None:
        from .confirm_screen import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self._say("not published: nothing was written")
                return
            self.busy = True
            self._say("publishing…")
            self.publish()

        self.app.push_screen(ConfirmScreen("Publish", lines, action="Publish"), confirmed)

    @work(thread=True, exclusive=True, group="panel-publish", exit_on_error=False, name="publish")
    def publish(self) -> None:
        result = self.ceremony.publish()
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.app.call_from_thread(self._published, lines)

    def _published(self, lines: list[str]) -> None:
        self.busy = False
        self._say(
            "published:\n"
            + "\n".join(lines)
            + "\nclients now update to the new root; export the new pins (trustkeep pin export)"
        )
        self.ceremony_app.note(f"published {len(lines)} role(s)")
        self.action_reload()

    # -- results ----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.query_one("#panel-result", Static).update(text)

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        self._signing = None
        self._say(failure_text(message, outcome="; nothing was written"))
        if message.action != "rotation":  # the panel itself could not be read: no loop
            self.action_reload()
