"""What a verification takes from ``--previous``: trusted state, as a client's cache is.

The newest root there is the anchor when no other is given; a previous timestamp
or snapshot counts for rollback checks only while it still verifies under the
final root (spec §5.3.11, fast-forward attack recovery).
"""

from __future__ import annotations

from collections.abc import Mapping

from trustkeep.core.rolenames import versioned_name as _versioned
from trustkeep.core.rolenames import versioned_root_version
from trustkeep.core.verify._envelope import Envelope, Malformed, parse_envelope, peek_version
from trustkeep.core.verify._tufmodel import (
    MetaFile,
    RootInfo,
    count_signatures,
    parse_meta,
    python_tuf_form,
)
from trustkeep.core.verify._tufrun import TufChecks
from trustkeep.core.verify.report import Anchor

__all__ = ["PreviousState", "latest_root", "meta_or_none"]


def latest_root(files: Mapping[str, bytes]) -> str | None:
    """The newest root of a directory: its highest ``N.root.json``, else ``root.json``."""
    versions = {v: n for n in files if (v := versioned_root_version(n)) is not None}
    if versions:
        best = versions[max(versions)]
        plain = peek_version(files.get("root.json"), name="root.json")
        return "root.json" if plain is not None and plain > max(versions) else best
    return "root.json" if "root.json" in files else None


class PreviousState(TufChecks):
    """The ``--previous`` checks of a TUF run."""

    _plain_root: int | None = None

    def _behind_previous(self, anchor: Anchor, candidates: dict[int, str], version: int) -> None:
        """Anchored on ``--previous``: a directory whose roots are all older is reported."""
        own = [*candidates, *([self._plain_root] if self._plain_root is not None else [])]
        if anchor.kind == "previous" and own and max(own) < version:
            self.warning(
                "rollback",
                "root",
                f"the newest root here is v{max(own)}; root v{version} comes from --previous "
                "(a client keeps its trusted root)",
                expected=version,
                found=max(own),
            )

    def _root_rollback(self, version: int) -> None:
        if self.previous is None:
            return
        prev = [v for n in self.previous.files if (v := versioned_root_version(n)) is not None]
        raw = self.previous.files.get("root.json")
        if raw is not None and (v := peek_version(raw, name="root.json")) is not None:
            prev.append(v)
        if prev and max(prev) > version:
            self.error(
                "rollback",
                "root",
                f"root is v{version}, previously trusted metadata has root v{max(prev)}",
                expected=max(prev),
                found=version,
            )

    def _snapshot_rollback(
        self, meta: dict[str, MetaFile], prev: dict[str, MetaFile] | None, name: str
    ) -> None:
        for filename, old in (prev or {}).items():
            role = filename.removesuffix(".json")
            new = meta.get(filename)
            if new is None:
                self.error(
                    "rollback",
                    role,
                    f"snapshot no longer lists {filename} (previously v{old.version})",
                    file=name,
                    expected=old.version,
                )
            elif new.version < old.version:
                self.error(
                    "rollback",
                    role,
                    f"snapshot records {filename} v{new.version}, previously v{old.version}",
                    file=name,
                    expected=old.version,
                    found=new.version,
                )

    def _previous_trusted(self, filename: str, role: str, root: RootInfo) -> Envelope | None:
        """The previously trusted ``filename``, if it still verifies under the final root.

        Spec §5.3.11 (fast-forward attack recovery), as python-tuf's Updater loads its
        cache: after the role's keys rotate, the old file no longer verifies, so it is
        not used for rollback checks and the repository may restart at low versions.
        """
        if self.previous is None:
            return None
        name = filename if filename in self.previous.files else None
        if name is None:
            versions = [
                (p[0], n)
                for n in self.previous.files
                if (p := _versioned(n)) is not None and p[1] == filename
            ]
            if not versions:
                return None
            name = max(versions)[1]
        where = f"--previous {name}"
        try:
            env = parse_envelope(self.previous.files[name], name=where)
        except Malformed:
            return None
        env = Envelope(env.name, env.raw, python_tuf_form(env.signed), env.signatures)
        keys = root.roles[role]
        if len(count_signatures(env, keys, root.keys)) < keys.threshold:
            self.warning(
                "rollback",
                role,
                f"{where} is not signed by root v{root.header.version}'s {role} keys: "
                "not used for rollback checks (fast-forward attack recovery, spec §5.3.11)",
                file=where,
            )
            return None
        return env

    def _no_rollback(self, role: str, version: int, prev: Envelope, name: str) -> None:
        old = prev.signed.get("version")
        if isinstance(old, int) and not isinstance(old, bool) and old > version:
            self.error(
                "rollback",
                role,
                f"{role} is v{version}, previously trusted v{old}",
                file=name,
                expected=old,
                found=version,
            )


def meta_or_none(env: Envelope, kind: str) -> dict[str, MetaFile] | None:
    try:
        return parse_meta(env.signed, kind, where=env.name)
    except Malformed:
        return None
