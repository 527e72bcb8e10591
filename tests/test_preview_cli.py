"""`oomtui preview` as scripts and people call it: the table, the JSON contract, edits, errors."""

from __future__ import annotations

import json

import pytest

from oomtui import snapshot as snapshot_file
from oomtui import whatif
from oomtui.cli import main
from oomtui.model import OomEvent, WhatIf
from tests.support.handmade import MiB, cgroup, proc, snapshot

DECISION_KEYS = {
    "policy", "domain", "triggered", "victim", "victim_cgroup", "killed_pids", "freed_bytes", "ranking",
    "reason", "uncertain",
}
STANDING_KEYS = {"in_force", "applicable", "settings_source", "acts_at", "distance"}  # optional in the format

VICTIM_KEYS = {"pid", "cgroup", "comm", "start_time", "cmdline"}


def _host(**kw):
    return snapshot(
        [cgroup("/a", 300), cgroup("/a/x", 200, memory_max=400 * MiB), cgroup("/b", 250)],
        [proc(10, "/a/x", 150, comm="evil\x1b[2J\u202e"), proc(11, "/a/x", 50), proc(20, "/b", 240),
         proc(30, "/", 100)],
        **kw,
    )


@pytest.fixture
def snap_file(tmp_path):
    path = tmp_path / "host.json"
    snapshot_file.save(_host(), path)
    return str(path)


def run(capsys, *argv):
    code = main(["preview", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_names_each_policy_and_its_victim(capsys, snap_file):
    code, out, err = run(capsys, "--snapshot", snap_file, "--policy", "hierarchical", "--policy", "terminal")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "domain /"
    assert lines[1].split()[:3] == ["POLICY", "ACTS", "NOW"]
    hier = next(line for line in lines if line.startswith("hierarchical"))
    term = next(line for line in lines if line.startswith("terminal"))
    assert "pid 10 " in hier and "150.0 MiB" in hier
    assert "pid 20 p20 in /b" in term and "240.0 MiB" in term
    assert len([line for line in lines if line.startswith(("hierarchical", "terminal"))]) == 2
    assert "\x1b" not in out and "\u202e" not in out
    assert "evil\\x1b[2J\\u202e" in out


def test_json_is_the_documented_list(capsys, snap_file):
    code, out, _ = run(capsys, "--snapshot", snap_file, "--json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and len(data) >= 3
    assert {"hierarchical", "terminal", "cgroup-aware"} <= {d["policy"] for d in data}
    for d in data:
        assert set(d) - STANDING_KEYS == DECISION_KEYS  # no oom_event: no agrees_with_kernel
        assert d["domain"] == "/"
        assert d["triggered"] in (None, True, False)
        assert d["victim"] is None or (set(d["victim"]) == VICTIM_KEYS and isinstance(d["victim"]["pid"], int))
        assert d["victim_cgroup"] is None or isinstance(d["victim_cgroup"], str)
        assert all(isinstance(p, int) for p in d["killed_pids"])
        assert d["freed_bytes"] is None or isinstance(d["freed_bytes"], int)
        assert isinstance(d["reason"], str) and "\n" not in d["reason"]
        assert d["uncertain"] is None or isinstance(d["uncertain"], str)
        for c in d["ranking"]:
            assert isinstance(c["cgroup"], str) and isinstance(c["score"], (int, float)) and isinstance(c["why"], str)
            assert "pid" not in c or isinstance(c["pid"], int)
    hier = next(d for d in data if d["policy"] == "hierarchical")
    assert hier["victim"] == {"pid": 10, "cgroup": "/a/x", "comm": "evil\x1b[2J\u202e", "start_time": 1010.0,
                              "cmdline": []}
    assert hier["killed_pids"] == [10]
    assert hier["freed_bytes"] == 150 * MiB


def test_domain_limits_the_candidates(capsys, snap_file):
    code, out, _ = run(capsys, "--snapshot", snap_file, "--domain", "/a/x", "--policy", "terminal", "--json")
    assert code == 0
    (d,) = json.loads(out)
    assert d["domain"] == "/a/x"
    assert d["victim"]["pid"] == 10
    assert {c["cgroup"] for c in d["ranking"]} == {"/a/x"}


@pytest.mark.parametrize("form", ["bare", "snapshot"])
def test_whatif_file_changes_the_decision(capsys, snap_file, tmp_path, form):
    w = whatif.set_interdependent(WhatIf(), "/a/x", True)
    w = whatif.set_score(w, "/a/x", 100)
    path = tmp_path / "edits.json"
    if form == "bare":
        path.write_text(json.dumps(snapshot_file.whatif_dict(w)))
    else:
        snapshot_file.save(_host(whatif=w), path)
    code, out, _ = run(capsys, "--snapshot", snap_file, "--policy", "terminal", "--whatif", str(path), "--json")
    assert code == 0
    (d,) = json.loads(out)
    assert d["victim_cgroup"] == "/a/x"
    assert sorted(d["killed_pids"]) == [10, 11]


def test_saved_edits_apply_and_the_table_says_so(capsys, tmp_path):
    path = tmp_path / "edited.json"
    snapshot_file.save(_host(whatif=whatif.set_score(WhatIf(), "/b", 100)), path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "hierarchical")
    assert code == 0
    assert "pid 20 p20 in /b" in out
    assert "what-if edits" in out


def test_a_recorded_oom_is_compared_with_each_policy(capsys, tmp_path):
    path = tmp_path / "oom.json"
    event = OomEvent(kind="global", domain="/", killed_pid=20, killed_comm="p20")
    snapshot_file.save(_host(oom_event=event), path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "hierarchical", "--policy", "terminal")
    assert code == 0
    assert "the kernel killed pid 20 (p20) in a global OOM of /" in out.splitlines()[0]
    assert "KERNEL'S?" in out
    assert "differs" in next(line for line in out.splitlines() if line.startswith("hierarchical"))
    assert "same" in next(line for line in out.splitlines() if line.startswith("terminal"))


def test_a_kernel_log_is_replayed_in_its_domain(capsys):
    log = "tests/fixtures/oomlogs/v618_memcg_v1_kmsg.txt"
    code, out, err = run(capsys, "--snapshot", log, "--policy", "kernel", "--policy", "terminal")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("domain /process_api/own/oomtui-test-a — the kernel killed pid 6661 (oomt-big)")
    assert lines[1].startswith("replay: the kernel policy agrees")
    kernel = next(line for line in lines if line.startswith("kernel "))
    assert "pid 6661" in kernel and "same" in kernel
    code, out, _ = run(capsys, "--snapshot", log, "--policy", "kernel", "--json")
    (d,) = json.loads(out)
    assert d["domain"] == "/process_api/own/oomtui-test-a" and d["victim"]["pid"] == 6661


def test_options_with_a_recorded_oom_still_compare(capsys, tmp_path):
    path = tmp_path / "oom.json"
    snapshot_file.save(_host(oom_event=OomEvent(kind="global", domain="/", killed_pid=20)), path)
    code, out, err = run(capsys, "--snapshot", str(path), "--policy", "earlyoom", "--option", "earlyoom.prefer=^p11$")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith("earlyoom"))
    assert "pid 11 " in row and "differs" in row
    assert "replay:" not in out


def test_ties_are_listed_as_uncertain(capsys, tmp_path):
    path = tmp_path / "tie.json"
    snapshot_file.save(snapshot([cgroup("/r", 100)], [proc(70, "/r", 40), proc(71, "/r", 40)]), path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "terminal")
    assert code == 0
    tail = out.split("uncertain:")[1]
    assert "terminal:" in tail and "process 70" in tail and "process 71" in tail


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "nosuch"], "unknown policy 'nosuch'"),
        (["--option", "hierarchical.depth=3"], "has no option 'depth'"),
        (["--option", "garbage"], "expected POLICY.KEY=VALUE"),
        (["--domain", "/nowhere"], "no cgroup '/nowhere'"),
        (["--domain", "/a"], "/a has no memory limit"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(capsys, snap_file, argv, message):
    code, out, err = run(capsys, "--snapshot", snap_file, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_domain_error_lists_the_limited_cgroups(capsys, snap_file):
    _, _, err = run(capsys, "--snapshot", snap_file, "--domain", "/b")
    assert "cgroups with a limit: /a/x" in err


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "oomtui-snapshot", "version": 1}'])
def test_bad_files_fail_with_exit_1(capsys, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, out, err = run(capsys, "--snapshot", str(bad))
    assert code == 1 and out == ""
    assert err.startswith("oomtui: ") and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "--snapshot", str(tmp_path / "missing.json"))
    assert code == 1 and "no such file" in err.lower()


def test_a_bad_whatif_file_fails_with_exit_1(capsys, snap_file, tmp_path):
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps({"processes": {"abc": {"oom_score_adj": 1}}}))
    code, _, err = run(capsys, "--snapshot", snap_file, "--whatif", str(bad))
    assert code == 1
    assert err == f'oomtui: {bad}: whatif.processes["abc"]: expected a pid as a string of digits\n'


