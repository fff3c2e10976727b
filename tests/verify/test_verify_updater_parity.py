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
from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.exceptions import DownloadError, RepositoryError
from tuf.api.metadata import DelegatedRole, Delegations, Metadata, TargetFile, Targets
from tuf.ngclient import Updater
from tufrepo import NOW, DictFetcher, Repo, signers

from trustkeep.core.verify import MetadataBundle, Report, verify_tuf

Files = dict[str, bytes]


def updater_accepts(
    files: Files, bootstrap: bytes | None, workdir: Path, *, cache: Files | None = None,
    paths: list[str] = (),  # type: ignore[assignment]
) -> bool:  # fmt: skip
    """python-tuf's Updater: refresh, then find every path (loads the delegated roles)."""
    meta = workdir / "metadata"
    meta.mkdir(parents=True)
    for name, data in (cache or {}).items():
        (meta / name).write_bytes(data)
    try:
        updater = Updater(
            metadata_dir=str(meta),
            metadata_base_url="http://repo.invalid/metadata/",
            target_dir=str(workdir),
            target_base_url="http://repo.invalid/targets/",
            fetcher=DictFetcher(files),
            bootstrap=None if cache else bootstrap,
        )
        updater.refresh()
        return all(updater.get_targetinfo(p) is not None for p in paths)
    except (RepositoryError, DownloadError):
        return False


