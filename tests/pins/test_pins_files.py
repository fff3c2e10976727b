"""Merging pins into daemon.json / Notary config text: everything else stays byte-identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustkeep.adapters.pin_files import read_config, set_paths, unified_diff, write_config
from trustkeep.errors import InputError

A = "a" * 64
B = "b" * 64

#: a daemon.json full of unrelated settings, with spellings a re-dump would change
DAEMON_JSON = """{
    "log-level": "debug",
    "storage-driver": "overlay2",
    "registry-mirrors": ["https://mirror.example.com",   "https://m2.example.com"],
    "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 6.4e4}},
    "labels": ["caf\\u00e9=\\"x\\"", "zone=b"],
    "max-concurrent-downloads" :  3,

    "content-trust": {
        "mode": "permissive",
        "allow-expired-cached-trust-data": false,
        "trust-pinning": {
            "root-keys": {"other.example/x/*": ["@B@"]}
        }
    },
    "features": {"buildkit": true}
}
""".replace("@B@", B)

CT_UPDATES: list[tuple[list[str], Any]] = [
    (["content-trust", "trust-pinning", "cert-ids", "r.example/acme/app"], [A]),
    (["content-trust", "trust-pinning", "root-keys", "r.example/acme/*"], [A]),
]


def _strip(document: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(document))
    out.get("content-trust", {}).pop("trust-pinning", None)
    return out


def test_merge_keeps_every_other_byte() -> None:
    merged = set_paths(DAEMON_JSON, CT_UPDATES, source="daemon.json")
    # everything before the trust-pinning object and after it is byte-identical
    head = DAEMON_JSON[: DAEMON_JSON.index('"root-keys"')]
    tail = DAEMON_JSON[DAEMON_JSON.index(f'["{B}"]') + len(B) + 4 :]
    assert merged.startswith(head)
    assert merged.endswith(tail)
    doc = json.loads(merged)
    assert doc["content-trust"]["trust-pinning"] == {
        "root-keys": {"other.example/x/*": [B], "r.example/acme/*": [A]},
        "cert-ids": {"r.example/acme/app": [A]},
    }
    assert doc["content-trust"]["mode"] == "permissive"  # not asked to change it
    assert _strip(doc) == _strip(json.loads(DAEMON_JSON))
    # the inserted member copies its neighbour's indentation (4 spaces, nested)
    assert '\n            "cert-ids": {\n                "r.example/acme/app": [\n' in merged
    # replacing an existing entry touches only that value
    again = set_paths(
        merged,
        [(["content-trust", "trust-pinning", "cert-ids", "r.example/acme/app"], [B])],
        source="d",
    )
    assert again.replace(B, A) == merged.replace(B, A)
    assert json.loads(again)["content-trust"]["trust-pinning"]["cert-ids"] == {
        "r.example/acme/app": [B]
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{\n\t"debug": true\n}\n',
            '{\n\t"debug": true,\n\t"trust_pinning": {\n\t\t"certs": {\n\t\t\t"r/x": [\n'
            f'\t\t\t\t"{A}"\n\t\t\t]\n\t\t}}\n\t}}\n}}\n',
        ),
        (
            '{"debug":true}',
            f'{{"debug":true,"trust_pinning":{{"certs":{{"r/x":["{A}"]}}}}}}',
        ),
        (
            '{ "debug": true, "x": 1 }\n',
            f'{{ "debug": true, "x": 1, "trust_pinning": {{"certs": {{"r/x": ["{A}"]}}}} }}\n',
        ),
        (
            "{}\n",
            f'{{\n  "trust_pinning": {{\n    "certs": {{\n      "r/x": [\n        "{A}"\n'
            "      ]\n    }\n  }\n}\n",
        ),
        (
            '{\n  "trust_pinning": {}\n}',
            f'{{\n  "trust_pinning": {{\n    "certs": {{\n      "r/x": [\n        "{A}"\n'
            "      ]\n    }\n  }\n}",
        ),
    ],
    ids=["tabs", "compact", "one-line-spaced", "empty-object", "empty-nested"],
)
def test_indentation_style_is_kept(text: str, expected: str) -> None:
    merged = set_paths(text, [(["trust_pinning", "certs", "r/x"], [A])], source="c")
    assert merged == expected


def test_new_file() -> None:
    merged = set_paths(None, [(["trust_pinning", "certs", "r/x"], [A])], source="c")
    assert json.loads(merged) == {"trust_pinning": {"certs": {"r/x": [A]}}}
    assert merged.endswith("}\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "a": 1,\n  "b": 2,\n}\n', "c: invalid JSON at line 4 column 1: "),
        ('{"a": 1} x', "c: invalid JSON at line 1 column 10: Extra data"),
        ("[1, 2]", "c: the top level is not a JSON object"),
        ('{"a": 1, "a": 2}', "c: duplicate key 'a'"),
        ('{"trust_pinning": []}', "c: 'trust_pinning' is not a JSON object"),
    ],
)
def test_bad_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        set_paths(text, [(["trust_pinning", "certs", "r/x"], [A])], source="c")
    assert str(info.value).startswith(message)


def test_write_keeps_backup_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(DAEMON_JSON)
    path.chmod(0o640)
    config = read_config(path)
    merged = set_paths(config.text, CT_UPDATES, source=str(path))
    backup = write_config(config, merged)
    assert backup == tmp_path / "daemon.json.bak"
    assert backup.read_text() == DAEMON_JSON
    assert path.read_text() == merged
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daemon.json", "daemon.json.bak"]


def test_missing_file_and_diff(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.json"
    config = read_config(path)
    assert config.text is None and config.document == {}
    merged = set_paths(config.text, [(["trust_pinning", "disable_tofu"], True)], source="c")
    diff = unified_diff(path, None, merged)
    assert diff.startswith(f"--- /dev/null\n+++ {path}\n")
    assert write_config(config, merged) is None
    assert json.loads(path.read_text()) == {"trust_pinning": {"disable_tofu": True}}


def test_read_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "a": tru\n}\n')
    with pytest.raises(InputError, match=rf"{bad}: invalid JSON at line 2 column 8"):
        read_config(bad)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(InputError, match="not UTF-8"):
        read_config(binary)
    with pytest.raises(InputError, match="not a regular file"):
        read_config(tmp_path)


# ---------------------------------------------------------------- property


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_SCALARS = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _TEXT
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=12,
)
_STYLES = st.sampled_from(
    [
        {"indent": None},
        {"indent": None, "separators": (",", ":")},
        {"indent": 2},
        {"indent": 4},
        {"indent": "\t"},
        {"indent": 3, "ensure_ascii": False},
    ]
)


def _deep_set(document: dict[str, Any], path: list[str], value: Any) -> bool:
    node: Any = document
    for key in path[:-1]:
        if key not in node:
            node[key] = {}
        node = node[key]
        if not isinstance(node, dict):
            return False
    node[path[-1]] = value
    return True


@settings(max_examples=100, deadline=None)
@given(
    document=st.dictionaries(_TEXT, _JSON, max_size=5),
    style=_STYLES,
    path=st.lists(_TEXT, min_size=1, max_size=3),
    value=_JSON,
    reuse=st.booleans(),
)
def test_set_paths_equals_a_dict_update(
    document: dict[str, Any], style: dict[str, Any], path: list[str], value: Any, reuse: bool
) -> None:
    if reuse and document:  # walk into existing keys as far as possible
        path = [next(iter(document)), *path[1:]]
    text = json.dumps(document, **style)
    expected = json.loads(text)
    if not _deep_set(expected, path, value):
        with pytest.raises(InputError, match="is not a JSON object"):
            set_paths(text, [(path, value)], source="c")
        return
    merged = set_paths(text, [(path, value)], source="c")
    assert json.loads(merged) == expected
    assert set_paths(merged, [(path, value)], source="c") == merged  # idempotent
