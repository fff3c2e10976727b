"""What the ceremony screens share: the typed app, the one worker-failure handler, the
Back rule, and how results render."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from trustkeep.errors import TrustkeepError

from .messages import ActionFailed, StatusLoaded

if TYPE_CHECKING:
    from trustkeep.core.keys import KeyEntry
    from trustkeep.service.ceremony import CeremonyService

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

R = TypeVar("R")


class CeremonyScreen(Screen[R]):
    """A screen of the ceremony app; ``ceremony_app`` is the app, typed.

    Workers run with ``exit_on_error=False`` and never catch errors themselves: the one
    ``Worker.StateChanged`` handler below turns a :class:`TrustkeepError` into
    :class:`ActionFailed` (the action is the worker's name); anything else is a bug and
    is raised again so that the app stops with it.
    """

    @property
    def ceremony_app(self) -> CeremonyApp:
        from .app import CeremonyApp

        assert isinstance(self.app, CeremonyApp)
        return self.app

    @property
    def ceremony(self) -> CeremonyService:
        """The repository opened last (screens of one repository)."""
        return self.ceremony_app.ceremony

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        event.stop()
        error = event.worker.error
        if isinstance(error, TrustkeepError):
            self.post_message(ActionFailed(event.worker.name, error))
        elif error is not None:
            raise error

    def on_action_failed(self, message: ActionFailed) -> None:
        """Default rendering; screens with a result line render it there instead."""
        self.notify(failure_text(message), severity="error", markup=False)

    def post_status(self) -> None:
        """Load the status view (from a thread worker): posts StatusLoaded."""
        self.post_message(StatusLoaded(self.ceremony.status()))


class FlowScreen(CeremonyScreen[R | None]):
    """A flow: Escape goes back (dismissing with None), unless a write is under way."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def action_back(self) -> None:
        if not self.busy:
            self.dismiss(None)


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
