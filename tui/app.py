"""The ceremony app: the ``Service`` is injected; screens route work to it."""

from __future__ import annotations

from concurrent.futures import Future
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from trustkeep.errors import InputError, TrustkeepError
from trustkeep.service import Service
from trustkeep.service.ceremony_home import CeremonyHome

from .home_screen import HomeScreen
from .passphrase import PassphraseModal
from .secrets import TuiSecrets

if TYPE_CHECKING:  # the repository and key sides load after the first frame, when used
    from trustkeep.service.ceremony import CeremonyService
    from trustkeep.service.ceremony_newroot import NewRootService

__all__ = ["CeremonyApp"]


class CeremonyApp(App[None]):
    """``CeremonyApp(service, secrets, directory=None, transcript=None)``.

    ``secrets`` is the handler ``service`` was built with. Without a directory the
    home screen opens; with one, that repository's status screen opens over it.
    """

    CSS_PATH = "app.tcss"
    TITLE = "trustkeep ceremony"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    def __init__(
        self,
        service: Service,
        secrets: TuiSecrets,
        *,
        directory: Path | None = None,
        transcript: Path | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.secrets = secrets
        self.home = CeremonyHome(service, transcript=transcript)
        self.start_directory = directory
        self._ceremony: CeremonyService | None = None
        self._pending: set[Future[str | None]] = set()
        self._closing = False
        #: what was signed or written in this session (for the CLI's --json summary)
        self.actions: list[str] = []

    @cached_property
    def new_root(self) -> NewRootService:
        """New-root ceremonies (built on first use: the home screen's loader, a worker)."""
        from trustkeep.service.ceremony_newroot import NewRootService

        return NewRootService(self.service, self.home)

    @property
    def ceremony(self) -> CeremonyService:
        if self._ceremony is None:
            raise InputError("no repository is open")
        return self._ceremony

    @property
    def transcript_errors(self) -> list[str]:
        return self.home.all_transcript_errors()

    def on_mount(self) -> None:
        self.secrets.bind(self._ask_from_thread)
        self.home.record("session opened", key_store=str(self.service.home))
        self.push_screen(HomeScreen())
        if self.start_directory is not None:
            self.open_repository(self.start_directory)

    def on_unmount(self) -> None:
        self._closing = True
        self.secrets.bind(None)
        for future in list(self._pending):  # a worker waiting on a modal gets "cancelled"
            if not future.done():
                future.set_result(None)
        self.home.record("session closed", actions=len(self.actions))

    def open_repository(self, directory: Path) -> bool:
        """Open the status screen of ``directory`` (read here: errors are shown, not raised)."""
        from .status_screen import StatusScreen

        try:
            self._ceremony = self.home.open(directory)
        except TrustkeepError as e:
            self.notify(e.message, severity="error", markup=False)
            return False
        self.sub_title = str(directory)
        self.push_screen(StatusScreen())
        return True

    def action_help(self) -> None:
        from .help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

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
        from .status_screen import StatusScreen

        self.actions.append(text)
        for screen in self.screen_stack:
            if isinstance(screen, StatusScreen):
                screen.note(text)
