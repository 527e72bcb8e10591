"""`oomtui snapshot save` and `oomtui snapshot show` through oomtui.cli.main."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

from oomtui.cli import main
from oomtui.model import Cgroup, Host, Process, Snapshot
from oomtui.snapshot import load, save

MiB = 1 << 20
HOSTILE = "\x1b[2J\u202eevil\nname"


def small_snapshot() -> Snapshot:
    return Snapshot(
        host=Host(hostname="box\x1b]0;pwned\x07", kernel="6.1.0", page_size=4096, mem_total=8 << 30,
                  mem_available=4 << 30, swap_total=0, swap_free=0, cgroup_mode="v2"),
        cgroups=(
            Cgroup(path="/", memory_current=900 * MiB),
            Cgroup(path="/app", memory_current=300 * MiB, memory_max=512 * MiB, swap_current=MiB),
            Cgroup(path=f"/app/{HOSTILE}", memory_current=200 * MiB),
            Cgroup(path="/idle", memory_current=0),
        ),
        processes=(
            Process(pid=10, comm=HOSTILE, cgroup=f"/app/{HOSTILE}", rss_anon=200 * MiB, rss_file=0, rss_shmem=0,
                    cmdline=(HOSTILE, "--flag"), oom_score_adj=300, uid=1000, oom_score=400),
            Process(pid=11, comm="small", cgroup="/app", rss_anon=MiB, rss_file=0, rss_shmem=0, cmdline=("small",)),
            Process(pid=2, comm="kthreadd", cgroup="/", kernel_thread=True),
        ),
        taken_at=1_764_000_000.0,
        source="synthetic",
    )


def test_save_writes_a_loadable_live_snapshot(tmp_path, capsys):
    out = tmp_path / "host.json"
    assert main(["snapshot", "save", str(out)]) == 0
    s = load(out)
    assert s.source == "live"
    assert s.process(os.getpid()) is not None
    assert s.cgroups[0].path == "/"
    assert "saved" in capsys.readouterr().err


def test_gz_round_trip_and_show(tmp_path, capsys):
    out = tmp_path / "host.json.gz"
    assert main(["snapshot", "save", str(out)]) == 0
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    data = json.loads(gzip.decompress(out.read_bytes()))
    assert data["format"] == "oomtui-snapshot"
    capsys.readouterr()
    assert main(["snapshot", "show", str(out), "--top", "100000"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"host {os.uname().nodename},")
    assert any(line.split()[:1] == [str(os.getpid())] for line in text.splitlines())
    assert not [p for p in tmp_path.iterdir() if p.name != "host.json.gz"]  # no temporary file left


def test_save_to_stdout(capsysbinary):
    assert main(["snapshot", "save", "-"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert data["source"] == "live" and any(p["pid"] == os.getpid() for p in data["processes"])


def test_show_summarises_tree_and_largest(tmp_path, capsys):
    path = tmp_path / "s.json"
    save(small_snapshot(), path)
    assert main(["snapshot", "show", str(path), "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    app = next(line for line in lines if line.startswith("├─ app") or line.startswith("└─ app"))
    assert app.split()[2:8] == ["300.0", "MiB", "512.0", "MiB", "1.0", "MiB"]
    assert app.split()[-1] == "2"  # processes in the subtree
    assert "4 memory cgroups" in "\n".join(lines)
    table = lines[lines.index(next(x for x in lines if x.startswith("3 processes"))) + 2:]
    assert [row.split()[0] for row in table] == ["10", "11"]  # largest first, --top 2


def test_show_escapes_hostile_names(tmp_path, capsys):
    path = tmp_path / "s.json"
    save(small_snapshot(), path)
    assert main(["snapshot", "show", str(path)]) == 0
    out = capsys.readouterr().out
    for bad in ("\x1b", "\u202e", "\x07"):
        assert bad not in out
    assert r"\x1b[2J\u202eevil\x0aname" in out
    assert r"box\x1b]0;pwned\x07" in out
    assert "[kthreadd]" in out  # a kernel thread has no cmdline
    # host, blank, tree (2 headings, 4 cgroups), blank, processes (2 headings, 3): a newline in a name adds none
    assert len(out.splitlines()) == 3 + 1 + (2 + 4) + 1 + (2 + 3)


def test_show_errors_are_one_line_exit_1(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "oomtui-snapshot", "version": 1, "host": {}, "cgroups": [], "processes": [{}]}')
    for path in (broken, tmp_path / "missing.json", tmp_path):
        assert main(["snapshot", "show", str(path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"oomtui: {path}") and err.count("\n") == 1
        assert "Traceback" not in err


def test_save_to_an_unwritable_place_is_one_line_exit_1(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir.json"
    assert main(["snapshot", "save", str(target)]) == 1
    err = capsys.readouterr().err
    assert err == f"oomtui: cannot write {target}: No such file or directory\n"


def test_usage_errors_exit_2(capsys):
    assert main(["snapshot"]) == 2
    assert main(["snapshot", "show"]) == 2
    assert main(["snapshot", "frobnicate"]) == 2
    assert all(line.startswith("oomtui") for line in capsys.readouterr().err.splitlines())


def test_collector_and_command_import_no_textual():
    code = "import sys, oomtui.collect, oomtui.commands.snapshot, oomtui.text; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
