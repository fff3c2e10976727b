"""The ceremony app: the service is injected; screens route work to it."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from textual.app import App

from trustkeep.errors import TrustkeepError
from trustkeep.service.ceremony import CeremonyService

from .messages import TranscriptFailed
from .passphrase import PassphraseModal
from .secrets import TuiSecrets
from .status_screen import StatusScreen

__all__ = ["CeremonyApp"]


class CeremonyApp(App[None]):
    """``CeremonyApp(ceremony, secrets)``: ``secrets`` is the handler the service was built with."""

    CSS_PATH = "ceremony.tcss"
    TITLE = "trustkeep ceremony"

    def __init__(self, ceremony: CeremonyService, secrets: TuiSecrets) -> None:
        super().__init__()
        self.ceremony = ceremony
        self.secrets = secrets
        self._pending: set[Future[str | None]] = set()
        self._closing = False
        #: transcript lines that could not be written (shown on exit by the CLI)
        self.transcript_errors: list[str] = []
        #: what was signed or re-signed in this session (for the CLI's --json summary)
        self.actions: list[str] = []

    @property
    def directory(self) -> Path:
        return self.ceremony.directory

    def on_mount(self) -> None:
        self.sub_title = str(self.directory)
        self.secrets.bind(self._ask_from_thread)
        self.record("opened", f"key store {self.ceremony.service.home}")
        self.push_screen(StatusScreen())

    def on_unmount(self) -> None:
        self._closing = True
        self.secrets.bind(None)
        for future in list(self._pending):  # a worker waiting on a modal gets "cancelled"
            if not future.done():
                future.set_result(None)
        self.record("closed", f"{len(self.actions)} signing action(s)")

    def record(self, action: str, detail: str) -> None:
        """Append a transcript line (any thread); a failure is kept and shown, not raised."""
        try:
            self.ceremony.record(action, detail)
        except TrustkeepError as e:
            self.transcript_errors.append(e.message)
            self.post_message(TranscriptFailed(e.message))

    def on_transcript_failed(self, message: TranscriptFailed) -> None:
        self.notify(f"transcript not written: {message.message}", severity="error", markup=False)

    # -- secrets: a modal asked from a worker thread ----------------------------------

    def _ask_from_thread(self, name: str) -> str | None:
        """Called by the service from a worker thread: blocks until the modal is dismissed."""
        answer: Future[str | None] = Future()
        self.call_from_thread(self.ask_secret, name, answer)
        return answer.result()

    def ask_secret(self, name: str, answer: Future[str | None]) -> None:
        """Show the passphrase modal; ``answer`` gets the secret, or None when cancelled."""
        if self._closing:  # never leave a worker thread waiting on a modal nobody sees
            answer.set_result(None)
            return
        self._pending.add(answer)

        def done(value: str | None) -> None:
            self._pending.discard(answer)
            if not answer.done():
                answer.set_result(value)

        self.push_screen(PassphraseModal(name), callback=done)

    # -- what the screens report -------------------------------------------------------

    def note(self, text: str) -> None:
        """A signing action happened: remember it and let the status screen reload."""
        self.actions.append(text)
        for screen in self.screen_stack:
            if isinstance(screen, StatusScreen):
                screen.note(text)
