"""Knob writes on real processes and real cgroups, with the kernel's refusals in words."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomtui.act import HostActor, KnobWrite, plan_knob_writes
from oomtui.act.knobs import NO_OOM_GROUP_V1, apply_write, xattr_error_words
from oomtui.collect import collect_snapshot
from oomtui.collect.layout import CgroupLayout, detect_layout
from oomtui.model import CgroupEdit, ProcessEdit, WhatIf
from tests.support.hog import Hog, spawn_hog
from tests.support.nobody import NOBODY, as_nobody
from tests.support.reuse import Newcomer


@pytest.fixture
def audit(tmp_path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
def actor(audit) -> HostActor:
    return HostActor(audit, detect_layout())


@pytest.fixture
def hog(memcg):
    h = spawn_hog("knobbed", 0, cgroup_dir=memcg.dir, adj=0)
    yield h
    h.kill()


def _adj(pid: int) -> int:
    return int(Path(f"/proc/{pid}/oom_score_adj").read_text())


def _adj_write(hog, value: int, start_shift: float = 0.0) -> KnobWrite:
    p = collect_snapshot().process(hog.pid)
    assert p is not None and p.start_time is not None
    return KnobWrite("oom_score_adj", f"set {value}", value, pid=hog.pid, start_time=p.start_time + start_shift)


def _results(audit) -> list[dict]:
    """The result lines; each write's intent line comes first."""
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [e["phase"] for e in lines] == ["intent", "result"] * (len(lines) // 2)
    return lines[1::2]


def test_raising_oom_score_adj_from_a_what_if_edit(hog, actor, audit):
    snap = collect_snapshot()
    writes = plan_knob_writes(snap, WhatIf(processes={hog.pid: ProcessEdit(oom_score_adj=500)}))
    [result] = actor.apply(writes)
    assert result.ok, result.detail
    assert result.detail == f"oom_score_adj of {hog.pid} (knobbed) is now 500 (was 0)"
    assert _adj(hog.pid) == 500
    [entry] = _results(audit)
    assert entry["action"] == "knob" and entry["asked"]["pid"] == hog.pid and entry["asked"]["value"] == 500
    assert entry["result"] == {"ok": True, "detail": result.detail}


def test_lowering_below_what_the_process_may_lower_to_names_the_missing_capability(hog, actor, audit):
    """Down to 0 (the floor the hog inherited) the kernel allows it; below needs CAP_SYS_RESOURCE."""
    assert actor.apply([_adj_write(hog, 500)])[0].ok
    assert actor.apply([_adj_write(hog, 100)])[0].ok
    [result] = actor.apply([_adj_write(hog, -100)])
    assert not result.ok
    assert result.detail == ("not allowed: lowering oom_score_adj to -100 needs CAP_SYS_RESOURCE, "
                             "which oomtui does not have even though it runs as root")
    assert _adj(hog.pid) == 100
    assert [e["result"]["ok"] for e in _results(audit)] == [True, True, False]


def _written_as_nobody(write: KnobWrite) -> str:
    """What oomtui run by an ordinary user says of the write."""
    return as_nobody(lambda: apply_write(write, CgroupLayout("none", None, None, None)).detail)


@pytest.mark.parametrize("value", [500, 0, -100])
def test_another_users_process_is_refused_for_permission_whichever_way_the_value_goes(hog, value):
    """Its file is not ours to open: CAP_SYS_RESOURCE would not help, so lowering is not blamed."""
    assert _written_as_nobody(_adj_write(hog, value)) == "no permission (needs root or the same user)"
    assert _adj(hog.pid) == 0


def test_a_user_lowering_their_own_process_is_told_of_the_capability_and_not_said_to_be_root(hogs):
    """oomtui run by an ordinary user may open their own process's file; the kernel refuses the lowering."""
    own = Hog("theirs", subprocess.Popen(["sleep", "60"], user=NOBODY, group=NOBODY, extra_groups=[]))
    hogs.append(own)
    assert _written_as_nobody(_adj_write(own, -100)) == (
        "not allowed: lowering oom_score_adj to -100 needs CAP_SYS_RESOURCE, which oomtui does not have")
    assert _adj(own.pid) == 0


def test_a_changed_identity_writes_nothing(hog, actor):
    [result] = actor.apply([_adj_write(hog, 700, start_shift=-30)])
    assert not result.ok and result.detail.startswith(f"identity changed: pid {hog.pid} now belongs to")
    assert _adj(hog.pid) == 0


def test_oom_group_on_cgroup_v1_says_the_kernel_has_none(memcg, actor, audit):
    assert detect_layout().mode in ("v1", "hybrid")
    snap = collect_snapshot()
    [write] = plan_knob_writes(snap, WhatIf(cgroups={memcg.path: CgroupEdit(interdependent=True)}))
    [result] = actor.apply([write])
    assert (result.ok, result.detail) == (False, NO_OOM_GROUP_V1)
    assert _results(audit)[0]["result"]["detail"] == NO_OOM_GROUP_V1


def test_daemon_xattrs_are_set_and_removed(memcg, actor):
    snap = collect_snapshot()
    [write] = plan_knob_writes(snap, WhatIf(cgroups={memcg.path: CgroupEdit(xattrs={"user.oomd_avoid": "1"})}))
    assert actor.apply([write])[0].ok
    assert os.getxattr(memcg.dir, "user.oomd_avoid") == b"1"
    snap = collect_snapshot()
    assert snap.cgroup(memcg.path).xattrs.get("user.oomd_avoid") == "1"
    [write] = plan_knob_writes(snap, WhatIf(cgroups={memcg.path: CgroupEdit(xattrs={"user.oomd_avoid": None})}))
    [result] = actor.apply([write])
    assert result.ok and result.detail == f"removed user.oomd_avoid from {memcg.path}"
    assert "user.oomd_avoid" not in os.listxattr(memcg.dir)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop CAP_SYS_ADMIN")
def test_trusted_xattrs_without_cap_sys_admin_say_so(memcg, audit):
    code = (
        "import sys; from oomtui.act import HostActor, KnobWrite;"
        "[r] = HostActor(sys.argv[1]).apply([KnobWrite('xattr', 'x', '1', cgroup=sys.argv[2],"
        " name='trusted.oomd_prefer')]); print(r.ok, r.detail)"
    )
    out = subprocess.run(
        ["setpriv", "--bounding-set", "-sys_admin", "--", sys.executable, "-c", code, str(audit), memcg.path],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
    ).stdout
    assert out == "False not allowed: trusted.* xattrs need CAP_SYS_ADMIN\n"
    assert "trusted.oomd_prefer" not in os.listxattr(memcg.dir)


def test_an_unwritable_audit_log_writes_nothing(hog, tmp_path):
    (tmp_path / "file").write_text("")
    [result] = HostActor(tmp_path / "file" / "audit.jsonl").apply([_adj_write(hog, 300)])
    assert not result.ok and result.detail.startswith("cannot write the audit log ")
    assert _adj(hog.pid) == 0


def test_oom_group_on_v2_writes_the_file(tmp_path, audit):
    """This host's cgroup2 mount has no memory controller, so a v2 memory tree is laid out in tmp_path."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "memory.oom.group").write_text("0\n")
    (tmp_path / "bare").mkdir()
    actor = HostActor(audit, CgroupLayout("v2", tmp_path, tmp_path, None))
    on, missing, gone = actor.apply([
        KnobWrite("oom_group", "on", True, cgroup="/app"),
        KnobWrite("oom_group", "on", True, cgroup="/bare"),
        KnobWrite("oom_group", "on", True, cgroup="/gone"),
    ])
    assert (on.ok, on.detail) == (True, "memory.oom.group of /app is now 1")
    assert (tmp_path / "app" / "memory.oom.group").read_text() == "1"
    assert not missing.ok and missing.detail.startswith("cgroup /bare has no memory.oom.group")
    assert (gone.ok, gone.detail) == (False, "cgroup /gone no longer exists")


def test_a_recycled_pid_gets_no_write(memcg, actor, hogs):
    victim = spawn_hog("victim", 0, cgroup_dir=memcg.dir)
    write = _adj_write(victim, 800)
    victim.kill()
    time.sleep(max(0.0, write.start_time + 1.3 - time.time()))  # clear of the btime allowance
    newcomer = Newcomer(victim.pid, memcg.dir)
    hogs.append(newcomer)
    [result] = actor.apply([write])
    assert not result.ok and result.detail.startswith(f"identity changed: pid {victim.pid} now belongs to")
    assert _adj(newcomer.pid) == 0


@pytest.mark.parametrize(("err", "name", "words"), [
    (errno.EPERM, "trusted.oomd_prefer", "not allowed: trusted.* xattrs need CAP_SYS_ADMIN"),
    (errno.EACCES, "trusted.oomd_prefer", "not allowed: trusted.* xattrs need CAP_SYS_ADMIN"),
    (errno.EPERM, "user.oomd_avoid", "no permission (needs root or the owner of the cgroup)"),
    (errno.EACCES, "user.oomd_avoid", "no permission (needs root or the owner of the cgroup)"),
    (errno.EOPNOTSUPP, "user.oomd_avoid",
     "this kernel does not allow user.* xattrs on cgroups (needs Linux 5.7 or later)"),
    (errno.EOPNOTSUPP, "trusted.oomd_prefer", "this filesystem does not support trusted.* xattrs"),
    (errno.ENOENT, "user.oomd_avoid", "the cgroup no longer exists"),
    (errno.EIO, "user.oomd_avoid", "failed: Input/output error"),
])
def test_each_xattr_refusal_says_what_is_missing(err, name, words):
    assert xattr_error_words(OSError(err, os.strerror(err)), name) == words


def test_an_xattr_error_without_an_errno_shows_its_message():
    assert xattr_error_words(OSError("setxattr went wrong"), "user.oomd_avoid") == "failed: setxattr went wrong"


def _v2(root: Path | None) -> CgroupLayout:
    return CgroupLayout("v2", root, root, None)


@pytest.mark.parametrize("value", [1001, -1001, True, "500", 2.5])
def test_an_oom_score_adj_out_of_range_is_refused_before_any_process_is_looked_at(value):
    result = apply_write(KnobWrite("oom_score_adj", "x", value, pid=1, start_time=1.0), _v2(None))
    assert (result.ok, result.detail) == (False, f"oom_score_adj must be an integer from -1000 to 1000, not {value!r}")


def test_an_oom_score_adj_write_without_a_start_time_is_refused():
    result = apply_write(KnobWrite("oom_score_adj", "x", 500, pid=1), _v2(None))
    assert (result.ok, result.detail) == (False, "identity unknown: the snapshot has no start time for it, refusing")


def test_an_oom_score_adj_write_to_a_process_that_exited_says_it_is_gone():
    proc = subprocess.Popen(["true"])
    proc.wait()  # reaped: its pid names nothing now
    result = apply_write(KnobWrite("oom_score_adj", "x", 500, pid=proc.pid, start_time=1.0), _v2(None))
    assert (result.ok, result.detail) == (False, f"process {proc.pid} is gone")


def test_the_extremes_of_oom_score_adj_are_written(hog, actor):
    """-1000 is in range: the kernel, not a range check, refuses it to oomtui without CAP_SYS_RESOURCE."""
    assert actor.apply([_adj_write(hog, 1000)])[0].ok
    assert _adj(hog.pid) == 1000
    [low] = actor.apply([_adj_write(hog, -1000)])
    assert (low.ok, low.detail) == (False, "not allowed: lowering oom_score_adj to -1000 needs CAP_SYS_RESOURCE, "
                                           "which oomtui does not have even though it runs as root")


def test_an_unknown_kind_of_write_is_refused_by_name():
    result = apply_write(KnobWrite("sysctl", "x", 1), _v2(None))
    assert (result.ok, result.detail) == (False, "unknown kind of write 'sysctl'")


def test_oom_group_off_on_v2_writes_a_zero(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "memory.oom.group").write_text("1\n")
    result = apply_write(KnobWrite("oom_group", "off", False, cgroup="/app"), _v2(tmp_path))
    assert (result.ok, result.detail) == (True, "memory.oom.group of /app is now 0")
    assert (tmp_path / "app" / "memory.oom.group").read_text() == "0"


def test_oom_group_reaches_a_cgroup_whose_name_starts_with_any_letter(tmp_path):
    """Only the leading slash is taken off a cgroup path: /Xorg.slice is not /org.slice."""
    for name in ("Xorg.slice", "org.slice"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "memory.oom.group").write_text("0\n")
    result = apply_write(KnobWrite("oom_group", "on", True, cgroup="/Xorg.slice"), _v2(tmp_path))
    assert (result.ok, result.detail) == (True, "memory.oom.group of /Xorg.slice is now 1")
    assert [(tmp_path / n / "memory.oom.group").read_text() for n in ("Xorg.slice", "org.slice")] == ["1", "0\n"]


@pytest.mark.parametrize(("layout", "words"), [
    (CgroupLayout("v1", Path("/nonexistent"), None, None), NO_OOM_GROUP_V1),
    (CgroupLayout("hybrid", Path("/nonexistent"), Path("/nonexistent"), None), NO_OOM_GROUP_V1),
    (_v2(None), "no memory cgroups are mounted on this host"),
])
def test_oom_group_where_there_is_none_says_why(layout, words):
    result = apply_write(KnobWrite("oom_group", "on", True, cgroup="/app"), layout)
    assert (result.ok, result.detail) == (False, words)


def test_oom_group_that_cannot_be_written_says_why(tmp_path):
    (tmp_path / "app" / "memory.oom.group").mkdir(parents=True)  # not a file: the write fails
    (tmp_path / "bare").mkdir()
    odd, missing = (apply_write(KnobWrite("oom_group", "on", True, cgroup=c), _v2(tmp_path)) for c in ("/app", "/bare"))
    assert (odd.ok, odd.detail) == (False, "failed: Is a directory")
    assert (missing.ok, missing.detail) == (False, (
        "cgroup /bare has no memory.oom.group (the memory controller is not enabled there, "
        "or the kernel is older than 4.19)"))


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr to make a file unwritable even for root")
def test_oom_group_without_permission_says_who_may_write_it(tmp_path):
    """An immutable file refuses root too (EPERM), as a cgroup not delegated to the user refuses a user."""
    knob = tmp_path / "app" / "memory.oom.group"
    knob.parent.mkdir()
    knob.write_text("0\n")
    if subprocess.run(["chattr", "+i", str(knob)], capture_output=True).returncode != 0:
        pytest.skip(f"the filesystem of {tmp_path} has no immutable flag")
    try:
        result = apply_write(KnobWrite("oom_group", "on", True, cgroup="/app"), _v2(tmp_path))
    finally:
        subprocess.run(["chattr", "-i", str(knob)], check=True)
    assert (result.ok, result.detail) == (
        False, "no permission to write memory.oom.group of /app (needs root or a delegated cgroup)")
    assert knob.read_text() == "0\n"


def test_xattrs_without_memory_cgroups_or_on_a_removed_cgroup_say_why(tmp_path):
    none = apply_write(KnobWrite("xattr", "x", "1", cgroup="/app", name="user.oomd_avoid"), _v2(None))
    assert (none.ok, none.detail) == (False, "no memory cgroups are mounted on this host")
    gone = apply_write(KnobWrite("xattr", "x", "1", cgroup="/gone", name="user.oomd_avoid"), _v2(tmp_path))
    assert (gone.ok, gone.detail) == (False, "the cgroup no longer exists")


def test_removing_an_xattr_that_is_not_set_is_done_already(memcg):
    layout = detect_layout()
    result = apply_write(KnobWrite("xattr", "x", None, cgroup=memcg.path, name="user.oomd_omit"), layout)
    assert (result.ok, result.detail) == (True, f"user.oomd_omit was not set on {memcg.path}")
