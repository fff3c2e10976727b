"""The new-root ceremony as a sequence of screens, each dismissing with its result.

Each step's result is handed to the next through ``push_screen`` callbacks: a step
dismissed with None stops the flow; its saved draft (if any) is resumed from the home
screen. Nothing is decided here: the screens call the ``NewRootService``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from trustkeep.service.ceremony_newroot import NewRootDraft, NewRootResult

if TYPE_CHECKING:
    from .app import CeremonyApp

__all__ = ["NewRootFlow"]


class NewRootFlow:
    """``NewRootFlow(app, done).start(draft or None)``; ``done(text)`` says how it ended."""

    def __init__(self, app: CeremonyApp, done: Callable[[str], None]) -> None:
        self.app = app
        self.done = done

    def start(self, draft: NewRootDraft | None) -> None:
        from .newroot_screen import NewRootScreen

        if draft is None:
            self.app.push_screen(NewRootScreen(), self._planned)
        else:
            self._next(draft)

    def _planned(self, draft: NewRootDraft | None) -> None:
        if draft is None:
            self.app.new_root.leave_plan()
            self.done("new root: left before anything was saved")
        else:
            self._next(draft)

    def _next(self, draft: NewRootDraft) -> None:
        from .holder_screen import HolderKeyScreen
        from .newroot_review_screen import NewRootReviewScreen
        from .rolekeys_screen import RoleKeysScreen

        index = draft.next_holder
        if index is not None:
            where = f"holder {index + 1}"
            self.app.push_screen(HolderKeyScreen(draft, index), self._then(draft, where))
        elif draft.needs_role_keys:
            self.app.push_screen(RoleKeysScreen(draft), self._then(draft, "the role keys"))
        else:
            self.app.push_screen(NewRootReviewScreen(draft), lambda r: self._written(draft, r))

    def _then(self, draft: NewRootDraft, where: str) -> Callable[[NewRootDraft | None], None]:
        def step(result: NewRootDraft | None) -> None:
            if result is None:
                self.done(f"new root {draft.ceremony_id}: stopped at {where}; nothing written")
            else:
                self._next(result)

        return step

    def _written(self, draft: NewRootDraft, result: NewRootResult | None) -> None:
        from .pins_screen import PinsScreen

        if result is None:
            self.done(f"new root {draft.ceremony_id}: stopped at the review; nothing written")
            return
        self.app.actions.append(f"new {draft.format} root written in {draft.directory}")
        state = "" if result.complete else " (staged: waiting for signatures)"
        self.app.push_screen(
            PinsScreen(draft, result),
            lambda _r: self.done(f"new root written in {draft.directory}{state}"),
        )
