"""The CLI's own words for structured status findings (the TUI phrases its own).

Also groups findings equal but for their role: 256 bins that all say "v1 < v2"
become one line naming how many roles and which.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # verify uses the grouping here without loading tuf (status does)
    from trustkeep.core.tuf_repo.status import StatusIssue

__all__ = ["group_roles", "grouped_lines", "issue_doc", "issue_text", "left_text", "name_directory"]

T = TypeVar("T")


_DIR = re.compile(r"\bDIR\b")


def name_directory(text: str, directory: object) -> str:
    """The advice with the repository's own path where the phrases say ``DIR``."""
    import shlex

    return _DIR.sub(lambda _m: shlex.quote(str(directory)), text)


def left_text(days: int, hours: int) -> str:
    """``12d`` for days, ``23h`` under a day, ``expired`` once past."""
    if hours < 0:
        return "expired"
    return f"{days}d" if days >= 1 else f"{hours}h"


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if isinstance(value, datetime) else str(value)


def _phrase(issue: StatusIssue, *, grouped: bool = False) -> str:
    from trustkeep.core.tuf_repo.status import StatusCode

    v = issue.values
    code = issue.code
    if code in (StatusCode.THRESHOLD_NOT_MET, StatusCode.UNSIGNED):
        label = "keys" if grouped else v.get("label")
        text = f"{label}: {v.get('signed')} of {v.get('threshold')} signatures"
        waiting = v.get("waiting") or ()
        if isinstance(waiting, tuple) and waiting:
            text += f" — still to sign: {', '.join(str(w) for w in waiting)}"
        return text
    if code is StatusCode.EXPIRED:
        return f"expired on {_when(v.get('expires'))}"
    if code is StatusCode.EXPIRES_SOON:
        days, hours = int(str(v.get("days_left", 0))), int(str(v.get("hours_left", 0)))
        left = f"{days} day(s)" if days >= 1 else f"{hours} hour(s)"
        return f"expires in {left}, on {_when(v.get('expires'))}"
    if code is StatusCode.MISSING_ROLE:
        return "delegated but its metadata file is missing"
    if code is StatusCode.STALE_RECORD:
        recorded = v.get("recorded")
        what = f"v{recorded}" if recorded else "nothing"
        by = v.get("recorded_by")
        return (
            f"{by} records {what}, the file is v{v.get('version')}: "
            f"run `trustkeep {by} DIR` (or `trustkeep refresh DIR`)"
        )
    if code is StatusCode.SNAPSHOT_HASH_MISMATCH:
        return (
            "the length or hash it records for snapshot.json does not match the file "
            "(was snapshot signed again?): run `trustkeep timestamp DIR`"
        )
    if code is StatusCode.THRESHOLD_ABOVE_KEYS:
        return f"threshold {v.get('threshold')} > its {v.get('keys')} key(s)"
    if code is StatusCode.THRESHOLD_EQUALS_KEYS:
        return (
            f"threshold {v.get('threshold')} equals its {v.get('keys')} key(s): "
            "one lost key means a new root"
        )
    if code is StatusCode.KEY_SHARED_ONLINE_OFFLINE:
        online = ", ".join(map(str, v.get("online") or ()))  # type: ignore[call-overload]
        offline = ", ".join(map(str, v.get("offline") or ()))  # type: ignore[call-overload]
        return (
            f"key {v.get('key')} is shared by online role(s) {online} and offline role(s) {offline}"
        )
    if code is StatusCode.KEYID_NOT_HASH:
        keyid = str(v.get("keyid"))[:16]
        return f"keyid {keyid}… is not the sha256 of its key (some clients reject it)"
    if code is StatusCode.TWINS_DIFFER:
        files = " and ".join(map(str, v.get("files") or ()))  # type: ignore[call-overload]
        return (
            f"{files} are different files for the same version (verify rejects this); "
            "put staged changes in with `trustkeep merge DIR FILE`, never over published files"
        )
    if code is StatusCode.ROOT_CHAIN_BROKEN:
        n = int(str(v.get("version")))
        if v.get("missing"):
            return (
                f"{v.get('file')} is missing between older and newer root files: the chain "
                "of roots breaks there (verify says so too)"
            )
        return (
            f"{v.get('file')} is not signed by a threshold of root v{n - 1}'s keys and of its "
            "own: clients reject it (verify too); signatures go on DIR/staged/root.json, "
            "never into published files"
        )
    if code is StatusCode.STAGED:
        waiting = ", ".join(map(str, v.get("waiting") or ()))  # type: ignore[call-overload]
        state = "signatures complete" if v.get("complete") else f"still to sign: {waiting}"
        return f"v{v.get('version')} staged, not published: {state}"
    if code is StatusCode.NOT_PUBLISHED:
        staged = ", ".join(map(str, v.get("staged") or ()))  # type: ignore[call-overload]
        return (
            f"nothing is published yet (staged: {staged}); "
            "`trustkeep publish DIR` once every staged role is signed"
        )
    return code.value


def issue_text(issue: StatusIssue) -> str:
    """One finding as the CLI says it: ``"root: root v2 keys: 1 of 2 … "``."""
    text = _phrase(issue)
    return f"{issue.role}: {text}" if issue.role else text


def _plain(value: object) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def issue_doc(issue: StatusIssue) -> dict[str, Any]:
    return {
        "code": issue.code.value,
        "role": issue.role,
        "values": {k: _plain(v) for k, v in issue.values.items()},
        "message": issue_text(issue),
    }


_BIN = re.compile(r"^(.+)-[0-9a-f]+$")


def family(role: str | None) -> str | None:
    """``bins-1f`` -> ``bins``: roles that differ only by a hex or decimal suffix group."""
    if role is None:
        return None
    m = _BIN.match(role)
    return m.group(1) if m else role


def group_roles(roles: Sequence[str]) -> str:
    """``bins-00 … bins-ff`` for many roles sharing a prefix, else the names."""
    if len(roles) <= 3:
        return ", ".join(roles)
    prefixes = {r.rsplit("-", 1)[0] for r in roles}
    if len(prefixes) == 1:
        return f"{roles[0]} … {roles[-1]}"
    return f"{', '.join(roles[:3])}, …"


def grouped(
    items: Sequence[T], key: Callable[[T], object], role: Callable[[T], str | None]
) -> list[tuple[T, list[str]]]:
    """Items equal by ``key`` together (first item, the roles), in first-seen order."""
    groups: dict[object, tuple[T, list[str]]] = {}
    for item in items:
        k = key(item)
        if k not in groups:
            groups[k] = (item, [])
        r = role(item)
        if r is not None:
            groups[k][1].append(r)
    return list(groups.values())


def grouped_lines(issues: Sequence[StatusIssue], *, expand: bool, min_group: int = 4) -> list[str]:
    """One line per finding, or per group of ``min_group`` or more findings equal but for
    their role ("256 roles (bins-00 … bins-ff): expires in 3d, …")."""
    if expand:
        return [issue_text(i) for i in issues]
    out: list[str] = []

    def key(i: StatusIssue) -> object:
        return i.group_key(), family(i.role)

    for first, roles in grouped(issues, key, lambda i: i.role):
        if len(roles) >= min_group:
            out.append(f"{len(roles)} roles ({group_roles(roles)}): {_phrase(first, grouped=True)}")
        else:
            out += [issue_text(i) for i in issues if key(i) == key(first)]
    return out
