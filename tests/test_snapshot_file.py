"""The snapshot file contract: exact round trips, forward compatibility, and one line for every broken file."""

from __future__ import annotations

import gzip
import json
import unicodedata
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.cli import main
from oomtui.model import Cgroup, Host, Killer, Process, Snapshot, Workload
from oomtui.samples import demo_path, list_samples
from oomtui.snapshot import dumps, load, read_bounded, save, to_dict
from oomtui.synthetic import large_host
from tests.support.snapshot_files import full, json_types

BROKEN = Path(__file__).parent / "fixtures" / "broken"
SAMPLES = list_samples()

# Each file of the corpus and the one line the user gets for it (after "FILE: ").
CASES = {
    "truncated.json": "not valid JSON: Unterminated string starting at line 41 column 4",
    "truncated.json.gz": "broken gzip data (Compressed file ended before the end-of-stream marker was reached)",
    "gzip-garbage.json.gz": "broken gzip data (Error -3 while decompressing data: invalid block type)",
    "wrong-type.json": 'processes[1].rss_anon: expected integer, got "12k"',
    "wrong-type-nested.json": "cgroups[1].stat.anon: expected integer, got number",
    "wrong-type-psi.json": 'host.psi.some.avg10: expected number, got "high"',
    "wrong-type-bool.json": 'processes[1].kernel_thread: expected boolean, got "no"',
    "cmdline-not-string.json": "processes[1].cmdline[1]: expected string, got integer",
    "missing-pid.json": "processes[1].pid: required field is missing",
    "missing-cgroups.json": "$.cgroups: required field is missing",
    "missing-host.json": "$.host: required field is missing",
    "wrong-format.json": '$.format: expected "oomtui-snapshot", got "oomd-snapshot" (not an oomtui snapshot)',
    "wrong-version.json": "$.version: this oomtui reads version 1, got 2",
    "negative-page-size.json": "host.page_size: expected a positive integer, got -4096",
    "zero-page-size.json": "host.page_size: expected a positive integer, got 0",
    "adj-out-of-range.json": "processes[1].oom_score_adj: expected an integer from -1000 to 1000, got 1001",
    "adj-below-range.json": "processes[0].oom_score_adj: expected an integer from -1000 to 1000, got -1001",
    "relative-cgroup-path.json": 'cgroups[1].path: expected a cgroup path like "/" or "/a/b", got "app"',
    "duplicate-cgroup.json": 'cgroups[2].path: duplicate cgroup "/app"',
    "top-level-list.json": "$: expected object, got a list",
    "binary-garbage.bin": "not UTF-8 text (byte 2)",
    "non-utf8.json": "not UTF-8 text (byte 1033)",
    "utf16.json": "not UTF-8 text (byte 0)",
    "deeply-nested.json": "JSON nested too deeply",
    "empty.json": "not valid JSON: Expecting value at line 1 column 1",
    "nan.json": "not valid JSON: NaN is not a JSON number",
    "huge-integer.json": "not valid JSON: Exceeds the limit (4300 digits) for integer string conversion",
}

HOSTILE = [
    "[/bold]",
    "[red]x[/red]",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "\u202eevil\u202c\u2066isolate\u2069",
    "x" * 300,
    "tab\tnew\nline\rnul\x00",
    "lone\udcffsurrogate",
    "emoji \U0001f600 and \u00e9",
]


