"""The new-root ceremony: a draft built step by step, saved after each step, then
reviewed, signed and written.

Nothing under the target directory is written before :meth:`NewRootService.write`;
keys are created in the store as holders go. The draft is saved in the home
(``ceremonies/<id>.json``, no secret in it) so a closed terminal resumes where it
stopped; aborting deletes it and records the abort.
"""

from __future__ import annotations

import hashlib
import json
import secrets as _random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from trustkeep.adapters.atomic import atomic_write, ensure_private_dir
from trustkeep.core.ceremony import key_label, threshold_consequences, waiting_line
from trustkeep.errors import InputError, StorageError, TrustkeepError
from trustkeep.service import _keymaterial as km
from trustkeep.service._newroot_keys import LOCATIONS, NOTARY_LOCATIONS, make_holder_key
from trustkeep.service.ceremony_pins import PinBlock, new_root_pins, write_pin
from trustkeep.service.keys import validate_name

if TYPE_CHECKING:
    from trustkeep.service import Service
    from trustkeep.service.ceremony_home import CeremonyHome

__all__ = [
    "LOCATIONS",
    "NOTARY_LOCATIONS",
    "HolderPlan",
    "NewRootDraft",
    "NewRootResult",
    "NewRootReview",
    "NewRootService",
    "PinBlock",
]

_MAX_DAYS = 36500
_MAX_HOLDERS = 32


@dataclass(frozen=True)
class HolderPlan:
    name: str
    location: str = "file"
    keytype: str = "ed25519"
    #: set once the holder's key is in the store
    keyid: str | None = None


@dataclass(frozen=True)
class NewRootDraft:
    """Everything chosen so far; saved as JSON after every step."""

    ceremony_id: str
    directory: str
    format: Literal["tuf", "notary"]
    holders: tuple[HolderPlan, ...]
    threshold: int
    root_days: int
    targets_days: int = 90
    snapshot_days: int = 7
    timestamp_days: int = 1
    gun: str | None = None
    #: keyids of the targets key and the online (snapshot + timestamp) key
    role_keys: tuple[str, ...] = ()
    written: bool = False

    @property
    def next_holder(self) -> int | None:
        """Index of the first holder without a key, or None."""
        return next((i for i, h in enumerate(self.holders) if h.keyid is None), None)

    @property
    def needs_role_keys(self) -> bool:
        return self.format == "tuf" and not self.role_keys

    def to_json(self) -> str:
        return json.dumps({"schema": 1, **asdict(self)}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str) -> NewRootDraft:
        try:
            doc: dict[str, Any] = json.loads(text)
            doc.pop("schema", None)
            doc["holders"] = tuple(HolderPlan(**h) for h in doc["holders"])
            doc["role_keys"] = tuple(doc.get("role_keys", ()))
            return cls(**doc)
        except (ValueError, TypeError, KeyError) as e:
            raise InputError(f"{source}: not a saved new-root ceremony ({e})") from e


@dataclass(frozen=True)
class NewRootReview:
    """Exactly what :meth:`NewRootService.write` will write, and who signs now."""

    lines: tuple[str, ...]
    files: tuple[str, ...]
    signing_now: tuple[str, ...]
    elsewhere: tuple[str, ...]
    #: sha256 of the review text: the write refuses a draft that changed since
    digest: str


@dataclass(frozen=True)
class NewRootResult:
    files: tuple[Path, ...]
    lines: tuple[str, ...]
    complete: bool