def _doc(files: Files, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(files[name])
    return doc


def _write(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def _resign(doc: dict[str, Any], signer: Signer) -> bytes:
    """``doc`` with one signature over the canonical form of its ``signed`` as it stands."""
    data = encode_canonical(doc["signed"]).encode()  # type: ignore[union-attr]
    sig = signer.sign(data)
    return _write({"signed": doc["signed"], "signatures": [sig.to_dict()]})


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

        doc = _doc(f, "1.snapshot.json")
        digest = hashlib.sha256(f["1.targets.json"]).hexdigest()
        doc["signed"]["meta"]["targets.json"]["hashes"] = {"sha256": spell(digest)}
        return {**f, "1.snapshot.json": _resign(doc, repo.keys["snapshot"][0])}

    return change


# §3 explicit nulls and timestamp meta ---------------------------------------------------
def _edit(name: str, role: str, edit: Callable[[dict[str, Any]], None], *, sign: bool) -> Change:
    """Edit ``signed`` of ``name``; re-sign over the edited form, or keep the old signature."""

    def change(repo: Repo, f: Files) -> Files:
        doc = _doc(f, name)
        edit(doc["signed"])
        data = _resign(doc, repo.keys[role][0]) if sign else _write(doc)
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
    doc = _doc(f, "1.targets.json")
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


# §2 --previous is trusted state --------------------------------------------------------
def _cache_of(files: Files, root_name: str) -> Files:
    """What python-tuf's Updater keeps: the trusted root and the top-level roles, plain names."""
    snap = next(n for n in files if n.endswith("snapshot.json"))
    targets = next(n for n in files if n.endswith(".targets.json") or n == "targets.json")
    return {
        "root.json": files[root_name],
        "timestamp.json": files["timestamp.json"],
        "snapshot.json": files[snap],
        "targets.json": files[targets],
    }


def test_previous_root_is_the_anchor_a_stranger_repository_is_invalid(tmp_path: Path) -> None:
    previous = Repo.build().files()
    stranger = Repo.build()
    root = stranger.roots[0].signed
    for role in ("root", "timestamp", "snapshot", "targets"):  # different keys everywhere
        new = CryptoSigner.generate_ed25519()
        for keyid in list(root.roles[role].keyids):
            root.revoke_key(keyid, role)
        root.add_key(new.public_key, role)
        stranger.keys[role] = [new]
    stranger.rotate_root()
    stranger.rotate_root()
    stranger.refresh()
    files = stranger.files()
    report = verify_tuf(
        MetadataBundle(files, source="new"), at=NOW, previous=MetadataBundle(previous, "old")
    )
    assert report.anchor.kind == "previous" and report.anchor.version == 1
    assert "no-anchor" not in {f.code for f in report.findings}
    assert not report.valid
    assert "root-rotation-invalid" in report.codes()
    assert not updater_accepts(files, None, tmp_path, cache=_cache_of(previous, "1.root.json"))


def _restart_low(rotate: bool) -> tuple[Files, Files]:
    """A repository at timestamp/snapshot v5, then root v2 (new timestamp and snapshot keys
    when ``rotate``) and the repository restarts at timestamp/snapshot v1."""
    repo = Repo.build(consistent=False)
    assert repo.timestamp is not None and repo.snapshot is not None
    repo.timestamp.signed.version = repo.snapshot.signed.version = 5
    repo.refresh()
    before = repo.files()
    if rotate:
        repo.rotate_root(new_key=False)
        root = repo.roots[-1].signed
        for role in ("timestamp", "snapshot"):
            new = CryptoSigner.generate_ed25519()
            for keyid in list(root.roles[role].keyids):
                root.revoke_key(keyid, role)
            root.add_key(new.public_key, role)
            repo.keys[role] = [new]
    repo.timestamp.signed.version = repo.snapshot.signed.version = 1
    repo.refresh()
    return before, repo.files()


@pytest.mark.parametrize(("rotate", "valid"), [(True, True), (False, False)])
def test_fast_forward_recovery_as_the_updater(rotate: bool, valid: bool, tmp_path: Path) -> None:
    """Spec §5.3.11: after the timestamp and snapshot keys rotate, old versions in the
    cache no longer verify and do not block a restart at v1; without rotation, v1 is a
    rollback."""
    before, after = _restart_low(rotate)
    report = verify_tuf(
        MetadataBundle(after, source="new"), at=NOW, previous=MetadataBundle(before, "old")
    )
    cache = {
        "root.json": before["1.root.json"],
        "timestamp.json": before["timestamp.json"],
        "snapshot.json": before["snapshot.json"],
    }
    assert updater_accepts(after, None, tmp_path, cache=cache) is valid
    assert report.valid is valid, report.findings
    if rotate:
        skipped = [f for f in report.findings if f.code == "rollback"]
        assert {(f.severity, f.role) for f in skipped} == {
            ("warning", "timestamp"), ("warning", "snapshot"),
        }  # fmt: skip
    else:
        assert {(f.code, f.role) for f in report.errors} >= {
            ("rollback", "timestamp"), ("rollback", "snapshot"),
        }  # fmt: skip


# §4 evidence -------------------------------------------------------------------------------
def test_report_carries_the_evidence() -> None:
    repo = Repo.build(threshold=2, consistent=False)
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert report.valid and report.reference_time == "2030-01-01T00:00:00Z"
    assert report.anchor.sha256 is not None
    timestamp = next(r for r in report.roles if r.role == "timestamp")
    expected = {s.public_key.keyid for s in repo.keys["timestamp"][:2]}
    assert set(timestamp.keyids) == expected and timestamp.threshold == 2
    # a finding's structured fields: a version mismatch says what was expected and found
    doc = _doc(files, "snapshot.json")
    doc["signed"]["meta"]["targets.json"]["version"] = 7
    files["snapshot.json"] = _write(doc)  # keeps two valid signatures: snapshot fails too
    bad = verify_tuf(MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"])
    mismatch = [f.to_dict() for f in bad.errors if f.code == "version-mismatch"]
    assert mismatch == [
        {"severity": "error", "code": "version-mismatch", "role": "targets",
         "message": "targets.json is v1, snapshot records v7", "file": "targets.json",
         "keyid": None, "expected": 7, "found": 1},
    ]  # fmt: skip
    threshold = next(f for f in bad.errors if f.code == "threshold-not-met")
    assert (threshold.role, threshold.expected, threshold.found) == ("snapshot", 2, 0)
    targets = next(r for r in bad.to_dict()["roles"] if r["role"] == "targets")
    assert targets["verified"] is False and targets["unverified_reason"] == (
        "snapshot is not verified"
    )


def test_terminating_edges_do_not_make_the_search_cubic() -> None:
    """300 roles × 300 targets with terminating edges: each target costs a few index
    lookups, not a walk over every role (the benchmark runs 1,000 × 1,000)."""
    repo = Repo.build(delegations=False, n_targets=0)
    signer = signers("many")[0]
    top = repo.targets["targets"].signed
    top.delegations = Delegations(keys={signer.public_key.keyid: signer.public_key}, roles={})
    assert top.delegations.roles is not None
    for i in range(300):
        name = f"r{i}"
        top.delegations.roles[name] = DelegatedRole(
            name, [signer.public_key.keyid], 1, i % 2 == 0, [f"r{i}/*"]
        )
        md = Metadata(Targets(expires=top.expires))
        for j in range(300):
            md.signed.targets[f"r{i}/{j}"] = TargetFile(1, {"sha256": "00" * 32}, f"r{i}/{j}")
        repo.targets[name] = md
        repo.keys[name] = [signer]
        repo.delegators[name] = "targets"
    repo.targets["r7"].signed.targets["r8/x"] = TargetFile(1, {"sha256": "00" * 32}, "r8/x")
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role, f.found) for f in report.errors] == [
        ("path-not-delegated", "r7", "r8/x")
    ]


def test_root_versions_follow_one_pattern() -> None:
    from trustkeep.core.rolenames import versioned_name, versioned_root_version

    assert versioned_root_version("2.root.json") == 2
    for name in ("02.root.json", "0.root.json", "+2.root.json", "2.root.json.bak", "٢.root.json"):
        assert versioned_root_version(name) is None, name
    assert versioned_name("12.snapshot.json") == (12, "snapshot.json")
    assert versioned_name("012.snapshot.json") is None
