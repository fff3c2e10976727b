"""The renderings the ceremony screens share (tui/_common.py): named case tables."""

from __future__ import annotations

import pytest
from trustkeep_tui._common import diff_text, failure_text, written_text
from trustkeep_tui.messages import ActionFailed

from trustkeep.errors import InputError

FAILURES = {
    "status screen, no hint": (
        ("status", "no such repository directory: /r", None),
        {},
        "status failed: no such repository directory: /r",
    ),
    "sign screen, with hint": (
        ("sign", "wrong passphrase for key ab (bob)", "try again"),
        {"outcome": "; nothing was written"},
        "sign failed: wrong passphrase for key ab (bob); nothing was written (hint: try again)",
    ),
    "checklist, stopped": (
        ("re-sign", "targets: no key", "import it"),
        {"verb": "stopped"},
        "re-sign stopped: targets: no key (hint: import it)",
    ),
    "markup is kept as typed": (("sign", "[b]x[/b]", ""), {}, "sign failed: [b]x[/b]"),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
def test_failure_text(case: str) -> None:
    args, options, expected = FAILURES[case]
    action, message, hint = args
    failed = ActionFailed(action, InputError(message, hint or None))
    assert failure_text(failed, **options) == expected


def test_written_text_names_the_next_step() -> None:
    assert written_text(["targets v2", "snapshot v2"], 3) == (
        "written:\ntargets v2\nsnapshot v2\nnext: step 3 on the status screen"
    )
    assert written_text([], 4) == "written:\nnext: step 4 on the status screen"


DIFF_STYLES = {
    "added": ("+ key carol (1a2b3c4d) added to root", "green"),
    "removed": ("- key bob (5e6f7a8b) removed from root", "red"),
    "changed": ("~ root threshold 2 -> 3", "yellow"),
    "plain": ("root version 2", ""),
    "sign without a space is plain": ("+1 more", ""),
    "markup is not parsed": ("[red]root[/red]", ""),
}


@pytest.mark.parametrize("case", DIFF_STYLES, ids=list(DIFF_STYLES))
def test_diff_text_styles(case: str) -> None:
    line, style = DIFF_STYLES[case]
    text = diff_text(["first line", line])
    assert text.plain == f"first line\n{line}\n"
    styled = [(text.plain[s.start : s.end], str(s.style)) for s in text.spans]
    assert styled == ([(line + "\n", style)] if style else [])


# -- the new-passphrase widget follows the CLI's one rule -----------------------------------

PASSPHRASES = {
    "empty": ("", ""),
    "too short": ("abc", "abc"),
    "long, confirmed": ("violet-otter-harbour-1987", "violet-otter-harbour-1987"),
    "long, differs": ("violet-otter-harbour-1987", "violet-otter-harbour-1988"),
}


@pytest.mark.parametrize("case", PASSPHRASES, ids=list(PASSPHRASES))
def test_new_passphrase_widget_uses_the_cli_rule(case: str) -> None:
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import Input, Static
    from trustkeep_tui.widgets import NewPassphrase

    from trustkeep.core.passphrase_strength import estimate_strength
    from trustkeep.core.secrets import MIN_PASSPHRASE_LENGTH, weak_passphrase_reason

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield NewPassphrase()

    first, second = PASSPHRASES[case]

    async def fill() -> tuple[str, str | None, str]:
        async with One().run_test() as pilot:
            widget = pilot.app.query_one(NewPassphrase)
            widget.query_one(".first", Input).value = first
            widget.query_one(".second", Input).value = second
            await pilot.pause()
            shown = str(widget.query_one(".strength", Static).render())
            value, why = widget.value()
            return shown, value, why

    shown, value, why = asyncio.run(fill())
    refused = weak_passphrase_reason(first, min_length=MIN_PASSPHRASE_LENGTH)
    if not first:
        assert (value, why) == (None, "type a passphrase")
    elif refused is not None:
        assert (value, why) == (None, refused) and refused in shown
    elif first != second:
        assert value is None and "differ" in why and "differ" in shown
    else:
        assert value == first and estimate_strength(first).describe() in shown
    assert not first or first not in shown  # the passphrase itself is never rendered
