"""How a file's bytes become a snapshot: gzip told by content, standard input, every limit exactly at its edge.

A limit is behaviour a user meets: a file at the limit loads, one byte (or
one value) more is refused in one line that names the limit.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from oomtui import snapshot
from oomtui.snapshot import SnapshotError, count_values, dumps, encode, load, loads, parse_json, read_bounded, save
from tests.support.snapshot_files import full, minimal
from tests.test_snapshot_contract import GONE, _case_id, _edited

RAW = json.dumps(full()).encode()


def _file(tmp_path: Path, data: bytes, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refused(path: Any) -> str:
    with pytest.raises(SnapshotError) as refused:
        load(path)
    return refused.value.args[0]


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch):
    def feed(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    return feed


# -- gzip by content, and standard input --------------------------------------------


@pytest.mark.parametrize(("name", "zipped"), [("a.json", True), ("b.json.gz", False), ("c.json.gz", True)])
def test_gzip_is_told_by_its_bytes_not_the_name(tmp_path, name, zipped):
    path = _file(tmp_path, gzip.compress(RAW) if zipped else RAW, name)
    assert snapshot.to_dict(load(path)) == full()


@pytest.mark.parametrize("zipped", [False, True])
def test_standard_input_reads_plain_and_gzip(stdin, zipped):
    stdin(gzip.compress(RAW) if zipped else RAW)
    assert snapshot.to_dict(load("-")) == full()


def test_standard_input_exactly_at_the_limit_loads_and_a_byte_more_is_refused(stdin, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW))
    stdin(RAW)
    assert load("-").process(4242).comm == "java"
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW) - 1)
    stdin(RAW)
    assert _refused("-") == f"-: larger than {len(RAW) - 1} bytes; refusing to load"


def test_a_gzip_on_standard_input_is_bounded_by_what_it_expands_to(stdin, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW) - 1)
    stdin(gzip.compress(RAW))
    assert _refused("-") == f"-: expands to more than {len(RAW) - 1} bytes; refusing to load"


def test_a_file_exactly_at_the_limit_loads_and_a_byte_more_is_refused(tmp_path, monkeypatch):
    plain, zipped = _file(tmp_path, RAW), _file(tmp_path, gzip.compress(RAW), "s.json.gz")
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW))
    assert load(plain).process(4242).comm == load(zipped).process(4242).comm == "java"
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW) - 1)
    assert _refused(plain) == f"{plain}: larger than {len(RAW) - 1} bytes; refusing to load"
    assert _refused(zipped) == f"{zipped}: expands to more than {len(RAW) - 1} bytes; refusing to load"


def test_a_gzip_file_is_bounded_by_what_it_expands_to_not_by_its_own_size(tmp_path, monkeypatch):
    """Stored without compression, a gzip is larger than its content: it loads if the content fits."""
    stored = _file(tmp_path, gzip.compress(RAW, compresslevel=0), "s.json.gz")
    monkeypatch.setattr(snapshot, "MAX_BYTES", len(RAW))
    assert stored.stat().st_size > len(RAW)
    assert load(stored).process(4242).comm == "java"


def test_a_limit_of_mebibytes_is_named_in_them(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_BYTES", (3 << 20) + 5)
    big = _file(tmp_path, b" " * ((3 << 20) + 6))
    assert _refused(big) == f"{big}: larger than 3 MiB; refusing to load"


def test_a_caller_may_set_its_own_limit(tmp_path):
    path = _file(tmp_path, RAW)
    assert read_bounded(path, len(RAW)) == RAW
    with pytest.raises(SnapshotError, match=f"^{path}: larger than {len(RAW) - 1} bytes; refusing to load$"):
        read_bounded(path, len(RAW) - 1)


def test_broken_gzip_on_standard_input_is_one_line(stdin):
    stdin(gzip.compress(RAW)[:-9])
    assert _refused("-").startswith("-: broken gzip data (Compressed file ended before the end-of-stream marker")


def test_an_unreadable_file_names_the_reason(tmp_path):
    assert _refused(tmp_path / "none.json") == f"{tmp_path / 'none.json'}: No such file or directory"


# -- JSON text ------------------------------------------------------------------------


def test_a_byte_order_mark_is_allowed(tmp_path):
    assert snapshot.to_dict(load(_file(tmp_path, b"\xef\xbb\xbf" + RAW))) == full()
    assert parse_json(b"\xef\xbb\xbf[1]", "x") == [1]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_numbers_are_refused_by_name(constant):
    with pytest.raises(SnapshotError, match=f"^x: not valid JSON: {constant} is not a JSON number$"):
        parse_json(f'{{"taken_at": {constant}}}'.encode(), "x")


def test_values_are_counted_exactly_where_no_string_holds_a_separator():
    """[1,2,{"a":[3]}] holds six values and one key: seven to count, and the limit is inclusive."""
    raw = b'[1,2,{"a":[3]}]'
    assert parse_json(raw, "x", max_values=7) == [1, 2, {"a": [3]}]
    with pytest.raises(SnapshotError) as refused:
        parse_json(raw, "x", max_values=6)
    assert refused.value.args[0] == "x: more than 6 JSON values; refusing to load"


def test_the_default_value_limit_is_named_with_thousands_separators(monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_JSON_VALUES", 1234)
    raw = b"[" + b"0," * 1234 + b"0]"
    with pytest.raises(SnapshotError) as refused:
        parse_json(raw, "x")
    assert refused.value.args[0] == "x: more than 1,234 JSON values; refusing to load"
    monkeypatch.setattr(snapshot, "MAX_JSON_VALUES", 1236)
    assert len(parse_json(raw, "x")) == 1235


def _items(value: Any) -> int:
    """What `loads` counts for compact JSON: each value and key, each string (keys too) once more, and an empty
    object or list once more (its opening bracket is counted as if a value followed)."""
    if isinstance(value, (dict, list)):
        inner = [2 + _items(v) for v in value.values()] if isinstance(value, dict) else list(map(_items, value))
        return 1 + sum(inner) + (not value)
    return 2 if isinstance(value, str) else 1


def _quoted() -> dict[str, Any]:
    """A comm holding one `"`: the file then has an odd number of quotes, one string counted once."""
    data = minimal()
    data["processes"][0]["comm"] = 'say "hi'
    return data


@pytest.mark.parametrize("data", [minimal(), _quoted()], ids=["plain", "escaped-quote"])
def test_values_and_strings_are_counted_exactly_and_the_limit_is_inclusive(data, monkeypatch):
    raw = json.dumps(data, separators=(",", ":")).encode()
    monkeypatch.setattr(snapshot, "MAX_JSON_ITEMS", _items(data))
    assert loads(raw, "x").processes[0].comm == data["processes"][0].get("comm", "")
    monkeypatch.setattr(snapshot, "MAX_JSON_ITEMS", _items(data) - 1)
    with pytest.raises(SnapshotError, match=f"^x: more than {_items(data) - 1} JSON values and strings"):
        loads(raw, "x")


# -- a file too large to read twice is refused in msgspec's words ------------------------

TYPED_WORDS = [
    (("version",), 2, "$.version: invalid enum value 2"),
    (("format",), GONE, "$: object missing required field format"),
    (("host",), [], "$.host: expected an object, got a list"),
    (("source",), 5, "$.source: expected string | null, got integer"),
    (("taken_at",), "x", "$.taken_at: expected number | null, got string"),
    (("processes", 2), [], "processes[2]: expected an object, got a list"),
    (("processes", 2, "pid"), None, "processes[2].pid: expected integer, got null"),
    (("processes", 2, "pid"), 0, "processes[2].pid: expected integer >= 1"),
    (("processes", 2, "cgroup"), GONE, "processes[2]: object missing required field cgroup"),
    (("cgroups", 1, "oom_group"), "x", "cgroups[1].oom_group: expected boolean | null, got string"),
    (("cgroups", 1, "stat", "anon"), 1.5, "cgroups[1].stat[...]: expected integer, got number"),
    (("oom_event", "kind"), "x", "oom_event.kind: invalid enum value 'x'"),
]


@pytest.mark.parametrize(("where", "value", "line"), TYPED_WORDS, ids=[_case_id(w, v) for w, v, _ in TYPED_WORDS])
def test_past_the_plain_limits_the_line_is_in_msgspecs_words(where, value, line, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", 0)
    with pytest.raises(SnapshotError) as refused:
        loads(json.dumps(_edited(where, value)).encode(), "f.json")
    assert refused.value.args[0] == f"f.json: {line}"


def test_not_json_past_the_plain_limits(monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", 0)
    truncated = "not valid JSON: Input data was truncated"
    for raw, line in ((b"[1]", "$: expected an object, got a list"), (RAW[:-3], truncated)):
        with pytest.raises(SnapshotError) as refused:
            loads(raw, "f.json")
        assert refused.value.args[0] == f"f.json: {line}"


def test_each_plain_limit_alone_decides_and_is_inclusive(monkeypatch):
    raw = json.dumps(_edited(("processes", 2, "pid"), "x")).encode()
    ours, theirs = 'f: processes[2].pid: expected integer, got "x"', "f: processes[2].pid: expected integer, got string"

    def line() -> str:
        with pytest.raises(SnapshotError) as refused:
            loads(raw, "f")
        return refused.value.args[0]

    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", len(raw))
    monkeypatch.setattr(snapshot, "MAX_JSON_VALUES", count_values(raw))
    assert line() == ours
    monkeypatch.setattr(snapshot, "MAX_JSON_VALUES", count_values(raw) - 1)
    assert line() == theirs
    monkeypatch.setattr(snapshot, "MAX_JSON_VALUES", count_values(raw))
    monkeypatch.setattr(snapshot, "MAX_PLAIN_BYTES", len(raw) - 1)
    assert line() == theirs


# -- writing ------------------------------------------------------------------------


def test_saving_to_standard_output_writes_one_line(capsysbinary):
    s = loads(RAW, "x")
    save(s, "-")
    out = capsysbinary.readouterr().out
    assert out == dumps(s) + b"\n" and out.count(b"\n") == 1
    assert snapshot.to_dict(loads(out, "-")) == full()


def test_a_gzip_file_is_the_same_bytes_every_time():
    """No time stamp in the gzip header (mtime 0): saving the same snapshot twice gives the same file."""
    data = encode(loads(RAW, "x"), "s.json.gz")
    assert data[:2] == b"\x1f\x8b" and data[4:8] == b"\0\0\0\0"
    assert gzip.decompress(data) == encode(loads(RAW, "x"), "s.json")


@pytest.mark.parametrize("read", [lambda d: loads(json.dumps(d).encode(), "f"), snapshot.from_dict],
                         ids=["file", "stream"])
def test_as_many_cgroups_and_processes_as_the_limits_load_and_one_more_is_refused(read, monkeypatch):
    d = full()
    monkeypatch.setattr(snapshot, "MAX_CGROUPS", len(d["cgroups"]))
    monkeypatch.setattr(snapshot, "MAX_PROCESSES", len(d["processes"]))
    assert len(read(d).processes) == 4
    for key in ("cgroups", "processes"):
        monkeypatch.setattr(snapshot, f"MAX_{key.upper()}", len(d[key]) - 1)
        with pytest.raises(SnapshotError) as refused:
            read(d)
        line = f"$.{key}: {len(d[key])} entries, more than the limit of {len(d[key]) - 1}; refusing to load"
        assert refused.value.args[0].removeprefix("f: ") == line
        monkeypatch.setattr(snapshot, f"MAX_{key.upper()}", len(d[key]))


def test_a_fifo_swapped_in_after_the_check_cannot_hang_the_open(tmp_path, monkeypatch):
    """The path is checked, then opened: a FIFO put there in between is opened without waiting, and refused."""
    fifo = tmp_path / "s.json"
    os.mkfifo(fifo)
    regular, real_stat = os.stat(__file__), os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **kw: regular if str(p) == str(fifo) else real_stat(p, *a, **kw))
    lines: list[str] = []

    def read() -> None:
        with pytest.raises(SnapshotError) as refused:
            read_bounded(fifo)
        lines.append(refused.value.args[0])

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    waited = reader.is_alive()
    if waited:  # the open waits for a writer: be one, so the thread ends before the test fails
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
    assert not waited, "opening the FIFO waited for a writer"
    assert lines == [f"{fifo}: a FIFO, not a regular file; refusing to read it"]
