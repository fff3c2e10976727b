"""trustkeep's verdict equals python-tuf's ``Updater`` on the same files (issue 8 §2, §3, §5, §7).

Each case builds a repository with python-tuf's Metadata API, changes it the way
the issue describes, and asks both: ``verify_tuf`` (valid or not) and the real
``Updater`` (``refresh()`` then ``get_targetinfo`` for every listed target, offline
through a fetcher over the same files, optionally starting from a cache: the
``--previous`` directory). The two verdicts must be equal, and trustkeep's error
codes must be the ones expected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner
from tufrepo import NOW, Repo, doc_of, resign, rewrite, updater_accepts

from trustkeep.core.verify import MetadataBundle, Report, verify_tuf

Files = dict[str, bytes]


@dataclass(frozen=True)
class Built:
    files: Files
    trusted: bytes
    paths: list[str]
    previous: Files | None = None


Change = Callable[[Repo, Files], Files]


def _paths(repo: Repo) -> list[str]:
    return [p for md in repo.targets.values() for p in md.signed.targets]


def _case(change: Change, **build: Any) -> Callable[[], Built]:
    def make() -> Built:
        repo = Repo.build(**build)
        files = repo.files()
        trusted = files["1.root.json"]
        return Built(change(repo, dict(files)), trusted, _paths(repo))

    return make


# §3 encodings ---------------------------------------------------------------------------
def _bom(_r: Repo, f: Files) -> Files:
    return {**f, "timestamp.json": b"\xef\xbb\xbf" + f["timestamp.json"]}


def _utf16(_r: Repo, f: Files) -> Files:
    return {**f, "timestamp.json": f["timestamp.json"].decode().encode("utf-16")}


def _utf32(_r: Repo, f: Files) -> Files:
    return {**f, "timestamp.json": f["timestamp.json"].decode().encode("utf-32")}


# §3 hex digests -------------------------------------------------------------------------
def _snapshot_hash(spell: Callable[[str], str]) -> Change:
    def change(repo: Repo, f: Files) -> Files:
        import hashlib

        doc = doc_of(f, "1.snapshot.json")
        digest = hashlib.sha256(f["1.targets.json"]).hexdigest()
        doc["signed"]["meta"]["targets.json"]["hashes"] = {"sha256": spell(digest)}
        return {**f, "1.snapshot.json": resign(doc, repo.keys["snapshot"][0])}

    return change


# §3 explicit nulls and timestamp meta ---------------------------------------------------
def _edit(name: str, role: str, edit: Callable[[dict[str, Any]], None], *, sign: bool) -> Change:
    """Edit ``signed`` of ``name``; re-sign over the edited form, or keep the old signature."""

    def change(repo: Repo, f: Files) -> Files:
        doc = doc_of(f, name)
        edit(doc["signed"])
        data = resign(doc, repo.keys[role][0]) if sign else rewrite(doc)
        return {**f, name: data}

    return change


def _meta_null(field: str) -> Callable[[dict[str, Any]], None]:
    def edit(signed: dict[str, Any]) -> None:
        signed["meta"]["targets.json"][field] = None

    return edit


def _delegations_null(signed: dict[str, Any]) -> None:
    signed["delegations"] = None


def _roles_null(signed: dict[str, Any]) -> None:
    signed["delegations"]["roles"] = None


def _paths_null(signed: dict[str, Any]) -> None:
    signed["delegations"]["roles"][0]["paths"] = None
    signed["delegations"]["roles"][0]["path_hash_prefixes"] = [""]  # matches every path


def _extra_timestamp_meta(signed: dict[str, Any]) -> None:
    signed["meta"]["targets.json"] = {"version": "not even an integer"}


# §3 file names ----------------------------------------------------------------------------
def _rotate_timestamp_key(repo: Repo) -> None:
    """Root v2 with a new timestamp key: a client stuck at root v1 refuses the timestamp."""
    repo.rotate_root(new_key=False)
    new = CryptoSigner.generate_ed25519()
    root = repo.roots[-1].signed
    for keyid in list(root.roles["timestamp"].keyids):
        root.revoke_key(keyid, "timestamp")
    root.add_key(new.public_key, "timestamp")
    repo.keys["timestamp"] = [new]
    repo.refresh()


def _root_renamed(new_name: str | None) -> Change:
    def change(repo: Repo, _f: Files) -> Files:
        _rotate_timestamp_key(repo)
        files = repo.files()
        data = files.pop("2.root.json")
        if new_name is not None:
            files[new_name] = data
        return files

    return change


def _rotated(repo: Repo, _f: Files) -> Files:
    _rotate_timestamp_key(repo)
    return repo.files()


def _plain_names(repo: Repo, f: Files) -> Files:
    """consistent_snapshot true, but only plain names published."""
    out = {k: v for k, v in f.items() if not k[0].isdigit() or k.endswith("root.json")}
    out["snapshot.json"] = f["1.snapshot.json"]
    out["targets.json"] = f["1.targets.json"]
    out["releases.json"] = f["1.releases.json"]
    return out


def _versioned_names(repo: Repo, f: Files) -> Files:
    """consistent_snapshot false, but only versioned names published."""
    out = {k: v for k, v in f.items() if k in ("1.root.json", "root.json", "timestamp.json")}
    out["1.snapshot.json"] = f["snapshot.json"]
    out["1.targets.json"] = f["targets.json"]
    out["1.releases.json"] = f["releases.json"]
    return out


# §3 the fast path: duplicate keys in signed ---------------------------------------------
def _duplicate_expires(repo: Repo, f: Files) -> Files:
    """targets.json whose signed holds expires twice (old first, current last), signed over
    exactly those bytes: python-tuf counts 0/1 keys."""
    doc = doc_of(f, "1.targets.json")
    canonical = encode_canonical(doc["signed"])
    assert isinstance(canonical, str)
    text = canonical.replace('"expires":', '"expires":"2000-01-01T00:00:00Z","expires":', 1)
    sig = repo.keys["targets"][0].sign(text.encode())
    raw = f'{{"signatures":[{json.dumps(sig.to_dict())}],"signed":{text}}}'.encode()
    return {**f, "1.targets.json": raw}


# §5 a client visits at most 32 delegated roles ------------------------------------------
def _chain(depth: int) -> Callable[[], Built]:
    def make() -> Built:
        repo = Repo.build(delegations=False, n_targets=0)
        parent = "targets"
        for i in range(depth):
            repo._delegate(parent, f"d{i}", ["deep/*"], 1 if i == depth - 1 else 0)
            parent = f"d{i}"
        repo.refresh()
        files = repo.files()
        return Built(files, files["1.root.json"], _paths(repo))

    return make


# §7 key types through securesystemslib ----------------------------------------------------
def _key_type(generate: Callable[[], CryptoSigner]) -> Callable[[], Built]:
    def make() -> Built:
        repo = Repo.build()
        signer = generate()
        parent = repo.targets["targets"].signed.delegations
        assert parent is not None and parent.roles is not None
        parent.keys = {signer.public_key.keyid: signer.public_key}
        parent.roles["releases"].keyids = [signer.public_key.keyid]
        repo.keys["releases"] = [signer]
        repo.refresh()
        files = repo.files()
        return Built(files, files["1.root.json"], _paths(repo))

    return make


@dataclass(frozen=True)
class Case:
    make: Callable[[], Built]
    valid: bool
    errors: frozenset[str] = frozenset()


CASES: dict[str, Case] = {
    # encodings
    "utf-8-bom": Case(_case(_bom), False, frozenset({"malformed"})),
    "utf-16": Case(_case(_utf16), False, frozenset({"malformed"})),
    "utf-32": Case(_case(_utf32), False, frozenset({"malformed"})),
    # hex spellings
    "hex-lowercase": Case(_case(_snapshot_hash(str.lower)), True),
    "hex-uppercase": Case(_case(_snapshot_hash(str.upper)), False, frozenset({"hash-mismatch"})),
    "hex-spaced": Case(
        _case(_snapshot_hash(lambda h: " ".join(h[i : i + 2] for i in range(0, 64, 2)))),
        False,
        frozenset({"hash-mismatch"}),
    ),
    # explicit nulls python-tuf drops before checking the signature
    "meta-length-null-added": Case(
        _case(_edit("1.snapshot.json", "snapshot", _meta_null("length"), sign=False)), True
    ),
    "meta-length-null-signed": Case(
        _case(_edit("1.snapshot.json", "snapshot", _meta_null("length"), sign=True)),
        False,
        frozenset({"threshold-not-met"}),
    ),
    "meta-hashes-null-added": Case(
        _case(_edit("1.snapshot.json", "snapshot", _meta_null("hashes"), sign=False)), True
    ),
    "meta-hashes-null-signed": Case(
        _case(_edit("1.snapshot.json", "snapshot", _meta_null("hashes"), sign=True)),
        False,
        frozenset({"threshold-not-met"}),
    ),
    "delegations-null": Case(
        _case(_edit("1.targets.json", "targets", _delegations_null, sign=True)),
        False,
        frozenset({"malformed"}),
    ),
    "delegations-roles-null-added": Case(
        _case(
            _edit("1.targets.json", "targets", _roles_null, sign=False),
            delegations=False,
            succinct_bits=2,
            n_targets=8,
        ),
        True,
    ),
    "delegations-roles-null-signed": Case(
        _case(
            _edit("1.targets.json", "targets", _roles_null, sign=True),
            delegations=False,
            succinct_bits=2,
            n_targets=8,
        ),
        False,
        frozenset({"threshold-not-met"}),
    ),
    "paths-null-signed": Case(
        _case(_edit("1.targets.json", "targets", _paths_null, sign=True)),
        False,
        frozenset({"threshold-not-met"}),
    ),
    "timestamp-meta-extra-added": Case(
        _case(_edit("timestamp.json", "timestamp", _extra_timestamp_meta, sign=False)), True
    ),
    "timestamp-meta-extra-signed": Case(
        _case(_edit("timestamp.json", "timestamp", _extra_timestamp_meta, sign=True)),
        False,
        frozenset({"threshold-not-met"}),
    ),
    # file names clients fetch
    "root-rotation-through-N.root.json": Case(_case(_rotated), True),
    "root-leading-zero-is-not-v2": Case(
        _case(_root_renamed("02.root.json")), False, frozenset({"threshold-not-met"})
    ),
    "plain-root.json-ahead-is-not-a-step": Case(
        _case(_root_renamed(None)), False, frozenset({"threshold-not-met"})
    ),
    "consistent-snapshot-needs-versioned-names": Case(
        _case(_plain_names), False, frozenset({"missing-role"})
    ),
    "no-consistent-snapshot-needs-plain-names": Case(
        _case(_versioned_names, consistent=False), False, frozenset({"missing-role"})
    ),
    # the signature over bytes as written
    "duplicate-expires-signed-as-written": Case(
        _case(_duplicate_expires), False, frozenset({"threshold-not-met"})
    ),
    # bounded search, as the Updater's max_delegations
    "delegation-depth-32": Case(_chain(32), True),
    "delegation-depth-33": Case(_chain(33), False, frozenset({"path-not-delegated"})),
    # key types through securesystemslib
    "ecdsa-key": Case(_key_type(CryptoSigner.generate_ecdsa), True),
    "rsa-key": Case(_key_type(CryptoSigner.generate_rsa), True),
    "ml-dsa-key": Case(_key_type(CryptoSigner.generate_mldsa), True),
}


def _trustkeep(built: Built) -> Report:
    return verify_tuf(
        MetadataBundle(built.files, source="repo"),
        at=NOW,
        trusted_root=built.trusted if built.previous is None else None,
        previous=MetadataBundle(built.previous, source="prev") if built.previous else None,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_verdict_equals_the_updater(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    built = case.make()
    report = _trustkeep(built)
    accepted = updater_accepts(
        built.files, built.trusted, tmp_path, cache=built.previous, paths=built.paths
    )
    assert accepted is case.valid, "the Updater's verdict is not the one this case expects"
    assert report.valid is accepted, report.findings
    assert {f.code for f in report.errors} == case.errors, report.findings
