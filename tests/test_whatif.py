"""What-if edits: a new view each time, the real snapshot untouched, undo by dropping an edit."""

from __future__ import annotations

import dataclasses

import pytest

from oomtui import snapshot as snapshot_file
from oomtui import whatif
from oomtui.model import WhatIf
from tests.support.handmade import cgroup, proc, snapshot


@pytest.fixture
def snap():
    return snapshot(
        [
            cgroup("/a", 300, oom_group=False, xattrs={"user.oomd_avoid": "1"}),
            cgroup("/a/x", 200),
            cgroup("/b", 100, oom_group=True),
        ],
        [proc(10, "/a/x", 150), proc(11, "/a/x", 50, adj=200), proc(20, "/b", 90), proc(30, "/", 10)],
    )


def test_apply_overrides_without_touching_the_snapshot(snap):
    w = whatif.set_interdependent(WhatIf(), "/a", True)
    w = whatif.set_interdependent(w, "/b", False)
    w = whatif.set_xattr(w, "/a", "user.oomd_avoid", None, remove=True)
    w = whatif.set_xattr(w, "/a/x", "trusted.oomd_prefer", "1")
    w = whatif.set_adj(w, 11, -500)
    view = whatif.apply(snap, w)

    assert view.whatif is w
    assert view.cgroup("/a").oom_group is True
    assert view.cgroup("/b").oom_group is False
    assert dict(view.cgroup("/a").xattrs) == {}
    assert dict(view.cgroup("/a/x").xattrs) == {"trusted.oomd_prefer": "1"}
    assert view.process(11).oom_score_adj == -500
    assert [p.oom_score_adj for p in view.processes_in("/a/x")] == [0, -500]
    assert [p.oom_score_adj for p in view.processes_under("/a")] == [0, -500]
    # the real snapshot is as it was
    assert snap.cgroup("/a").oom_group is False
    assert snap.cgroup("/b").oom_group is True
    assert dict(snap.cgroup("/a").xattrs) == {"user.oomd_avoid": "1"}
    assert snap.process(11).oom_score_adj == 200
    assert snap.whatif.is_empty()


def test_unchanged_objects_are_shared_and_order_kept(snap):
    view = whatif.apply(snap, whatif.set_adj(WhatIf(), 11, 0))
    assert view.process(10) is snap.process(10)
    assert view.cgroup("/b") is snap.cgroup("/b")
    assert [p.pid for p in view.processes] == [p.pid for p in snap.processes]
    assert [c.path for c in view.cgroups] == [c.path for c in snap.cgroups]
    assert list(view.walk()) == list(snap.walk())


def test_edits_default_to_the_snapshots_own(snap):
    saved = snap.replace(whatif=whatif.set_score(whatif.set_interdependent(WhatIf(), "/a/x", True), "/a/x", 300))
    view = whatif.apply(saved)
    assert view.cgroup("/a/x").oom_group is True
    assert whatif.cgroup_score(view, "/a/x") == 300
    assert whatif.is_interdependent(view, "/a/x")


def test_empty_edits_on_a_clean_snapshot_give_the_same_view(snap):
    assert whatif.apply(snap) is snap


def test_applying_a_view_again_changes_nothing(snap):
    w = whatif.set_adj(whatif.set_interdependent(WhatIf(), "/a", True), 11, -5)
    view = whatif.apply(snap, w)
    assert whatif.apply(view) is view
    assert view.process(11).oom_score_adj == -5


def test_empty_edits_drop_the_snapshots_saved_ones(snap):
    saved = snap.replace(whatif=whatif.set_interdependent(WhatIf(), "/a", True))
    view = whatif.apply(saved, WhatIf())
    assert view.cgroup("/a").oom_group is False
    assert not whatif.is_interdependent(view, "/a")


def test_edits_for_vanished_cgroups_and_pids_are_ignored(snap):
    w = whatif.set_adj(whatif.set_interdependent(WhatIf(), "/gone", True), 999, 100)
    view = whatif.apply(snap, w)
    assert view.cgroup("/gone") is None
    assert view.process(999) is None
    assert view.processes == snap.processes


