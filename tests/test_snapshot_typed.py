"""Typed decoding (msgspec Structs) builds what the field-by-field check builds, and names what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.samples import list_samples
from oomtui.snapshot import SnapshotError, from_dict, loads, parse_json, read_bounded
from oomtui.synthetic import large_host
from tests.test_snapshot_file import BROKEN, CASES, error_of


def _careful(raw: bytes) -> snapshot.Snapshot:
    return from_dict(parse_json(raw, "x"))


def _same(a: snapshot.Snapshot, b: snapshot.Snapshot) -> bool:
    """Equal field by field, and written out to the same bytes (so 1 and 1.0 differ too)."""
    parts = ("taken_at", "source", "host", "cgroups", "processes", "oom_event", "whatif")
    return all(getattr(a, k) == getattr(b, k) for k in parts) and snapshot.dumps(a) == snapshot.dumps(b)


@pytest.mark.parametrize("path", list_samples(), ids=lambda p: p.name)
def test_typed_decoding_builds_what_the_careful_check_builds(path):
    raw = read_bounded(path)
    assert _same(loads(raw, "x"), _careful(raw))


def test_a_file_with_nulls_the_model_lacks_builds_the_same_through_structs(tmp_path):
    """null comm, cmdline, adj and kernel_thread: older files have them; they load as the careful check loads them."""
    data = json.loads(read_bounded(list_samples()[0]))
    data["processes"][1].update(comm=None, cmdline=None, oom_score_adj=None, kernel_thread=None)
    del data["processes"][2]["comm"]
    raw = json.dumps(data).encode()
    assert isinstance(snapshot._decode_typed(raw), snapshot.schema.Snapshot)
    assert _same(loads(raw, "x"), _careful(raw))


def test_typed_decoding_builds_the_large_host_exactly():
    raw = snapshot.dumps(large_host(2_000, 200))
    assert _same(loads(raw, "x"), _careful(raw))


@pytest.mark.parametrize("name", sorted(CASES))
def test_typed_decoding_refuses_what_the_careful_check_refuses(name, monkeypatch):
    """Every broken file of the corpus, as if too large to decode again: refused in one line all the same."""
    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", 0)
    with pytest.raises(SnapshotError) as refused:
        snapshot.load(BROKEN / name)
    assert refused.value.args[0].startswith(f"{BROKEN / name}: ") and "\n" not in refused.value.args[0]


def _large(tmp_path: Path, change: str) -> Path:
    data = json.loads(snapshot.dumps(large_host(1_000, 100)))
    data["processes"][12]["rss_anon"] = change
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data))
    return path


def test_a_file_past_the_plain_limits_is_named_in_msgspec_words(tmp_path, monkeypatch, capsys):
    """Too large to decode again as plain JSON: still one line with the JSON path."""
    path = _large(tmp_path, "12k")
    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", 1000)
    assert error_of(path, capsys) == f"oomtui: {path}: processes[12].rss_anon: expected integer | null, got string"
    path = _large(tmp_path, 12_000)
    path.write_bytes(path.read_bytes()[:-10])
    assert error_of(path, capsys) == f"oomtui: {path}: not valid JSON: Input data was truncated"


def test_a_file_within_the_plain_limits_is_named_in_our_words(tmp_path, capsys):
    path = _large(tmp_path, "12k")
    assert error_of(path, capsys) == f'oomtui: {path}: processes[12].rss_anon: expected integer, got "12k"'


def test_deep_nesting_in_an_unknown_field_is_refused_in_one_line(tmp_path, capsys):
    """msgspec skips an unknown field's value without building it, but recursively: it must not end in a traceback."""
    path = tmp_path / "deep.json"
    head = b'{"format":"oomtui-snapshot","version":1,"host":{},"cgroups":[{"path":"/"}],"processes":[],"x":'
    path.write_bytes(head + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert error_of(path, capsys) == f"oomtui: {path}: JSON nested too deeply"
