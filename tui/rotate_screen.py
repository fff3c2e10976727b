"""Root rotation, step 1: choose the new root (keys out, keys in, threshold, expiry).

Nothing is ticked for you: with no choice made, "Review" says there is nothing to
change. The review comes from the service; the new root is staged only after it is
confirmed, then the signing panel follows it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, SelectionList, Static

from trustkeep.core.ceremony import key_label
from trustkeep.errors import InputError
from trustkeep.service.ceremony_rotation import (
    KeyFile,
    RotationChoices,
    RotationPlan,
    RotationReview,
)

from ._common import FlowScreen, failure_text
from .messages import ActionFailed, ChoicesLoaded, Rotated, RotationReviewed

__all__ = ["RotateScreen"]


class RotateScreen(FlowScreen[None]):
    """Choose the new root version; Escape goes back without writing anything."""

    CSS_PATH = "rotate.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "review", "Review"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.choices: RotationChoices | None = None
        self.files: list[KeyFile] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Root rotation: loading…", id="rotate-title", markup=False)
        with VerticalScroll(id="rotate-form"):
            with Horizontal(id="rotate-pick"):
                yield SelectionList[str](id="remove")
                yield SelectionList[str](id="add")
            with Horizontal(id="file-row", classes="row"):
                yield Input(id="file-path", placeholder="holder's public key file (path)")
                yield Input(id="file-name", placeholder="name")
                yield Button("Add file", id="file-add")
            with Horizontal(id="files-row", classes="row"):
                yield Static("key files: none", id="files", markup=False)
                yield Button("Clear", id="file-clear", disabled=True)
            with Horizontal(id="settings-row", classes="row"):
                yield Label("threshold", classes="label")
                yield Input(id="threshold", type="integer")
                yield Label("expiry", classes="label")
                yield Input(id="expires", placeholder="default 365d from now; or 400d, 2028-06-30")
            yield Static("", id="rotate-result", markup=False)
            yield Static("", id="rotate-chosen", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Review…", id="rotate-review", variant="primary")
            yield Button("Signatures…", id="rotate-panel", disabled=True)
            yield Button("Back", id="back")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#remove", SelectionList).border_title = "remove from root (Space)"
        self.query_one("#add", SelectionList).border_title = "add keys of this store"
        self.load()

    @work(thread=True, exclusive=True, group="rotate-load", exit_on_error=False, name="rotation")
    def load(self) -> None:
        self.post_message(ChoicesLoaded(self.ceremony.rotation.choices()))

    def on_choices_loaded(self, message: ChoicesLoaded) -> None:
        self.choices = c = message.choices
        staged = " (staged, not published)" if c.pending else ""
        self.query_one("#rotate-title", Static).update(
            f"Root rotation: root v{c.version}{staged}, {c.threshold} of "
            f"{len(c.root_keys)} keys, expires {c.expires:%Y-%m-%d}"
        )
        remove = self.query_one("#remove", SelectionList)
        remove.clear_options()
        remove.add_options([(key_label(k, c.names), k) for k in c.root_keys])
        add = self.query_one("#add", SelectionList)
        add.clear_options()
        add.add_options(
            [
                (f"{e.label()} {e.keytype}{'' if e.has_private else ' (public only)'}", e.keyid)
                for e in c.candidates
            ]
        )
        self.query_one("#threshold", Input).value = str(c.threshold)
        self.query_one("#rotate-panel", Button).disabled = not c.pending
        if c.pending:
            self._say(
                f"root v{c.version} is staged and awaits signatures (Signatures…); "
                "a change made here amends it"
            )
        self._show_chosen()
        remove.focus()

    # -- the choices ----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.query_one("#rotate-result", Static).update(text)

    def _show_chosen(self) -> None:
        """What is chosen so far, echoed (the review itself comes from the service)."""
        c = self.choices
        if c is None:
            return
        remove = self.query_one("#remove", SelectionList).selected
        add = self.query_one("#add", SelectionList).selected
        names = c.names
        out = [f"remove: {', '.join(key_label(k, names) for k in remove) or 'none'}"]
        added = [key_label(k, names) for k in add] + [f.name or f.path for f in self.files]
        out.append(f"add: {', '.join(added) or 'none'}")
        value = self.query_one("#threshold", Input).value.strip()
        kept = value == str(c.threshold)
        out.append(f"threshold: {value or '?'}{' (kept)' if kept else ''}")
        out.append(f"expiry: {self.query_one('#expires', Input).value.strip() or '365d (default)'}")
        self.query_one("#rotate-chosen", Static).update("chosen — " + "; ".join(out))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        self._show_chosen()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_chosen()

    def _show_files(self) -> None:
        listed = "; ".join(f"{f.name or '(no name)'}: {f.path}" for f in self.files)
        self.query_one("#files", Static).update(f"key files: {listed or 'none'}")
        self.query_one("#file-clear", Button).disabled = not self.files

    def _add_file(self) -> None:
        path = self.query_one("#file-path", Input)
        name = self.query_one("#file-name", Input)
        if not path.value.strip():
            self._say("type the path of the holder's public key file")
            path.focus()
            return
        self.files.append(KeyFile(path.value.strip(), name.value.strip()))
        path.value = name.value = ""
        self._show_files()
        self._show_chosen()
        self._say("key file listed: it is read when you press Review")

    def _plan(self) -> RotationPlan:
        value = self.query_one("#threshold", Input).value.strip()
        if not value.isdigit():
            raise InputError("threshold: type a number")
        current = self.choices.threshold if self.choices else None
        threshold = int(value)
        return RotationPlan(
            remove=tuple(self.query_one("#remove", SelectionList).selected),
            add=tuple(self.query_one("#add", SelectionList).selected),
            files=tuple(self.files),
            threshold=None if threshold == current else threshold,
            expires=self.query_one("#expires", Input).value.strip(),
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id in ("file-path", "file-name"):
            self._add_file()
        else:
            self.action_review()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "back":
            self.action_back()
        elif button == "file-add":
            self._add_file()
        elif button == "file-clear":
            self.files.clear()
            self._show_files()
            self._show_chosen()
        elif button == "rotate-panel":
            self._open_panel()
        else:
            self.action_review()

    # -- review, confirm, write -----------------------------------------------------------

    def action_review(self) -> None:
        if self.busy or self.choices is None:
            return
        try:
            plan = self._plan()
        except InputError as e:
            self._say(e.message)
            return
        self._say("computing the review…")
        self.review(plan)

    @work(thread=True, exclusive=True, group="rotate", exit_on_error=False, name="review")
    def review(self, plan: RotationPlan) -> None:
        self.post_message(RotationReviewed(self.ceremony.rotation.review(plan)))

    def on_rotation_reviewed(self, message: RotationReviewed) -> None:
        from .confirm_screen import ConfirmScreen

        review = message.review

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self._say("not staged: nothing was written")
                return
            self.busy = True
            self._say("staging the new root…")
            self.write(review)

        title = f"Stage root v{review.version}"
        self.app.push_screen(
            ConfirmScreen(title, review.lines, action="Stage the new root"), confirmed
        )

    @work(thread=True, exclusive=True, group="rotate", exit_on_error=False, name="stage new root")
    def write(self, review: RotationReview) -> None:
        result = self.ceremony.rotation.write(review)
        lines = [self.ceremony.describe_change(c, result.names) for c in result.changes]
        self.post_message(Rotated(result, lines))

    def on_rotated(self, message: Rotated) -> None:
        self.busy = False
        self.ceremony_app.note(f"staged new root: {'; '.join(message.lines)}")
        self._open_panel()

    def _open_panel(self) -> None:
        from .rotation_panel_screen import RotationPanelScreen

        self.app.switch_screen(RotationPanelScreen())

    def on_action_failed(self, message: ActionFailed) -> None:
        self.busy = False
        self._say(failure_text(message, outcome="; nothing was written"))
