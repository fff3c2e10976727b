"""What every TUF check shares: loading a file as python-tuf's model holds it, key findings.

Below both the chain walk (``tuf.py``) and the per-file targets checks
(``_tuftargets.py``), so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trustkeep.core.verify._envelope import Envelope, Malformed
from trustkeep.core.verify._run import Run
from trustkeep.core.verify._tufkeys import KeyCache, KeyTable
from trustkeep.core.verify._tufmodel import python_tuf_form
from trustkeep.core.verify.bundle import MetadataBundle

__all__ = ["TufChecks"]


class TufChecks(Run):
    """A :class:`Run` for TUF files, with the run's key cache."""

    def __init__(
        self,
        bundle: MetadataBundle,
        *,
        at: datetime,
        previous: MetadataBundle | None,
        keys: KeyCache | None = None,
        fast_decoder: Any = None,
    ) -> None:
        super().__init__(bundle, at=at, previous=previous, fast_decoder=fast_decoder)
        self.keys = keys or KeyCache()
        self._seen_key_findings: set[tuple[str, str]] = set()

    def load_tuf(
        self, name: str, role: str, files: Mapping[str, bytes] | None = None
    ) -> Envelope | None:
        """Parse ``name`` into the form python-tuf checks signatures over.

        Explicit nulls python-tuf's model drops, and timestamp ``meta`` entries other
        than ``snapshot.json``, are dropped before the canonical bytes are computed
        (:func:`~trustkeep.core.verify._tufmodel.python_tuf_form`).
        """
        env = self.load(name, role, files=files)
        if env is None:
            return None
        form = env.signed
        # a snapshot's form differs only where a null is written (a snapshot lists every
        # role: the search in its canonical bytes is cheaper than walking its entries)
        if form.get("_type") != "snapshot" or env.verify_with(lambda data: b"null" in data):
            form = python_tuf_form(form)
        if form is not env.signed:
            env = Envelope(env.name, env.raw, form, env.signatures)
            try:
                env.signed_bytes  # noqa: B018 - raises when there is no canonical form
            except Malformed as e:
                self.error("malformed", role, str(e), file=name)
                return None
        keyids = [s.keyid for s in env.signatures]
        if len(set(keyids)) != len(keyids):
            dup = next(k for k in keyids if keyids.count(k) > 1)
            self.error(
                "malformed",
                role,
                f"{name}: two signatures carry the same keyid (python-tuf rejects the file; "
                "a key is counted once)",
                file=name,
                keyid=dup,
            )
        return env

    def key_findings(self, table: KeyTable, role: str, where: str) -> None:
        for keyid, reason in table.unsupported.items():
            if ("unsupported", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("unsupported", keyid))
                self.warning(
                    "malformed",
                    role,
                    f"{where}: key {keyid[:16]}: {reason}; its signatures are not counted",
                    file=where,
                    keyid=keyid,
                )
        for keyid, reason in table.unknown.items():
            if ("unknown", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("unknown", keyid))
                self.error(
                    "malformed",
                    role,
                    f"{where}: key {keyid[:16]}: {reason} (TUF clients such as python-tuf "
                    "reject the file)",
                    file=where,
                    keyid=keyid,
                )
        for keyid in table.mismatched:
            if ("mismatch", keyid) not in self._seen_key_findings:
                self._seen_key_findings.add(("mismatch", keyid))
                self.warning(
                    "keyid-mismatch",
                    role,
                    f"{where}: keyid {keyid[:16]} is not the sha256 of its key "
                    "(some clients, e.g. tough, reject it)",
                    file=where,
                    keyid=keyid,
                )
