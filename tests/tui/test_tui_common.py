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