def test_the_live_host_without_a_snapshot(capsys):
    code, out, err = run(capsys, "--policy", "hierarchical", "--policy", "cgroup-aware", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [d["policy"] for d in data] == ["hierarchical", "cgroup-aware"]
    for d in data:
        assert set(d) - STANDING_KEYS == DECISION_KEYS
        assert not d["reason"].startswith("policy failed"), d["reason"]


def test_json_victims_carry_what_a_script_needs_to_kill_them(capsys, tmp_path):
    """comm, start_time and cmdline: enough to chain to `oomtui kill --pid PID --start-time T`."""
    path = tmp_path / "host.json"
    host = snapshot([cgroup("/a", 300)], [proc(10, "/a", 150, cmdline=("/usr/bin/app", "--serve", "\x1b[2J")),
                                          proc(11, "/a", 50)])
    snapshot_file.save(host, path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "kernel", "--json")
    assert code == 0
    (d,) = json.loads(out)
    assert d["victim"] == {"pid": 10, "cgroup": "/a", "comm": "p10", "start_time": 1010.0,
                           "cmdline": ["/usr/bin/app", "--serve", "\x1b[2J"]}
    assert "\x1b" not in out  # JSON escapes it
    assert "agrees_with_kernel" not in d


def test_json_says_whether_each_policy_agrees_with_the_recorded_oom(capsys, tmp_path):
    path = tmp_path / "oom.json"
    snapshot_file.save(_host(oom_event=OomEvent(kind="global", domain="/", killed_pid=20, killed_comm="p20")), path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "hierarchical", "--policy", "terminal", "--json")
    assert code == 0
    by_policy = {d["policy"]: d for d in json.loads(out)}
    assert by_policy["terminal"]["agrees_with_kernel"] is True
    assert by_policy["hierarchical"]["agrees_with_kernel"] is False
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "terminal", "--domain", "/a/x", "--json")
    assert "agrees_with_kernel" not in json.loads(out)[0]  # the OOM was not in this domain
    snapshot_file.save(_host(oom_event=OomEvent(kind="global", domain="/", killed_pid=None)), path)
    code, out, _ = run(capsys, "--snapshot", str(path), "--policy", "terminal", "--json")
    assert json.loads(out)[0]["agrees_with_kernel"] is None
