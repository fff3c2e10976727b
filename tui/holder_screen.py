"""New root, one holder: where the key lives, its type, and its new passphrase.

The passphrase is typed twice in masked fields, its strength shown; it goes to the
service in the worker and the fields are cleared as soon as the key exists.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from trustkeep.core.keys import KEY_TYPES
from trustkeep.service.ceremony_newroot import LOCATIONS, NOTARY_LOCATIONS, NewRootDraft

from .newroot_step import NewRootStep
from .widgets import NewPassphrase

__all__ = ["HolderKeyScreen"]

_NOTES = {
    "keyring": "the passphrase is stored in the OS keyring: signing with this key asks nothing",
    "import": "the key is copied into this store under the new passphrase; the file's own"
    " passphrase, if it has one, is asked next",
    "pkcs11": "the token's PIN is asked next, in a masked field; the key never leaves it",
    "public": "the root is staged; this holder signs DIR/staged/root.json with"
    " 'trustkeep sign' on their machine, then it is merged and published",
}

_GENERATED = ("file", "keyring")
_WITH_PASSPHRASE = ("file", "keyring", "import")
_WITH_PATH = ("public", "import")
_PASS_LABELS = {
    "file": "New passphrase for {name}'s key",
    "keyring": "New passphrase for {name}'s key (kept in the OS keyring)",
    "import": "New passphrase for {name}'s key in this store",
}


class HolderKeyScreen(NewRootStep[NewRootDraft]):
    """Escape pauses (the draft is saved; resume from the home); Abort forgets it."""

    CSS_PATH = "holder.tcss"

    def __init__(self, draft: NewRootDraft, index: int) -> None:
        super().__init__(draft, step=f"holder {index + 1}")
        self.index = index

    def compose(self) -> ComposeResult:
        holder = self.draft.holders[self.index]
        n = len(self.draft.holders)
        yield Header()
        yield Static(
            f"New root — 2. key of holder {self.index + 1} of {n}: {holder.name}",
            classes="title",
            markup=False,
        )
        with VerticalScroll(id="holder", can_focus=False):
            yield Label("Where does the key live?")
            with RadioSet(id="location"):
                for i, (key, text) in enumerate(self._locations().items()):
                    yield RadioButton(text, value=i == 0, id=f"loc-{key}")
            yield Static("", id="where-note", markup=False)
            yield Label("Key type", id="type-label")
            types = ["ecdsa-p256"] if self.draft.format == "notary" else list(KEY_TYPES)
            yield Select([(t, t) for t in types], value=types[0], allow_blank=False, id="keytype")
            yield Label("Key file", id="path-label")
            yield Input(id="path", placeholder="path of the key file")
            yield Label("Token label, and the key's id on the token", id="token-hint")
            yield Input(id="token-label", placeholder="token label (PKCS#11)")
            yield Input(id="token-key", type="integer", placeholder="key id on the token")
            yield Label(f"New passphrase for {holder.name}'s key", id="pass-label")
            yield NewPassphrase(id="passphrase")
        with Horizontal(classes="buttons"):
            yield Button("Create / import key", id="make", variant="primary")
            yield Button("Pause", id="back")
            yield Button("Abort ceremony", id="abort", variant="error")
        yield Static("", id="result", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._show_fields()
        self.query_one("#passphrase .first", Input).focus()  # the usual case: generate here

    def _locations(self) -> dict[str, str]:
        """A Notary root certificate is self-signed here: its key is made or imported."""
        if self.draft.format == "notary":
            return {k: v for k, v in LOCATIONS.items() if k in NOTARY_LOCATIONS}
        return LOCATIONS

    def _location(self) -> str:
        for key in self._locations():
            if self.query_one(f"#loc-{key}", RadioButton).value:
                return key
        return "file"

    def _show_fields(self) -> None:
        where = self._location()
        for selector in ("#type-label", "#keytype"):
            self.query_one(selector).display = where in _GENERATED
        for selector in ("#pass-label", "#passphrase"):
            self.query_one(selector).display = where in _WITH_PASSPHRASE
        label = _PASS_LABELS.get(where, "").format(name=self.draft.holders[self.index].name)
        self.query_one("#pass-label", Label).update(label)
        for selector in ("#path-label", "#path"):
            self.query_one(selector).display = where in _WITH_PATH
        for selector in ("#token-hint", "#token-label", "#token-key"):
            self.query_one(selector).display = where == "pkcs11"
        self.query_one("#where-note", Static).update(_NOTES.get(where, ""))

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._show_fields()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field of the location; in its last field it creates."""
        event.stop()
        if event.input.has_class("first"):
            self.query_one("#passphrase .second", Input).focus()
        elif event.input.id == "path" and self._location() == "import":
            self.query_one("#passphrase .first", Input).focus()
        elif event.input.id == "token-label":
            self.query_one("#token-key", Input).focus()
        elif not self.busy:
            self._make()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if not self.pause_or_abort(event):
            self._make()

    def _make(self) -> None:
        where = self._location()
        args: dict[str, Any] = {"location": where, "keytype": "ed25519"}
        if where in _WITH_PASSPHRASE:
            passphrase, why = self.query_one(NewPassphrase).value()
            if passphrase is None:
                self.query_one("#result", Static).update(why)
                return
            args["passphrase"] = passphrase
        if where in _GENERATED:
            args["keytype"] = str(self.query_one("#keytype", Select).value)
        elif where in _WITH_PATH:
            args["path"] = self.query_one("#path", Input).value
        else:
            args["token_label"] = self.query_one("#token-label", Input).value or None
            key = self.query_one("#token-key", Input).value
            args["token_key_id"] = int(key) if key.isdigit() else None
        self.busy = True
        self.query_one("#result", Static).update("creating the key…")
        self.make_key(args)

    @work(thread=True, exclusive=True, group="holder", exit_on_error=False, name="key")
    def make_key(self, args: dict[str, Any]) -> None:
        draft = self.ceremony_app.new_root.holder_key(self.draft, self.index, **args)
        self.app.call_from_thread(self._made, draft)

    def _made(self, draft: NewRootDraft) -> None:
        self.query_one(NewPassphrase).clear()
        self.dismiss(draft)
