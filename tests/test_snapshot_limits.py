"""Loading is bounded in memory and reads only regular files; snapshots hold to the format's letter."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui import snapshot, sources
from oomtui.cli import main
from oomtui.errors import UserError
from oomtui.evaluate import evaluate
from oomtui.samples import demo_path
from oomtui.snapshot import SnapshotError, load, read_bounded
from tests.support.limited import run_limited
from tests.test_snapshot_file import error_of

ROOT = Path(__file__).resolve().parent.parent


def sample_dict(name: str = "systemd-server-v2") -> dict:
    return json.loads(read_bounded(demo_path(name)))


def write(tmp_path: Path, data: dict, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# -- the contract to the letter ---------------------------------------------------


def test_duplicate_pid_is_refused_with_both_places(tmp_path, capsys):
    data = sample_dict()
    data["processes"][3]["pid"] = data["processes"][1]["pid"]
    path = write(tmp_path, data)
    pid = data["processes"][1]["pid"]
    assert error_of(path, capsys) == f"oomtui: {path}: processes[3].pid: duplicate pid {pid} (also processes[1])"


@pytest.mark.parametrize("pid", [0, -4])
def test_pid_below_one_is_refused(tmp_path, capsys, pid):
    data = sample_dict()
    data["processes"][2]["pid"] = pid
    path = write(tmp_path, data)
    assert error_of(path, capsys) == f"oomtui: {path}: processes[2].pid: expected a pid (an integer ≥ 1), got {pid}"


def test_process_in_an_unlisted_cgroup_is_refused(tmp_path, capsys):
    data = sample_dict()
    data["processes"][5]["cgroup"] = "/nowhere.slice"
    path = write(tmp_path, data)
    assert error_of(path, capsys) == f'oomtui: {path}: processes[5].cgroup: "/nowhere.slice" is not listed in cgroups'


def test_cgroup_before_its_parent_is_refused(tmp_path, capsys):
    data = sample_dict()
    paths = [c["path"] for c in data["cgroups"]]
    child = next(i for i, p in enumerate(paths) if p.count("/") == 2)
    parent = paths.index(child_parent := paths[child].rsplit("/", 1)[0])
    data["cgroups"].insert(parent, data["cgroups"].pop(child))  # the child now comes first
    path = write(tmp_path, data)
    why = f'the parent "{child_parent}" of "{paths[child]}" is not listed before it'
    assert error_of(path, capsys) == f"oomtui: {path}: cgroups[{parent}].path: {why}"


def test_root_must_come_first(tmp_path, capsys):
    data = sample_dict()
    data["cgroups"] = [c for c in data["cgroups"] if c["path"] != "/"]
    path = write(tmp_path, data)
    first = data["cgroups"][0]["path"]
    why = f'the parent "/" of "{first}" is not listed before it'
    assert error_of(path, capsys) == f"oomtui: {path}: cgroups[0].path: {why}"


def _null_pressure(p: dict | None) -> None:
    for line in ((p or {}).get("some"), (p or {}).get("full")):
        if line:
            line.update(avg10=None, avg60=None, avg300=None, total=None)


def test_null_taken_at_and_pressure_numbers_load_and_every_policy_runs(tmp_path, capsys):
    data = sample_dict()
    data["taken_at"] = None
    _null_pressure(data["host"]["psi"])
    for c in data["cgroups"]:
        _null_pressure(c.get("pressure"))
    s = load(write(tmp_path, data))
    assert s.taken_at is None and s.host.psi is not None and s.host.psi.full.avg10 is None
    decisions = {d.policy: d for d in evaluate(s, "/")}
    assert len(decisions) >= 12
    assert not [d.reason for d in decisions.values() if d.reason.startswith("policy failed")]
    assert decisions["oomd-pressure"].victim_cgroup is None  # unknown pressure is not a guess of 0
    assert decisions["systemd-oomd-pressure"].triggered is None
    assert main(["snapshot", "show", str(tmp_path / "s.json")]) == 0
    assert "memory pressure (full avg10) unknown" in capsys.readouterr().out


# -- non-regular files --------------------------------------------------------------


def _run(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    code = "import sys; from oomtui.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, stdin=stdin, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("command", [
    ["snapshot", "show"], ["preview", "--snapshot"], ["import-oom"], ["preview", "--whatif"],
])
def test_a_fifo_is_refused_without_hanging(tmp_path, command):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # nobody ever writes: opening it for reading would block forever
    done = _run(*command, str(fifo))
    assert done.returncode == 1, done
    assert done.stderr.endswith(f"{fifo}: a FIFO, not a regular file; refusing to read it\n"), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_devices_and_fifos_are_refused_by_every_reader(tmp_path):
    fifo = tmp_path / "events"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO"), (Path("/dev/null"), "a character device")):
        with pytest.raises(SnapshotError, match=f"^{path}: {kind}, not a regular file; refusing to read it$"):
            read_bounded(path)
        with pytest.raises((SnapshotError, UserError), match=f"{kind}, not a regular file"):
            sources.open_path(path)


def test_a_symlink_to_a_regular_file_still_reads(tmp_path):
    link = tmp_path / "link.json.gz"
    link.symlink_to(demo_path("docker-v1"))
    assert load(link).processes


# -- bounded in memory ----------------------------------------------------------------


def test_the_empty_list_bomb_is_refused_before_parsing(tmp_path, capsys):
    """A small gzip of empty lists, inside the byte limit: refused on counting, before json.loads builds one."""
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as f:
        f.write(b"[")
        for _ in range(7):  # 7 million lists, 21 MiB: inside the byte limit
            f.write(b"[]," * (1 << 20))
        f.write(b"[]]")
    assert bomb.stat().st_size < 256 << 10
    limit = snapshot.MAX_JSON_ITEMS
    assert error_of(bomb, capsys) == f"oomtui: {bomb}: more than {limit:,} JSON values and strings; refusing to load"


def test_too_many_processes_or_cgroups_name_the_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(snapshot, "MAX_PROCESSES", 10)
    monkeypatch.setattr(snapshot, "MAX_CGROUPS", 5)
    data = sample_dict("k8s-node-v2")
    path = write(tmp_path, data)
    assert error_of(path, capsys) == (
        f"oomtui: {path}: $.cgroups: {len(data['cgroups']):,} entries, more than the limit of 5; refusing to load"
    )
    data["cgroups"] = data["cgroups"][:5]
    path = write(tmp_path, data)
    assert error_of(path, capsys) == (
        f"oomtui: {path}: $.processes: {len(data['processes']):,} entries, more than the limit of 10; refusing to load"
    )


def test_the_limits_leave_room_for_a_large_host(tmp_path):
    """The 10,000-process benchmark host loads with room to spare (a third of each limit)."""
    from oomtui.synthetic import large_host

    path = tmp_path / "large.json.gz"
    snapshot.save(large_host(10_000, 2_000), path)
    raw = read_bounded(path)
    assert len(raw) * 3 < snapshot.MAX_BYTES and snapshot.count_values(raw) * 2.5 < snapshot.MAX_JSON_VALUES
    assert len(load(path).processes) == 10_000


def _bombs(tmp_path: Path) -> list[Path]:
    """Files built to cost the most memory per byte or per value, each just inside or past a limit."""
    def gz(name: str, *parts: tuple[bytes, int]) -> Path:
        path = tmp_path / name
        with gzip.open(path, "wb", compresslevel=1) as f:
            for chunk, times in parts:
                for _ in range(times // 4096):
                    f.write(chunk * 4096)
                f.write(chunk * (times % 4096))
        return path

    limit, items = snapshot.MAX_JSON_VALUES, snapshot.MAX_JSON_ITEMS
    return [
        gz("lists.json.gz", (b"[", 1), (b"[],", 85_000_000), (b"0]", 1)),  # the bomb, full size
        gz("zeros.json.gz", (b"0", 512 << 20)),  # half a GiB from half a MB: read only to the limit, never whole
        gz("dicts.json.gz", (b"[", 1), (b'{"a":0},', limit // 3 - 10), (b"0]", 1)),  # ~200 bytes per 3 values
        gz("floats.json.gz", (b"[", 1), (b"1.5,", limit - 10), (b"0]", 1)),
        # one astral character makes the whole text and the string four bytes a character
        gz("string.json.gz", (b'["\xf0\x9f\x98\x80', 1), (b"a", snapshot.MAX_BYTES - 16), (b'"]', 1)),
        gz("processes.json.gz", (b'{"format":"oomtui-snapshot","version":1,"host":{},"cgroups":[{"path":"/"}],'
                                 b'"processes":[', 1), (b'{"pid":1,"cgroup":"/"},', limit // 5 - 100),
           (b'{"pid":1,"cgroup":"/"}]}', 1)),
        gz("stats.json.gz",
           (b'{"format":"oomtui-snapshot","version":1,"host":{},"processes":[],"cgroups":[{"path":"/"}', 1),
           *[(b',{"path":"/c%d","stat":{%s}}' % (i, b",".join(b'"k%d":%d' % (k, 10**12 + k) for k in range(40))), 1)
             for i in range(items // 135)], (b',{"path":"/c0"}]}', 1)),  # refused last, after building everything
        # schema-valid, so typed decoding builds all of it before a check spanning records refuses it
        gz("cgroup-list.json.gz", (HEAD + b'"processes":[],"cgroups":[{"path":"/"}', 1),
           (b',{"path":"/a"}', items // 5 - 100), (b"]}", 1)),
        *[gz(f"cmdline-{i}.json.gz", (ONE + b'"cmdline":[""', 1),
             (arg, items // 2 - 100), (b']},{"pid":1,"cgroup":"/"}]}', 1)) for i, arg in enumerate(ARGS)],
        # decoded straight into the model's processes, then again through Structs for the one adj out of range
        gz("adj.json.gz", (ONE + b'"comm":""}', 1), (b',{"pid":1,"cgroup":"/","comm":""}', items // 12 - 10),
           (b',{"pid":1,"cgroup":"/","comm":"","oom_score_adj":5000}]}', 1)),
        gz("cmdline-10m.json.gz", (ONE + b'"cmdline":[""', 1),
           (b',""', 10_000_000), (b"]}]}", 1)),
        gz("cgroups-100k.json.gz", (HEAD + b'"processes":[],"cgroups":[{"path":"/"}', 1),
           *[(b',{"path":"/c%d","stat":{%s}}' % (i, b",".join(b'"k%d":%d' % (k, k) for k in range(40))), 1)
             for i in range(100_000)], (b"]}", 1)),
        gz("comm.json.gz", (ONE + b'"comm":"\\n\xf0\x9f\x98\x80', 1),
           (b"a", snapshot.MAX_BYTES - 200), (b'"},{"pid":1,"cgroup":"/"}]}', 1)),
    ]


HEAD = b'{"format":"oomtui-snapshot","version":1,"host":{},'
ONE = HEAD + b'"cgroups":[{"path":"/"}],"processes":[{"pid":1,"cgroup":"/",'  # then the rest of the process
ARGS = (b',"ab"', ',"😀😀"'.encode(), ',"ĀĀ"'.encode())  # the costliest strings per item: short, then wide


@pytest.mark.kernel
def test_a_50000_process_host_loads_under_a_400_mb_limit(memcg, tmp_path):
    """The scale issue 15 asks for: `snapshot show` of a 50,000-process host, peak under 300 MB."""
    from oomtui.synthetic import large_host

    path = tmp_path / "large.json.gz"
    snapshot.save(large_host(50_000), path)
    assert snapshot.count_items(read_bounded(path)) * 1.15 < snapshot.MAX_JSON_ITEMS
    child, peak = run_limited(memcg, 400 << 20, ["snapshot", "show", str(path)])
    assert child.returncode == 0, child.stderr[-500:]
    assert "50000" in child.stdout.replace(",", ""), child.stdout[:500]
    assert peak < 300 << 20, peak >> 20


@pytest.mark.kernel
def test_a_file_far_past_the_byte_limit_is_read_only_to_it(memcg, tmp_path):
    """A gigabyte (sparse: it costs no disk) as a file and on standard input: refused after MAX_BYTES + 1."""
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(1 << 30)
    for argv, stdin in ((["snapshot", "show", str(big)], None), (["snapshot", "show", "-"], big)):
        child, peak = run_limited(memcg, 400 << 20, argv, stdin)
        assert child.returncode == 1, (argv, child.returncode, child.stderr[-500:])  # -9: the OOM killer
        assert child.stderr.count("\n") == 1 and "larger than 36 MiB; refusing to load" in child.stderr, child.stderr
        assert peak < 300 << 20, (argv, peak >> 20)


@pytest.mark.kernel
def test_bombs_are_refused_under_a_400_mb_limit_not_killed(memcg, tmp_path):
    """Each bomb, opened by `snapshot show` inside a 400 MB memory cgroup: one line, exit 1, peak under 300 MB."""
    for bomb in _bombs(tmp_path):
        child, peak = run_limited(memcg, 400 << 20, ["snapshot", "show", str(bomb)])
        assert child.returncode == 1, (bomb.name, child.returncode, child.stderr[-500:])  # -9 would be the OOM killer
        assert child.stderr.count("\n") == 1 and "Traceback" not in child.stderr, child.stderr
        assert str(bomb) in child.stderr
        assert peak < 300 << 20, (bomb.name, peak >> 20)
