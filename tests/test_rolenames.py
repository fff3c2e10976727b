"""Role names map to file names inside the directory, as python-tuf's client expects."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustkeep.core.rolenames import role_filename, validate_tuf_role_name
from trustkeep.errors import InputError


@pytest.mark.parametrize(
    ("role", "version", "expected"),
    [
        ("targets", None, "targets.json"),
        ("bins-0a", 3, "3.bins-0a.json"),
        ("a/../b", 3, "3.a%2F..%2Fb.json"),
        ("/etc/passwd", None, "%2Fetc%2Fpasswd.json"),
        ("..", None, "...json"),
        ("déjà", 1, "1.d%C3%A9j%C3%A0.json"),
    ],
)
def test_role_filename(role: str, version: int | None, expected: str) -> None:
    name = role_filename(role, version)
    assert name == expected
    assert "/" not in name
    # python-tuf's ngclient builds the same name: quote(role, "") + ".json"
    assert name.endswith(f"{quote(role, '')}.json")


@pytest.mark.parametrize("bad", ["", "a\x00b", "tab\there", "x" * 256])
def test_invalid_role_names_refused(bad: str) -> None:
    with pytest.raises(InputError):
        validate_tuf_role_name(bad)


@settings(max_examples=300, derandomize=True)
@given(role=st.text(max_size=12) | st.from_regex(r"[A-Za-z0-9_.~-]{0,12}", fullmatch=True),
       version=st.none() | st.integers(1, 10**6))  # fmt: skip
def test_role_filename_is_the_quoted_name(role: str, version: int | None) -> None:
    """Names of unreserved characters skip ``quote``: the same file names either way."""
    name = f"{quote(role, safe='')}.json"
    assert role_filename(role, version) == (name if version is None else f"{version}.{name}")
