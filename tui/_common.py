"""What the ceremony screens share: the typed app, the Back rule, and how results render."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets.option_list import Option

from trustkeep.core.keys import KeyEntry
from trustkeep.errors import TrustkeepError

from .messages import ActionFailed, StatusLoaded

if TYPE_CHECKING:
    from .app import CeremonyApp

__all__ = [
    "CeremonyScreen",
    "FlowScreen",
    "diff_text",
    "failure_text",
    "key_option",
    "written_text",
]

_DIFF_STYLES = {"+ ": "green", "- ": "red", "~ ": "yellow"}


class CeremonyScreen(Screen[None]):
    """A screen of the ceremony app; ``ceremony_app`` is the app, typed."""

    @property
    def ceremony_app(self) -> CeremonyApp:
        from .app import CeremonyApp

        assert isinstance(self.app, CeremonyApp)
        return self.app

    def post_status(self) -> None:
        """Load the status view (from a thread worker): posts StatusLoaded or ActionFailed."""
        try:
            view = self.ceremony_app.ceremony.status()
        except TrustkeepError as e:
            self.post_message(ActionFailed("status", e.message, e.hint))
            return
        self.post_message(StatusLoaded(view))


class FlowScreen(CeremonyScreen):
    """A flow opened from the status screen: Escape goes back, unless a write is under way."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def action_back(self) -> None:
        if not self.busy:
            self.app.pop_screen()


def failure_text(message: ActionFailed, *, verb: str = "failed", outcome: str = "") -> str:
    """``"<action> <verb>: <message><outcome> (hint: <hint>)"``; no hint part without a hint."""
    text = f"{message.action} {verb}: {message.message}{outcome}"
    if message.hint:
        text += f" (hint: {message.hint})"
    return text


def written_text(lines: Sequence[str], step: int) -> str:
    """What a write produced, one line per change, and the checklist step that comes next."""
    return "\n".join(["written:", *lines, f"next: step {step} on the status screen"])


def diff_text(lines: Iterable[str]) -> Text:
    """Review lines, ``+ `` green, ``- `` red, ``~ `` yellow (plain text: never markup)."""
    text = Text()
    for line in lines:
        text.append(line + "\n", style=_DIFF_STYLES.get(line[:2], ""))
    return text


def key_option(entry: KeyEntry) -> Option:
    """A key of this store as an option: ``1a2b3c4d (bob)  ed25519``, id the keyid."""
    return Option(f"{entry.label()}  {entry.keytype}", id=entry.keyid)
