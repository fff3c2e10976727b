"""``trustkeep sign FILE --key K``: one more signature on a metadata file that travels.

The file is parsed first (a file that is not valid TUF is refused and left as it was);
the key must be one the role's delegator authorizes (for root: root N or root N-1);
existing signatures are kept, including those only a twin beside it carries (a copy
signed elsewhere and brought back); every identical twin (``root.json`` /
``N.root.json``, ``targets.json`` / ``V.targets.json``) gets the same signatures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from trustkeep.adapters import repo_dir
from trustkeep.adapters.atomic import atomic_write
from trustkeep.core.rolenames import role_filename, versioned_name
from trustkeep.core.tuf_repo.state import apply_signatures
from trustkeep.core.tuf_repo.status import ThresholdCheck, role_checks, root_checks
from trustkeep.errors import InputError, KeyAccessError, TrustkeepError
from trustkeep.service._repo_support import SignerPool, SignResult, resolve_key

if TYPE_CHECKING:
    from trustkeep.service.keys import KeyService

__all__ = ["role_from_filename", "sign_file"]


def role_from_filename(md: Metadata[Any], file: Path) -> str:
    """The role of a metadata file: its type, or for targets its (unquoted) file name."""
    if not isinstance(md.signed, Targets):
        return str(md.signed.type)
    versioned = versioned_name(file.name)
    stem = (versioned[1] if versioned else file.name).removesuffix(".json")
    return unquote(stem)


def _twins(file: Path, md: Metadata[Any], role: str) -> list[Path]:
    """Other files in the same directory holding the same signed content."""
    directory = file.parent
    version = md.signed.version
    if role == "root":
        names = [f"{version}.root.json", "root.json"]
    elif role == "timestamp":
        names = []
    else:
        names = [role_filename(role), role_filename(role, version)]
    out = []
    for name in names:
        other = directory / name
        if other.name == file.name or not other.is_file():
            continue
        try:
            twin = repo_dir.read_metadata(other)
        except TrustkeepError:
            continue
        if twin.signed_bytes == md.signed_bytes:
            out.append(other)
    return out


def _authority(
    file: Path, md: Metadata[Any], role: str
) -> tuple[list[str], tuple[ThresholdCheck, ...], str]:
    """(authorized keyids, threshold checks, where the authority came from)."""
    directory = file.parent
    if isinstance(md.signed, Root):
        prev_path = directory / f"{md.signed.version - 1}.root.json"
        previous: Root | None = None
        source = f"{file.name} itself"
        if md.signed.version > 1 and prev_path.is_file():
            previous = repo_dir.read_metadata(prev_path, Root).signed
            source = f"{file.name} and {prev_path.name}"
        keyids = list(md.signed.roles["root"].keyids)
        if previous is not None:
            keyids += [k for k in previous.roles["root"].keyids if k not in keyids]
        return keyids, root_checks(md, previous), source
    if isinstance(md.signed, Snapshot | Timestamp) or role == "targets":
        root_path = directory / "root.json"
        if not root_path.is_file():
            raise InputError(
                f"{file}: no root.json beside it to tell who may sign role {role!r}",
                hint="copy the repository's root.json next to the file",
            )
        root = repo_dir.read_metadata(root_path, Root).signed
        keyids = list(root.roles[role].keyids)
        return keyids, role_checks(root, role, md), "root.json"
    if not (directory / "timestamp.json").is_file():
        raise InputError(
            f"{file}: role {role!r} is delegated, and no repository metadata is beside it "
            "to tell who may sign it",
            hint="sign it inside a copy of the whole metadata directory",
        )
    state = repo_dir.load_repo(directory, entries=False)  # delegations, not target entries
    delegator = state.delegator_of(role)
    parent = state.targets_role(delegator).signed
    keyids = list(parent.get_delegated_role(role).keyids)
    return keyids, role_checks(parent, role, md), role_filename(delegator)


def sign_file(keys: KeyService, file: Path, key_ref: str, *, names: dict[str, str]) -> SignResult:
    md = repo_dir.read_metadata(file)
    role = role_from_filename(md, file)
    keyids, _before, source = _authority(file, md, role)
    resolved = resolve_key(keys, key_ref)
    if resolved.keyid not in keyids:
        raise InputError(
            f"key {resolved.label()} is not a key of role {role!r} (per {source}); "
            f"{file} left unchanged"
        )
    if resolved.entry is None or not resolved.entry.has_private:
        raise KeyAccessError(
            f"key {resolved.label()}: its private half is not in this store; {file} left unchanged"
        )
    twins = _twins(file, md, role)
    repo_dir.merge_twins(file.parent, md, role=role, read=file.name)  # never drop a signature
    apply_signatures(md, [SignerPool(keys).signer(resolved.keyid)])
    data = repo_dir.serialize(md)
    atomic_write(file, data)
    for twin in twins:
        atomic_write(twin, data)
    _keyids, checks, source = _authority(file, md, role)
    return SignResult(
        file=file,
        role=role,
        version=md.signed.version,
        keyid=resolved.keyid,
        checks=checks,
        also_written=tuple(twins),
        names=names,
        authority=source,
    )
