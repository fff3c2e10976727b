"""TUF chains generated with python-tuf: one case per finding code, python-tuf as the oracle.

For each case trustkeep must report exactly the expected error codes, and its
verdict must agree with python-tuf's TrustedMetadataSet wherever python-tuf has
one (``oracle`` is None where the question is outside what python-tuf checks).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import DelegatedRole, MetaFile, TargetFile
from tufrepo import NOW, Repo, oracle, signers, updater_finds

from trustkeep.core.verify import MetadataBundle, Report, verify_tuf

Files = dict[str, bytes]


@dataclass(frozen=True)
class Case:
    build: Callable[[], Repo]
    mutate: Callable[[Repo, Files], Files]
    errors: frozenset[str]
    warnings: frozenset[str] = frozenset()
    oracle: bool | None = True  # python-tuf's verdict == "valid"; None: no verdict
    at: datetime = NOW
    anchor: bool = True
    notes: str = field(default="")


def _same(_r: Repo, f: Files) -> Files:
    return f


def _rebuild(change: Callable[[Repo], None]) -> Callable[[Repo, Files], Files]:
    def mutate(repo: Repo, _f: Files) -> Files:
        change(repo)
        repo.refresh()
        return repo.files()

    return mutate


def _resign_only(role: str, change: Callable[[Repo], None]) -> Callable[[Repo, Files], Files]:
    """Change ``role`` and re-sign it, without updating snapshot/timestamp."""

    def mutate(repo: Repo, _f: Files) -> Files:
        change(repo)
        md = repo.targets[role]
        repo.sign(md, role)
        return repo.files()

    return mutate


def _drop(*names: str) -> Callable[[Repo, Files], Files]:
    return lambda _r, f: {k: v for k, v in f.items() if k not in names}


def _replace(name: str, data: bytes) -> Callable[[Repo, Files], Files]:
    return lambda _r, f: {**f, name: data}


def _spec_v2(repo: Repo) -> None:
    repo.targets["targets"].signed.spec_version = "2.0.0"


def _wrong_signer(repo: Repo) -> None:
    repo.keys["targets"] = signers("intruder")


def _dup_signature(_r: Repo, f: Files) -> Files:
    doc = json.loads(f["1.targets.json"])
    doc["signatures"].append(dict(doc["signatures"][0]))
    return {**f, "1.targets.json": json.dumps(doc).encode()}


def _same_key_twice(_r: Repo, f: Files) -> Files:
    """Threshold 2; the second signature is the first one again (same key)."""
    doc = json.loads(f["1.targets.json"])
    doc["signatures"][1] = dict(doc["signatures"][0])
    return {**f, "1.targets.json": json.dumps(doc).encode()}


def _rotation_not_signed_by_old(repo: Repo, _f: Files) -> Files:
    md = repo.roots[1]
    md.signatures.clear()
    for s in repo.keys["root"]:
        md.sign(s, append=True)
    return repo.files()


def _root_version_gap(_r: Repo, f: Files) -> Files:
    return {k: v for k, v in f.items() if k != "2.root.json"}


def _targets_v2_unrecorded(repo: Repo) -> None:
    repo.targets["targets"].signed.version = 2


def _snapshot_records(length: int | None, bad_hash: bool) -> Callable[[Repo, Files], Files]:
    def mutate(repo: Repo, f: Files) -> Files:
        import hashlib

        assert repo.snapshot is not None and repo.timestamp is not None
        data = f["1.targets.json"]
        digest = hashlib.sha256(data).hexdigest()
        repo.snapshot.signed.meta["targets.json"] = MetaFile(
            1,
            length if length is not None else len(data),
            {"sha256": "00" * 32 if bad_hash else digest},
        )
        repo.sign(repo.snapshot, "snapshot")
        repo.timestamp.signed.snapshot_meta = MetaFile(1)
        repo.sign(repo.timestamp, "timestamp")
        return repo.files()

    return mutate


def _target_outside(repo: Repo) -> None:
    repo.targets["releases"].signed.targets["other/x.tgz"] = TargetFile(
        1, {"sha256": "00" * 32}, "other/x.tgz"
    )


def _wrong_keyid(repo: Repo) -> None:
    real = signers("releases")[0]
    assert isinstance(real, CryptoSigner)
    pub = real.public_key
    fake = SSlibKey("ab" * 32, pub.keytype, pub.scheme, dict(pub.keyval))
    signer = CryptoSigner(real._private_key, fake)
    parent = repo.targets["targets"].signed.delegations
    assert parent is not None and parent.roles is not None
    parent.keys = {fake.keyid: fake}
    parent.roles["releases"].keyids = [fake.keyid]
    repo.keys["releases"] = [signer]


def _unknown_key_type(repo: Repo) -> None:
    parent = repo.targets["targets"].signed.delegations
    assert parent is not None and parent.roles is not None
    odd = SSlibKey("cd" * 32, "sphincs", "sphincs-shake-256", {"public": "00"})
    parent.keys[odd.keyid] = odd
    parent.roles["releases"].keyids.append(odd.keyid)


def _ml_dsa_key(repo: Repo) -> None:
    """A key type python-tuf knows but trustkeep cannot check: reported, not counted."""
    parent = repo.targets["targets"].signed.delegations
    assert parent is not None and parent.roles is not None
    odd = SSlibKey("ef" * 32, "ml-dsa", "ml-dsa-44/1", {"public": "00"})
    parent.keys[odd.keyid] = odd
    parent.roles["releases"].keyids.append(odd.keyid)


def _build(**kw: object) -> Callable[[], Repo]:
    return lambda: Repo.build(**kw)  # type: ignore[arg-type]


CASES: dict[str, Case] = {
    "valid": Case(_build(), _same, frozenset()),
    "valid-no-consistent-snapshot": Case(_build(consistent=False), _same, frozenset()),
    "valid-root-chain-5": Case(_build(root_versions=5), _same, frozenset()),
    "valid-threshold-2": Case(_build(threshold=2), _same, frozenset()),
    "valid-succinct-bins": Case(
        _build(delegations=False, succinct_bits=3, n_targets=20), _same, frozenset()
    ),
    "no-anchor": Case(_build(), _same, frozenset(), frozenset({"no-anchor"}), anchor=False),
    "malformed-json": Case(
        _build(), _replace("timestamp.json", b"{not json"), frozenset({"malformed"}), oracle=False
    ),
    "malformed-spec-version": Case(
        _build(), _rebuild(_spec_v2), frozenset({"malformed"}), oracle=False
    ),
    "missing-timestamp": Case(
        _build(), _drop("timestamp.json"), frozenset({"missing-role"}), oracle=False
    ),
    "missing-delegated-role": Case(
        _build(), _drop("1.releases.json"), frozenset({"missing-role"}), oracle=False
    ),
    "threshold-wrong-key": Case(
        _build(), _rebuild(_wrong_signer), frozenset({"threshold-not-met"}), oracle=False
    ),
    "threshold-duplicate-signature": Case(
        _build(threshold=2),
        _same_key_twice,
        frozenset({"malformed", "threshold-not-met"}),
        oracle=False,
    ),
    "duplicate-signature-keyid": Case(
        _build(), _dup_signature, frozenset({"malformed"}), oracle=False
    ),
    "root-rotation-not-signed-by-old": Case(
        _build(root_versions=2),
        _rotation_not_signed_by_old,
        frozenset({"root-rotation-invalid"}),
        oracle=False,
    ),
    "root-version-gap": Case(
        _build(root_versions=3),
        _root_version_gap,
        frozenset({"root-rotation-invalid"}),
        frozenset({"missing-role"}),  # root.json (v3) is ahead of the chain: not used
        oracle=None,
    ),
    "expired-timestamp": Case(
        _build(), _same, frozenset({"expired"}), oracle=False, at=NOW + timedelta(days=8)
    ),
    "version-mismatch": Case(
        _build(consistent=False),
        _resign_only("targets", _targets_v2_unrecorded),
        frozenset({"version-mismatch"}),
        oracle=False,
    ),
    "hash-mismatch": Case(
        _build(), _snapshot_records(None, True), frozenset({"hash-mismatch"}), oracle=False
    ),
    "length-mismatch": Case(
        _build(), _snapshot_records(5, False), frozenset({"length-mismatch"}), oracle=False
    ),
    "path-not-delegated": Case(
        _build(), _rebuild(_target_outside), frozenset({"path-not-delegated"}), oracle=None
    ),
    "keyid-mismatch-warning": Case(
        _build(), _rebuild(_wrong_keyid), frozenset(), frozenset({"keyid-mismatch"})
    ),
    "unknown-key-type": Case(
        _build(),
        _rebuild(_unknown_key_type),
        frozenset({"malformed"}),
        oracle=False,
    ),
    "unverifiable-ml-dsa-key-warning": Case(
        _build(), _rebuild(_ml_dsa_key), frozenset(), frozenset({"malformed", "keyid-mismatch"})
    ),
}


def _run(case: Case) -> tuple[Repo, Files, Report]:
    repo = case.build()
    trusted = repo.files()["1.root.json"]
    files = case.mutate(repo, repo.files())
    report = verify_tuf(
        MetadataBundle(files, source="repo"),
        at=case.at,
        trusted_root=trusted if case.anchor else None,
        trusted_root_source="1.root.json" if case.anchor else None,
    )
    return repo, files, report


@pytest.mark.parametrize("name", list(CASES))
def test_case_codes_and_oracle(name: str) -> None:
    case = CASES[name]
    repo, files, report = _run(case)
    errors = {f.code for f in report.findings if f.severity == "error"}
    warnings = {f.code for f in report.findings if f.severity == "warning"}
    assert errors == case.errors, report.findings
    assert warnings == case.warnings, report.findings
    assert report.valid is (not case.errors)
    if case.oracle is not None:
        trusted = files.get("1.root.json", b"") if case.anchor else files["1.root.json"]
        if name.startswith("root-rotation"):
            trusted = Repo.files(repo).get("1.root.json", trusted)
        assert oracle(files, trusted, repo.delegators, at=case.at) is case.oracle
        assert report.valid is case.oracle


def test_every_tuf_finding_code_is_exercised() -> None:
    covered = {c for case in CASES.values() for c in case.errors | case.warnings}
    notary_only = {"pin-mismatch", "certificate-invalid"}
    rollback = {"rollback"}  # below, with --previous
    from trustkeep.core.verify import CODES

    assert covered | notary_only | rollback == CODES


def test_rollback_agrees_with_python_tuf() -> None:
    repo = Repo.build()
    older = repo.files()
    assert repo.timestamp is not None and repo.snapshot is not None
    repo.timestamp.signed.version = 3
    repo.snapshot.signed.version = 2
    repo.targets["targets"].signed.version = 2
    repo.refresh()
    newer = repo.files()
    report = verify_tuf(
        MetadataBundle(older, source="old"),
        at=NOW,
        trusted_root=older["1.root.json"],
        previous=MetadataBundle(newer, source="new"),
    )
    rolled = {f.role for f in report.findings if f.code == "rollback"}
    assert rolled == {"timestamp", "snapshot", "targets"}
    assert {f.code for f in report.errors} == {"rollback"}
    # python-tuf: having trusted the newer timestamp, the older one is refused
    from tuf.api.exceptions import BadVersionNumberError
    from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
    from tuf.ngclient.config import EnvelopeType

    tms = TrustedMetadataSet(newer["1.root.json"], EnvelopeType.METADATA)
    tms.reference_time = NOW
    tms.update_timestamp(newer["timestamp.json"])
    with pytest.raises(BadVersionNumberError):
        tms.update_timestamp(older["timestamp.json"])


def test_path_not_delegated_agrees_with_updater(tmp_path: Path) -> None:
    repo = Repo.build()
    _target_outside(repo)
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("path-not-delegated", "releases")]
    assert not updater_finds(files, files["1.root.json"], "other/x.tgz", tmp_path / "a")
    assert updater_finds(files, files["1.root.json"], "releases/pkg0.tgz", tmp_path / "b")


def test_terminating_delegation_shadows_later_role(tmp_path: Path) -> None:
    """A role after a matching terminating role is never searched for that path."""
    repo = Repo.build()
    parent = repo.targets["targets"].signed.delegations
    assert parent is not None and parent.roles is not None
    parent.roles["releases"].terminating = True
    late = signers("late")[0]
    parent.keys[late.public_key.keyid] = late.public_key
    parent.roles["late"] = DelegatedRole("late", [late.public_key.keyid], 1, False, ["*/*"])
    from tuf.api.metadata import Metadata, Targets

    md = Metadata(Targets(expires=repo.targets["releases"].signed.expires))
    md.signed.targets["releases/late.tgz"] = TargetFile(
        1, {"sha256": "11" * 32}, "releases/late.tgz"
    )
    md.signed.targets["docs/late.txt"] = TargetFile(1, {"sha256": "22" * 32}, "docs/late.txt")
    repo.targets["late"] = md
    repo.keys["late"] = [late]
    repo.delegators["late"] = "targets"
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("path-not-delegated", "late")]
    assert "releases/late.tgz" in report.errors[0].message
    root = files["1.root.json"]
    assert not updater_finds(files, root, "releases/late.tgz", tmp_path / "a")
    assert updater_finds(files, root, "docs/late.txt", tmp_path / "b")


def test_succinct_bins_wrong_bin_is_path_not_delegated() -> None:
    repo = Repo.build(delegations=False, succinct_bits=3, n_targets=8)
    bins = [n for n in repo.targets if n.startswith("bin-")]
    top = repo.targets["targets"].signed.delegations
    assert top is not None and top.succinct_roles is not None
    path = "bins/file0.bin"
    right = top.succinct_roles.get_role_for_target(path)
    wrong = next(b for b in bins if b != right)
    repo.targets[wrong].signed.targets[path] = TargetFile(1, {"sha256": "00" * 32}, path)
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("path-not-delegated", wrong)]


def test_classic_hash_prefix_bins(tmp_path: Path) -> None:
    """path_hash_prefixes delegations: a target in the wrong prefix bin is not delegated."""
    import hashlib

    repo = Repo.build(delegations=False)
    parent = repo.targets["targets"].signed
    from tuf.api.metadata import Delegations, Metadata, Targets

    signer = signers("hashbins")[0]
    parent.delegations = Delegations(keys={signer.public_key.keyid: signer.public_key}, roles={})
    assert parent.delegations.roles is not None
    for i, prefixes in enumerate([["0", "1", "2", "3", "4", "5", "6", "7"],
                                  ["8", "9", "a", "b", "c", "d", "e", "f"]]):  # fmt: skip
        name = f"hashbin-{i}"
        parent.delegations.roles[name] = DelegatedRole(
            name, [signer.public_key.keyid], 1, False, path_hash_prefixes=prefixes
        )
        repo.targets[name] = Metadata(Targets(expires=parent.expires))
        repo.keys[name] = [signer]
        repo.delegators[name] = "targets"
    paths = [f"pkg/{i}.tgz" for i in range(10)]
    for p in paths:
        first = hashlib.sha256(p.encode()).hexdigest()[0]
        right = "hashbin-0" if first in "01234567" else "hashbin-1"
        repo.targets[right].signed.targets[p] = TargetFile(1, {"sha256": "00" * 32}, p)
    stray = next(
        f"stray/{i}.tgz"
        for i in range(100)
        if hashlib.sha256(f"stray/{i}.tgz".encode()).hexdigest()[0] in "89abcdef"
    )
    repo.targets["hashbin-0"].signed.targets[stray] = TargetFile(1, {"sha256": "00" * 32}, stray)
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("path-not-delegated", "hashbin-0")]
    assert not updater_finds(files, files["1.root.json"], stray, tmp_path / "u")
    for p in paths:
        assert updater_finds(files, files["1.root.json"], p, tmp_path / "u")


def test_deep_delegation_chain_does_not_recurse(tmp_path: Path) -> None:
    """1,100 nested delegations (deeper than Python's recursion limit) verify iteratively.

    A client's search visits at most 32 delegated roles (python-tuf's
    ``max_delegations``): the deepest role's targets are never reached.
    """
    repo = Repo.build(delegations=False, n_targets=0)
    parent = "targets"
    for i in range(1100):
        name = f"d{i}"
        repo._delegate(parent, name, ["deep/*"], 1 if i == 1099 else 0)
        parent = name
    repo.targets[parent].signed.targets["other/x"] = TargetFile(1, {"sha256": "00" * 32}, "other/x")
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("path-not-delegated", "d1099")] * 2
    assert len(report.roles) == 1 + 3 + 1100
    assert not updater_finds(files, files["1.root.json"], "deep/pkg0.tgz", tmp_path / "u")


def test_one_key_under_two_keyids_counts_once() -> None:
    """Threshold 2 met only by one key listed under two keyids (go-tuf GHSA-3633-5h82-39pq).

    python-tuf 7 counts keyids and accepts this; trustkeep counts keys and does not.
    This is the one deliberate disagreement with the oracle (trustkeep is stricter).
    """
    repo = Repo.build()
    real = signers("releases")[0]
    assert isinstance(real, CryptoSigner)
    pub = real.public_key
    alias = SSlibKey("ab" * 32, pub.keytype, pub.scheme, dict(pub.keyval))
    delegations = repo.targets["targets"].signed.delegations
    assert delegations is not None and delegations.roles is not None
    delegations.keys[alias.keyid] = alias
    role = delegations.roles["releases"]
    role.keyids.append(alias.keyid)
    role.threshold = 2
    repo.keys["releases"] = [real, CryptoSigner(real._private_key, alias)]
    repo.refresh()
    files = repo.files()
    report = verify_tuf(
        MetadataBundle(files, source="r"), at=NOW, trusted_root=files["1.root.json"]
    )
    assert [(f.code, f.role) for f in report.errors] == [("threshold-not-met", "releases")]
    assert "1 valid signature(s)" in report.errors[0].message
    assert {f.code for f in report.findings if f.severity == "warning"} == {"keyid-mismatch"}
    assert oracle(files, files["1.root.json"], repo.delegators) is True  # python-tuf: laxer