def test_scores_and_interdependence_read_from_edits(snap):
    assert whatif.cgroup_score(snap, "/a") == 0
    assert whatif.is_interdependent(snap, "/b")  # memory.oom.group as read
    assert not whatif.is_interdependent(snap, "/a")
    w = whatif.set_score(WhatIf(), "/a", -300)
    assert whatif.cgroup_score(snap.replace(whatif=w), "/a") == -300
    root = whatif.set_interdependent(WhatIf(), "/", True)
    assert not whatif.is_interdependent(whatif.apply(snap, root), "/")


def test_values_are_clamped():
    w = whatif.set_score(WhatIf(), "/a", 5000)
    w = whatif.set_adj(w, 7, -4000)
    assert w.cgroups["/a"].score == 1000
    assert w.processes[7].oom_score_adj == -1000


def test_none_undoes_an_edit_and_empty_edits_disappear():
    w = whatif.set_interdependent(WhatIf(), "/a", True)
    w = whatif.set_score(w, "/a", 50)
    w = whatif.set_adj(w, 7, 10)
    w = whatif.set_xattr(w, "/a", "user.oomd_omit", "1")
    w = whatif.set_interdependent(w, "/a", None)
    assert w.cgroups["/a"].interdependent is None
    assert w.cgroups["/a"].score == 50
    w = whatif.set_score(w, "/a", None)
    w = whatif.set_xattr(w, "/a", "user.oomd_omit", None)
    w = whatif.set_adj(w, 7, None)
    assert w.is_empty()


def test_helpers_return_new_values():
    base = WhatIf()
    edited = whatif.set_score(base, "/a", 10)
    assert base.is_empty()
    assert edited is not base
    again = whatif.set_score(edited, "/a", 20)
    assert edited.cgroups["/a"].score == 10
    assert again.cgroups["/a"].score == 20
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.cgroups["/a"].score = 30  # type: ignore[misc]
    with pytest.raises(TypeError):
        again.cgroups["/b"] = again.cgroups["/a"]  # type: ignore[index]


def test_diff_lines_compare_with_real_values(snap):
    w = whatif.set_interdependent(WhatIf(), "/a", True)
    w = whatif.set_score(w, "/b", 250)
    w = whatif.set_xattr(w, "/a", "user.oomd_avoid", None, remove=True)
    w = whatif.set_adj(w, 11, -100)
    w = whatif.set_adj(w, 10, 0)
    lines = whatif.diff_lines(snap, w)
    assert "/a: interdependent, was independent" in lines
    assert any(line.startswith("/b: score +250, was 0") for line in lines)
    assert "/a: remove xattr user.oomd_avoid, was '1'" in lines
    assert "pid 11 p11: oom_score_adj -100, was 200" in lines
    assert "pid 10 p10: oom_score_adj 0, was 0 (no change)" in lines
    assert len(lines) == 5


def test_diff_lines_escape_hostile_names_and_note_missing_ones():
    snap = snapshot([cgroup("/evil\x1b[2J")], [proc(5, "/", 10, comm="x\u202etxt.exe")])
    w = whatif.set_interdependent(WhatIf(), "/evil\x1b[2J", True)
    w = whatif.set_adj(w, 5, 100)
    w = whatif.set_adj(w, 77, 100)
    lines = whatif.diff_lines(snap, w)
    assert not any("\x1b" in line or "\u202e" in line for line in lines)
    assert lines[0].startswith("/evil\\x1b[2J: interdependent")
    assert "pid 5 x\\u202etxt.exe: oom_score_adj 100, was 0" in lines
    assert "pid 77 (not in this snapshot): oom_score_adj 100" in lines


def test_edits_survive_a_save_and_load(snap, tmp_path):
    w = whatif.set_score(whatif.set_interdependent(WhatIf(), "/a", True), "/a/x", -1000)
    w = whatif.set_xattr(whatif.set_adj(w, 10, 300), "/b", "user.oomd_avoid", None, remove=True)
    path = tmp_path / "s.json"
    snapshot_file.save(snap.replace(whatif=w), path)
    loaded = snapshot_file.load(path)
    assert loaded.whatif == w
    view = whatif.apply(loaded)
    assert view.cgroup("/a").oom_group is True
    assert whatif.cgroup_score(view, "/a/x") == -1000
    assert view.process(10).oom_score_adj == 300
