"""The help screen: what each screen does and its keys."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen"]

HELP = """trustkeep ceremony — keys

Everywhere: Tab / Shift+Tab move the focus (the focused widget is highlighted),
Enter activates, Escape goes back, F1 this help, Ctrl+T light/dark theme,
Ctrl+Q quits. The footer lists the keys of the screen you are on.

Home: n new root ceremony, o open a repository (type its directory), v verify,
e expiry dashboard; the right column lists repositories opened before and
unfinished ceremonies (u goes to them, Enter resumes, x aborts one: nothing
is written).

New root: plan (directory, format, holders, threshold, expiries) → one screen
per holder (where the key lives, passphrase typed twice, strength shown) →
targets/online keys → review (tick "I have read", then Sign and write) → pins
(Save writes each block). Pause keeps the draft for later; Abort forgets it.

Repository status: s sign the selected role, g signing queue, e re-sign due
roles, k root rotation, d delegations, / filter, r reload. Every write
shows its review first and needs an explicit button press; root is never
ticked for you.

Root rotation: Space ticks root keys to remove and store keys to add, a
holder's public key file joins by path; threshold and expiry; review, then
the new root is staged and a panel shows who has signed the old and the new
root, with Sign buttons for this store's keys, merge of travelled copies,
and Publish once both thresholds are met.

Delegations: a add a role, k / x add / remove keys of the selected role,
t its threshold, b hashed bins, Delete remove the role, / filter by name or
state; Space opens a collapsed group of bins.

Expiry dashboard: / filter, Enter re-signs the repository of the row.
Verify: type a directory or archive and an anchor, Enter runs; Enter on a
finding jumps to its role in the chain tree.

Every step is recorded in the transcript (JSON lines, hash-chained, plus a
Markdown rendering); check it with: trustkeep transcript verify FILE.
Passphrases are never shown, logged or recorded.
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("f1", "close", "Close"),
        Binding("q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(HELP, id="help-text", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
