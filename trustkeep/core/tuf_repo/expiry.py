"""Expiry policy: ``--expires root=365d,targets=90d,...`` and absolute dates.

Pure: the reference time comes in as a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from trustkeep.errors import InputError

__all__ = [
    "DEFAULT_EXPIRY",
    "DELEGATED_DEFAULT",
    "ExpiryPolicy",
    "parse_duration",
    "parse_expiry_value",
]

#: Defaults per top-level role; delegated roles use ``DELEGATED_DEFAULT``.
DEFAULT_EXPIRY: Mapping[str, timedelta] = MappingProxyType(
    {
        "root": timedelta(days=365),
        "targets": timedelta(days=90),
        "snapshot": timedelta(days=7),
        "timestamp": timedelta(days=1),
    }
)
DELEGATED_DEFAULT = timedelta(days=90)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION_RE = re.compile(r"^\s*(\d{1,6})\s*([smhdwy])\s*$")
_MAX = timedelta(days=365 * 100)


def parse_duration(text: str) -> timedelta:
    """``"90d"`` -> 90 days. Units: s, m, h, d, w, y (365 d). Must be positive."""
    match = _DURATION_RE.match(text)
    if not match:
        raise InputError(
            f"bad duration {text!r}: expected a number and a unit s, m, h, d, w or y (e.g. 90d)"
        )
    delta = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if delta <= timedelta(0) or delta > _MAX:
        raise InputError(f"bad duration {text!r}: must be more than 0 and at most 100y")
    return delta


def parse_expiry_value(text: str) -> timedelta | datetime:
    """A duration (``30d``) or an absolute UTC time (``2027-01-31`` / ``2027-01-31T12:00:00Z``)."""
    if _DURATION_RE.match(text):
        return parse_duration(text)
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise InputError(
            f"bad expiry {text!r}: expected a duration like 90d or a date like 2027-01-31"
        ) from e
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ExpiryPolicy:
    """Per-role expiry: durations from now, or absolute times."""

    overrides: Mapping[str, timedelta | datetime] = field(default_factory=dict)
    default: timedelta | datetime | None = None

    @classmethod
    def parse(cls, spec: str | None, *, known_roles: tuple[str, ...] = ()) -> ExpiryPolicy:
        """``"root=365d,targets=2027-01-01"``; a bare ``"30d"`` applies to every role.

        ``known_roles`` (when given) limits which role names may be named.
        """
        if spec is None or not spec.strip():
            return cls()
        overrides: dict[str, timedelta | datetime] = {}
        default: timedelta | datetime | None = None
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            if "=" not in item:
                if default is not None:
                    raise InputError(f"--expires {spec!r}: more than one value without a role")
                default = parse_expiry_value(item)
                continue
            role, _, value = item.partition("=")
            role = role.strip()
            if known_roles and role not in known_roles:
                raise InputError(
                    f"--expires: unknown role {role!r} (expected one of {', '.join(known_roles)})"
                )
            if role in overrides:
                raise InputError(f"--expires: role {role!r} given twice")
            overrides[role] = parse_expiry_value(value)
        return cls(overrides=MappingProxyType(overrides), default=default)

    def expires(self, role: str, now: datetime) -> datetime:
        """The expiry of ``role`` as of ``now`` (UTC, whole seconds); must be after ``now``."""
        value = self.overrides.get(role, self.default)
        if value is None:
            value = DEFAULT_EXPIRY.get(role, DELEGATED_DEFAULT)
        base = now.astimezone(UTC).replace(microsecond=0)
        when = base + value if isinstance(value, timedelta) else value
        if when <= base:
            raise InputError(
                f"expiry for role {role!r} ({when:%Y-%m-%dT%H:%M:%SZ}) is not in the future"
            )
        return when
