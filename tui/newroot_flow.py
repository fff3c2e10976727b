"""The new-root ceremony as a sequence of screens, each dismissing with its result.

Runs as an async worker of the home screen: ``push_screen_wait`` hands each step's
result to the next. A step dismissed with None stops the flow; its saved draft (if
any) is resumed from the home screen. Nothing is decided here: the screens call the
``NewRootService``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from trustkeep.service.ceremony_newroot import NewRootDraft

if TYPE_CHECKING:
    from .app import CeremonyApp

__all__ = ["run_new_root"]


async def run_new_root(
    app: CeremonyApp, draft: NewRootDraft | None, done: Callable[[str], None]
) -> None:
    from .holder_screen import HolderKeyScreen
    from .newroot_review_screen import NewRootReviewScreen
    from .newroot_screen import NewRootScreen
    from .pins_screen import PinsScreen
    from .rolekeys_screen import RoleKeysScreen

    if draft is None:
        draft = await app.push_screen_wait(NewRootScreen())
        if draft is None:
            done("new root: left before anything was saved")
            return
    while (index := draft.next_holder) is not None:
        step = await app.push_screen_wait(HolderKeyScreen(draft, index))
        if step is None:
            done(f"new root {draft.ceremony_id}: stopped at holder {index + 1}; nothing written")
            return
        draft = step
    if draft.needs_role_keys:
        step = await app.push_screen_wait(RoleKeysScreen(draft))
        if step is None:
            done(f"new root {draft.ceremony_id}: stopped before the role keys; nothing written")
            return
        draft = step
    result = await app.push_screen_wait(NewRootReviewScreen(draft))
    if result is None:
        done(f"new root {draft.ceremony_id}: stopped at the review; nothing written")
        return
    app.actions.append(f"new {draft.format} root written in {draft.directory}")
    await app.push_screen_wait(PinsScreen(draft, result))
    done(f"new root written in {draft.directory}")