class NewRootService:
    """``NewRootService(service, home)``: the steps of a new-root ceremony."""

    def __init__(self, service: Service, home: CeremonyHome) -> None:
        self.service = service
        self.home = home

    @property
    def state_dir(self) -> Path:
        return self.service.home / "ceremonies"

    # -- draft and saved state ----------------------------------------------------------

    def start(
        self,
        directory: str,
        *,
        fmt: str,
        holders: Sequence[str],
        threshold: int,
        root_days: int,
        targets_days: int = 90,
        snapshot_days: int = 7,
        timestamp_days: int = 1,
        gun: str | None = None,
    ) -> NewRootDraft:
        """Check the choices of the first step and save the draft."""
        target = Path(directory.strip()).expanduser()
        if not directory.strip():
            raise InputError("type the directory the new repository goes in")
        if (target / "root.json").exists() or (target / "root.crt").exists():
            raise InputError(f"{target}: already holds a root; choose an empty directory")
        if fmt not in ("tuf", "notary"):
            raise InputError(f"format {fmt!r} is not tuf or notary")
        names = [n.strip() for n in holders if n.strip()]
        if not names:
            raise InputError("name at least one key holder")
        if len(names) > _MAX_HOLDERS or len(set(names)) != len(names):
            raise InputError(f"holders must be distinct, at most {_MAX_HOLDERS}")
        for name in names:
            validate_name(name)
            if self._name_taken(name):
                raise InputError(f"key name {name!r} is already used in this key store")
        if fmt == "notary":
            if not gun or not gun.strip():
                raise InputError("a Notary root certificate needs the GUN it is for")
            if len(names) != 1 or threshold != 1:
                raise InputError("a Notary root is one key (threshold 1): name one holder")
        if not 1 <= threshold <= len(names):
            raise InputError(f"threshold {threshold} must be between 1 and {len(names)}")
        for label, days in (
            ("root", root_days),
            ("targets", targets_days),
            ("snapshot", snapshot_days),
            ("timestamp", timestamp_days),
        ):
            if not 1 <= days <= _MAX_DAYS:
                raise InputError(f"{label} expiry must be 1 to {_MAX_DAYS} days, not {days}")
        keytype = "ecdsa-p256" if fmt == "notary" else "ed25519"
        draft = NewRootDraft(
            ceremony_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%S-") + _random.token_hex(3),
            directory=str(target.absolute()),
            format="notary" if fmt == "notary" else "tuf",
            gun=gun.strip() if gun else None,
            holders=tuple(HolderPlan(n, keytype=keytype) for n in names),
            threshold=threshold,
            root_days=root_days,
            targets_days=targets_days,
            snapshot_days=snapshot_days,
            timestamp_days=timestamp_days,
        )
        self._save(draft)
        self.home.record(
            "new root started",
            ceremony=draft.ceremony_id,
            directory=draft.directory,
            format=draft.format,
            gun=draft.gun or "",
            holders=tuple(names),
            threshold=threshold,
            root_days=root_days,
        )
        return draft

    @staticmethod
    def consequences(threshold: int, holders: int) -> list[str]:
        return threshold_consequences(threshold, holders)

    def _path(self, draft: NewRootDraft) -> Path:
        return self.state_dir / f"{draft.ceremony_id}.json"

    def _save(self, draft: NewRootDraft) -> None:
        ensure_private_dir(self.state_dir)
        atomic_write(self._path(draft), draft.to_json().encode(), mode=0o600)

    def saved(self) -> list[NewRootDraft]:
        """Ceremonies started and neither written nor aborted (newest last)."""
        if not self.state_dir.is_dir():
            return []
        out = []
        for path in sorted(self.state_dir.glob("*.json")):
            try:
                out.append(NewRootDraft.from_json(path.read_text("utf-8"), source=str(path)))
            except (OSError, InputError):
                continue
        return out

    def abort(self, draft: NewRootDraft, *, step: str) -> None:
        """Forget the draft; no metadata was written. Keys already made stay in the store."""
        try:
            self._path(draft).unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"{self._path(draft)}: cannot remove: {e.strerror}") from e
        made = tuple(h.keyid for h in draft.holders if h.keyid) + draft.role_keys
        self.home.record(
            "new root aborted", ceremony=draft.ceremony_id, at_step=step, keys_kept=made
        )

    def leave_plan(self) -> None:
        """The plan was left before any draft was saved: nothing to forget, one record."""
        self.home.record("new root aborted", ceremony="", at_step="plan", keys_kept=())

    # -- keys -----------------------------------------------------------------------------

    def holder_key(
        self,
        draft: NewRootDraft,
        index: int,
        *,
        location: str,
        keytype: str,
        passphrase: str | None = None,
        path: str | None = None,
        token_label: str | None = None,
        token_key_id: int | None = None,
    ) -> NewRootDraft:
        """Generate or import holder ``index``'s key; the draft with its keyid, saved."""
        holder = draft.holders[index]
        if draft.format == "notary" and location not in NOTARY_LOCATIONS:
            raise InputError(
                f"a Notary root certificate is self-signed here with its private key: "
                f"make or import the key ({LOCATIONS.get(location, location)} cannot sign it)"
            )
        entry = make_holder_key(
            self.service.keys,
            holder.name,
            location=location,
            keytype=keytype,
            passphrase=passphrase,
            path=path,
            token_label=token_label,
            token_key_id=token_key_id,
        )
        if draft.format == "notary" and entry.notary_canonical_id is None:
            raise InputError(f"key {entry.label()} is {entry.keytype}: a Notary root needs ECDSA")
        done = replace(holder, location=location, keytype=entry.keytype, keyid=entry.keyid)
        holders = tuple(done if i == index else h for i, h in enumerate(draft.holders))
        draft = replace(draft, holders=holders)
        self._save(draft)
        self.home.record(
            "holder key",
            ceremony=draft.ceremony_id,
            holder=holder.name,
            location=location,
            keytype=entry.keytype,
            keyid=entry.keyid,
            signs_here=entry.has_private,
        )
        return draft

    def role_keys(self, draft: NewRootDraft, *, passphrase: str) -> NewRootDraft:
        """A targets key and an online key (snapshot and timestamp), in this store."""
        if not passphrase:
            raise InputError("type a passphrase for the targets and online keys")
        base = Path(draft.directory).name or "repo"
        made = []
        for role in ("targets", "online"):
            name = self._free_name(f"{base}-{role}")
            entry = self.service.keys.add_private(
                km.generate_private_key("ed25519"), name=name, passphrase=passphrase
            )
            made.append(entry.keyid)
            self.home.record(
                "role key", ceremony=draft.ceremony_id, role=role, name=name, keyid=entry.keyid
            )
        draft = replace(draft, role_keys=tuple(made))
        self._save(draft)
        return draft

    def _name_taken(self, name: str) -> bool:
        return any(e.name == name for e in self.service.keys.list())

    def _free_name(self, name: str) -> str:
        candidate, n = name, 1
        while self._name_taken(candidate):
            n += 1
            candidate = f"{name}-{n}"
        return candidate

    # -- review, write, pins --------------------------------------------------------------

    def review(self, draft: NewRootDraft) -> NewRootReview:
        if draft.next_holder is not None or draft.needs_role_keys:
            raise InputError("every holder needs a key before the review")
        names = self.service.repo.names()
        entries = {h.keyid: self.service.keys.resolve(h.keyid) for h in draft.holders if h.keyid}
        here = tuple(h.name for h in draft.holders if h.keyid and entries[h.keyid].has_private)
        away = tuple(h.name for h in draft.holders if h.name not in here)
        target = Path(draft.directory)
        if draft.format == "notary":
            files: tuple[str, ...] = (str(target / "root.crt"),)
            holder = draft.holders[0]
            lines = [
                f"write {files[0]}: a self-signed root certificate, CN={draft.gun}",
                f"root key: {key_label(holder.keyid or '', names)} ({holder.keytype})",
                f"valid for {draft.root_days} days",
            ]
        else:
            files = tuple(str(target / f"{r}.json") for r in _TOP)
            lines = [f"write {len(files)} files in {target}: {', '.join(_TOP)} (version 1)"]
            lines.append(
                f"root: {draft.threshold} of {len(draft.holders)} keys, expires in "
                f"{draft.root_days} days"
            )
            for h in draft.holders:
                where = LOCATIONS.get(h.location, h.location)
                lines.append(f"+ root key {key_label(h.keyid or '', names)} {h.keytype} — {where}")
            t, o = draft.role_keys
            lines.append(
                f"+ targets key {key_label(t, names)}, expires in {draft.targets_days} days"
            )
            lines.append(
                f"+ snapshot and timestamp key {key_label(o, names)}, expire in "
                f"{draft.snapshot_days} and {draft.timestamp_days} days"
            )
            lines += [f"  {c}" for c in threshold_consequences(draft.threshold, len(draft.holders))]
        if len(here) >= draft.threshold:
            lines.append(f"signed now by: {', '.join(here)} (each types a passphrase)")
        else:
            lines.append(
                f"signed now by: {', '.join(here) or 'nobody here'}; the root then waits for "
                f"{draft.threshold - len(here)} more of: {', '.join(away)}"
            )
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        return NewRootReview(tuple(lines), files, here, away, digest)

    def write(self, draft: NewRootDraft, *, reviewed: str) -> NewRootResult:
        """Sign and write what :meth:`review` showed (refused when it changed since)."""
        review = self.review(draft)
        if review.digest != reviewed:
            raise InputError("the review changed since you read it; read it again")
        try:
            result = self._write_tuf(draft) if draft.format == "tuf" else self._write_cert(draft)
        except TrustkeepError as e:
            self.home.record("new root failed", ceremony=draft.ceremony_id, error=e.message)
            raise
        self._path(draft).unlink(missing_ok=True)
        digests = tuple(f"{p.name} sha256 {_file_digest(p)}" for p in result.files)
        self.home.record(
            "new root written",
            ceremony=draft.ceremony_id,
            directory=draft.directory,
            review_sha256=reviewed,
            files=digests,
            complete=result.complete,
            status=result.lines,
        )
        if draft.format == "tuf":
            self.home.remember(Path(draft.directory))
        return result

    def _write_tuf(self, draft: NewRootDraft) -> NewRootResult:
        targets_key, online_key = draft.role_keys
        expires = (
            f"root={draft.root_days}d,targets={draft.targets_days}d,"
            f"snapshot={draft.snapshot_days}d,timestamp={draft.timestamp_days}d"
        )
        written = self.service.repo.init(
            Path(draft.directory),
            keys={
                "root": [h.keyid for h in draft.holders if h.keyid],
                "targets": [targets_key],
                "snapshot": [online_key],
                "timestamp": [online_key],
            },
            thresholds={"root": draft.threshold},
            expires=expires,
        )
        lines = tuple(
            f"{c.role} v{c.version}: " + "; ".join(waiting_line(k, written.names) for k in c.checks)
            for c in written.changes
        )
        complete = all(c.verified for c in written.changes)
        return NewRootResult(tuple(written.written), lines, complete)

    def _write_cert(self, draft: NewRootDraft) -> NewRootResult:
        out = Path(draft.directory) / "root.crt"
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"{out.parent}: cannot create directory: {e.strerror}") from e
        keyid = draft.holders[0].keyid or ""
        cert = self.service.pins.notary_cert(
            keyid, gun=draft.gun or "", days=draft.root_days, out=out
        )
        lines = (f"certificate ID {cert.cert_id}", f"canonical ID {cert.canonical_id}")
        return NewRootResult((out,), lines, True)

    def pins(self, draft: NewRootDraft) -> list[PinBlock]:
        """The pins a client needs for the new root, each with where it would be saved."""
        return new_root_pins(
            self.service, fmt=draft.format, directory=Path(draft.directory), gun=draft.gun
        )

    def save_pin(self, draft: NewRootDraft, block: PinBlock, path: Path) -> Path:
        """Write ``block`` to ``path`` (atomic) and record it, with its sha256."""
        written = write_pin(block, path)
        self.home.record(
            "pin saved",
            ceremony=draft.ceremony_id,
            directory=draft.directory,
            kind=block.kind,
            file=str(written),
            sha256=hashlib.sha256(block.text.encode()).hexdigest(),
        )
        return written


_TOP = ("root", "targets", "snapshot", "timestamp")


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise StorageError(f"{path}: cannot read back: {e.strerror}") from e
