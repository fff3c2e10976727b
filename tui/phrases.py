"""The TUI's own words for structured status findings (advice names screens and keys,
never a CLI command)."""

from __future__ import annotations

from datetime import datetime

from trustkeep.core.tuf_repo.status import StatusCode, StatusIssue

__all__ = ["issue_text"]


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") + "Z" if isinstance(value, datetime) else str(value)


def _seq(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, tuple | list) else str(value)


def _phrase(issue: StatusIssue) -> str:
    v = issue.values
    code = issue.code
    if code in (StatusCode.THRESHOLD_NOT_MET, StatusCode.UNSIGNED):
        text = f"{v.get('label')}: {v.get('signed')} of {v.get('threshold')} signatures"
        waiting = v.get("waiting") or ()
        return text + (f" — waiting for {_seq(waiting)} (press s or g)" if waiting else "")
    if code is StatusCode.EXPIRED:
        return f"expired on {_when(v.get('expires'))} — press e to re-sign"
    if code is StatusCode.EXPIRES_SOON:
        return (
            f"expires {_when(v.get('expires'))} ({v.get('days_left')} days, "
            f"{v.get('hours_left')} hours left) — press e to re-sign"
        )
    if code is StatusCode.MISSING_ROLE:
        return "delegated, but its metadata file is missing"
    if code is StatusCode.STALE_RECORD:
        return (
            f"{v.get('recorded_by')} records v{v.get('recorded') or '—'}, the file is "
            f"v{v.get('version')} — re-sign snapshot and timestamp (press e)"
        )
    if code is StatusCode.SNAPSHOT_HASH_MISMATCH:
        return "timestamp's hash of snapshot.json does not match — re-sign timestamp (press e)"
    if code is StatusCode.THRESHOLD_ABOVE_KEYS:
        return f"threshold {v.get('threshold')} is above its {v.get('keys')} key(s)"
    if code is StatusCode.THRESHOLD_EQUALS_KEYS:
        return (
            f"threshold {v.get('threshold')} of {v.get('keys')} keys: "
            "one lost key and it can never be signed again"
        )
    if code is StatusCode.KEY_SHARED_ONLINE_OFFLINE:
        return (
            f"key {v.get('key')} signs online ({_seq(v.get('online'))}) and offline "
            f"({_seq(v.get('offline'))}) roles"
        )
    if code is StatusCode.KEYID_NOT_HASH:
        return f"keyid {str(v.get('keyid'))[:16]}… is not the sha256 of its key"
    if code is StatusCode.TWINS_DIFFER:
        return f"{_seq(v.get('files'))} differ for the same version"
    if code is StatusCode.NOT_PUBLISHED:
        return (
            f"nothing published yet (staged: {_seq(v.get('staged'))}) — collect the "
            "signatures in the signing queue (g), then publish there"
        )
    if code is StatusCode.STAGED:
        return f"staged v{v.get('version')} awaits signatures or publishing (press g)"
    return code.value


def issue_text(issue: StatusIssue) -> str:
    text = _phrase(issue)
    return f"{issue.role}: {text}" if issue.role else text
