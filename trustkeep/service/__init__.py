"""The one service API over the core and the adapters; the only thing front ends call.

``Service`` is a facade: each area lives in its own module and is built lazily,
so a command only imports what it uses.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from trustkeep.core.progress import Progress, no_progress
from trustkeep.core.secrets import SecretsHandler

if TYPE_CHECKING:
    from trustkeep.service._signer_pool import SignerPool
    from trustkeep.service.evacuate import EvacuateService
    from trustkeep.service.keys import KeyService
    from trustkeep.service.migrate import MigrateService
    from trustkeep.service.pins import PinService
    from trustkeep.service.pull import PullService
    from trustkeep.service.repo import RepoService
    from trustkeep.service.staging import StagingService
    from trustkeep.service.verify import VerifyService

__all__ = ["Service"]


class Service:
    """Entry point for the CLI and the TUI: ``Service(home, secrets_handler)``."""

    def __init__(
        self, home: Path, secrets_handler: SecretsHandler, progress: Progress = no_progress
    ) -> None:
        self.home = home
        self.secrets_handler = secrets_handler
        #: where long work (bins, big ``targets add``, verification) reports its progress
        self.progress = progress

    def _report(self, task: str, done: int, total: int) -> None:
        self.progress(task, done, total)

    @cached_property
    def keys(self) -> KeyService:
        from trustkeep.service.keys import KeyService

        return KeyService(self.home, self.secrets_handler)

    @cached_property
    def repo(self) -> RepoService:
        from trustkeep.service.repo import RepoService

        return RepoService(self.keys, progress=self._report)

    def signers_ahead(self, directory: Path, role: str) -> SignerPool:
        """Signers for ``role`` of the repository in ``directory``, their keys already
        unlocking in threads: call it before :attr:`repo` so that the key derivation runs
        while the repository code loads, and hand the pool to the write
        (``repo.timestamp(..., pool=...)``). The keys are taken from root.json as a hint
        only; the write verifies its root and signs with the keys that root names."""
        from trustkeep.service._signer_pool import keys_ahead

        return keys_ahead(self.keys, directory, role)

    @cached_property
    def staging(self) -> StagingService:
        """The staging area of repositories (also reached as ``repo.staging``)."""
        return self.repo.staging

    @cached_property
    def verify(self) -> VerifyService:
        from trustkeep.service.verify import VerifyService

        return VerifyService(progress=self._report)

    @cached_property
    def pins(self) -> PinService:
        from trustkeep.service.pins import PinService

        return PinService(self.keys, self.verify)

    @cached_property
    def evacuate(self) -> EvacuateService:
        from trustkeep.service.evacuate import EvacuateService

        return EvacuateService(self.verify, self.secrets_handler)

    @cached_property
    def migrate(self) -> MigrateService:
        from trustkeep.service.migrate import MigrateService

        return MigrateService(self.keys, self.verify)

    @cached_property
    def pull(self) -> PullService:
        from trustkeep.service.pull import PullService

        return PullService()