def error_of(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """What `oomtui snapshot show FILE` tells the user: one line on stderr, exit 1, no traceback."""
    code = main(["snapshot", "show", str(path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.rstrip("\n")


def test_every_corpus_file_has_a_case():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_file_gives_its_one_line(name, capsys):
    path = BROKEN / name
    assert error_of(path, capsys) == f"oomtui: {path}: {CASES[name]}"


def test_gzip_bomb_is_refused_past_the_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(snapshot, "MAX_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * (64 << 20), mtime=0))  # 64 MiB of spaces in about 64 KiB
    assert bomb.stat().st_size < 1 << 20
    assert error_of(bomb, capsys) == f"oomtui: {bomb}: expands to more than 1 MiB; refusing to load"


def test_huge_plain_file_is_refused_past_the_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(snapshot, "MAX_BYTES", 1 << 20)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * ((1 << 20) + 1))
    assert error_of(big, capsys) == f"oomtui: {big}: larger than 1 MiB; refusing to load"


def test_missing_file_and_directory(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert error_of(missing, capsys) == f"oomtui: {missing}: No such file or directory"
    assert error_of(tmp_path, capsys) == f"oomtui: {tmp_path}: Is a directory"


# -- round trips -----------------------------------------------------------------


def test_the_samples_are_there():
    assert {p.name for p in SAMPLES} >= {"k8s-node-v2.json.gz", "systemd-server-v2.json.gz", "docker-v1.json.gz"}


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_round_trips_exactly(sample, suffix, tmp_path):
    first = load(sample)
    out = tmp_path / f"copy{suffix}"
    save(first, out)
    assert (out.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".json.gz")
    again = load(out)
    assert again.host == first.host
    assert again.cgroups == first.cgroups
    assert again.processes == first.processes
    assert (again.taken_at, again.source, again.oom_event, again.whatif) == (
        first.taken_at, first.source, first.oom_event, first.whatif)
    # Every field of the file itself survives, values and types exactly (1.0 stays a float, 1 an int).
    original, copied = json.loads(read_bounded(sample)), json.loads(read_bounded(out))
    assert copied == original
    assert json_types(copied) == json_types(original)


def test_unknown_fields_are_ignored_at_every_level(tmp_path):
    sample = demo_path("systemd-server-v2")  # has every optional object: psi, pressure, trend
    data = json.loads(read_bounded(sample))
    future = {"added_in_v1_9": {"nested": [1, 2, {"x": None}]}}
    data.update(future)
    data["host"].update(future)
    data["host"]["sysctl"].update(future)
    data["host"]["psi"]["some"].update(future)
    for record in data["cgroups"] + data["processes"]:
        record.update(future)
    for c in data["cgroups"]:
        c["pressure"]["full"].update(future)
        if "trend" in c:
            c["trend"].update(future)
    assert any("trend" in c for c in data["cgroups"])
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    assert to_dict(load(path)) == to_dict(load(sample))


def _hostile_snapshot() -> Snapshot:
    host = Host(hostname=HOSTILE[2], kernel=HOSTILE[3], page_size=4096, mem_total=1 << 30, mem_available=1 << 29,
                swap_total=0, swap_free=0, cgroup_mode="v2")
    cgroups = [Cgroup(path="/")] + [
        Cgroup(path=f"/{name.replace('/', '_')}", xattrs={"user.oomd_avoid": name}, stat={name: 1})
        for name in HOSTILE
    ]
    processes = [
        Process(pid=100 + i, comm=name, cgroup=cgroups[i + 1].path, cmdline=(name, "--flag", name[::-1]),
                rss_anon=4096, start_time=1764072000.25 + i)
        for i, name in enumerate(HOSTILE)
    ]
    return Snapshot(host=host, cgroups=tuple(cgroups), processes=tuple(processes), taken_at=1764072001.5,
                    source="synthetic")


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_hostile_names_round_trip_exactly(suffix, tmp_path):
    first = _hostile_snapshot()
    out = tmp_path / f"hostile{suffix}"
    save(first, out)
    read_bounded(out).decode("utf-8")  # still UTF-8 JSON, as the format says
    again = load(out)
    assert [p.comm for p in again.processes] == HOSTILE
    assert again.processes == first.processes
    assert again.cgroups == first.cgroups
    assert again.host == first.host


def test_hostile_names_reach_the_summary_without_control_characters(tmp_path, capsys):
    path = tmp_path / "hostile.json"
    save(_hostile_snapshot(), path)
    assert main(["snapshot", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert not [c for c in out if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs")]


LARGE = json.loads(dumps(large_host(300, 40)))
EDGE_PROCESSES = [
    {"pid": 7, "cgroup": "/"},
    {"pid": 7, "cgroup": "/a", "comm": None, "oom_score_adj": None, "cmdline": None, "kernel_thread": None},
    {"pid": 7, "cgroup": "/a", "start_time": 1764072000, "oom_score_adj": -1000, "cmdline": []},
    {"pid": 7, "cgroup": "/a", "rss_anon": True},
    {"pid": 7, "cgroup": "/a/", "rss_anon": 1},
    {"pid": 7, "cgroup": "/a", "oom_score_adj": 1000.0},
    {"pid": "7", "cgroup": "/a"},
    {"pid": 7, "cgroup": "/a", "cmdline": "not a list"},
    {"pid": 7, "cgroup": "/a", "kernel_thread": 1},
]
EDGE_CGROUPS = [
    {"path": "/"},
    {"path": "/a", "stat": None, "events": {}, "xattrs": None, "pressure": None, "trend": None, "oom_group": None},
    {"path": "/a", "memory_max": True},
    {"path": "a"},
    {"path": "/a", "stat": {"anon": 1.0}},
    {"path": "/a", "xattrs": {"user.oomd_avoid": 1}},
    {"path": "/a", "oom_group": 1},
    {"path": "/a", "pressure": {"some": {"avg10": 1}}},
    {"path": "/a", "pressure": {"some": None, "full": {"avg10": 1, "avg60": 2.5, "avg300": 0, "total": 9}}},
    {"path": "/a", "trend": {"interval": "5"}},
    {"path": "/a", "trend": {"interval": 5, "memory_current_prev": 3}},
]
BUILDERS = {
    "process": (snapshot._valid_process, snapshot._checked_process),
    "cgroup": (snapshot._valid_cgroup, snapshot._checked_cgroup),
}
RECORDS = (
    [("process", r) for r in EDGE_PROCESSES + LARGE["processes"][::7] + full()["processes"]]
    + [("cgroup", r) for r in EDGE_CGROUPS + LARGE["cgroups"][::3] + full()["cgroups"]]
)


@pytest.mark.parametrize(("kind", "record"), RECORDS)
def test_bulk_check_agrees_with_the_field_by_field_check(kind, record):
    """The fast path for well-formed records must build what the careful path builds, and defer the rest."""
    fast_path, careful_path = BUILDERS[kind]
    fast = fast_path(record)
    try:
        careful = careful_path(record, "x[0]")
    except snapshot.SnapshotError:
        assert fast is None
    else:
        assert fast is None or fast == careful


def test_well_formed_records_take_the_bulk_path():
    assert all(snapshot._valid_process(p) for p in LARGE["processes"])
    assert all(snapshot._valid_cgroup(c) for c in LARGE["cgroups"])
    assert all(snapshot._valid_cgroup(c) for c in json.loads(read_bounded(demo_path("systemd-server-v2")))["cgroups"])
    # every field of the format, values at the edges of their ranges (pid 1, adj ±1000), an integer start time
    assert all(snapshot._valid_process(p) for p in full()["processes"] + [{"pid": 1, "cgroup": "/", "start_time": 7}])
    assert all(snapshot._valid_cgroup(c) for c in full()["cgroups"])


def test_workloads_and_killers_round_trip_and_are_checked(tmp_path):
    """The optional `cgroups[].workload` and `host.killers` survive a save, and bad values name their path."""
    pod = Workload(kind="k8s-pod", name="shop/cart-7d9", namespace="shop", pod="cart-7d9",
                   pod_uid="0b1c", qos="Burstable", source="pod-logs")
    killer = Killer(name="earlyoom", pid=812, settings={"prefer": "^java$", "mem_min_percent": "5"},
                    source="command line of pid 812")
    s = Snapshot(
        host=Host(hostname="h", kernel="6.1.0", page_size=4096, mem_total=1 << 30, mem_available=1 << 29,
                  swap_total=0, swap_free=0, cgroup_mode="v2", killers=(killer,)),
        cgroups=(Cgroup(path="/"), Cgroup(path="/kubepods"), Cgroup(path="/kubepods/pod0b1c", workload=pod)),
        processes=(Process(pid=7, comm="java", cgroup="/kubepods/pod0b1c"),),
    )
    path = tmp_path / "w.json"
    save(s, path)
    back = load(path)
    assert back.cgroup("/kubepods/pod0b1c").workload == pod
    assert back.workload_of("/kubepods/pod0b1c/ctr") == pod
    assert back.workload_of("/kubepods") is None
    assert back.host.killers == (killer,)
    assert to_dict(back) == to_dict(s)
    data = to_dict(s)
    data["cgroups"][2]["workload"]["qos"] = "Gold"
    with pytest.raises(snapshot.SnapshotError, match=r"^cgroups\[2\]\.workload\.qos: expected one of"):
        snapshot.from_dict(data)
    data = to_dict(s)
    data["host"]["killers"][0]["pid"] = 0
    with pytest.raises(snapshot.SnapshotError, match=r"^host\.killers\[0\]\.pid: expected a pid"):
        snapshot.from_dict(data)
    data = to_dict(s)
    del data["host"]["killers"]
    assert snapshot.from_dict(data).host.killers is None
