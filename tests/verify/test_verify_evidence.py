"""The evidence in the report: keyids that counted, thresholds, reference time, anchor,
structured findings (issue 8 §4)."""

from __future__ import annotations

from tufrepo import NOW, Repo, doc_of, rewrite

from trustkeep.core.verify import MetadataBundle, verify_tuf

Files = dict[str, bytes]


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
    doc = doc_of(files, "snapshot.json")
    doc["signed"]["meta"]["targets.json"]["version"] = 7
    files["snapshot.json"] = rewrite(doc)  # keeps two valid signatures: snapshot fails too
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
