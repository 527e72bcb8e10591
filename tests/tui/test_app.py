"""Pilot tests: every interaction a user relies on, driven by keys against small hosts built in code."""

from __future__ import annotations

import dataclasses
import signal
import time
from pathlib import Path

import pytest
from textual.command import CommandPalette

from oomtui.model import OomEvent, Snapshot
from oomtui.policies.registry import policies
from oomtui.record import Recorder
from oomtui.snapshot import load, save
from oomtui.tui.labels import FLAGS_WIDTH
from oomtui.tui.messages import Evaluated, SampleFetched
from oomtui.tui.opening import open_feed
from oomtui.tui.screens.confirm import ApplyDialog, KillDialog
from oomtui.tui.screens.help import HelpScreen
from oomtui.tui.screens.main import MainScreen
from oomtui.tui.screens.path_prompt import PathPrompt
from oomtui.tui.tree_model import ProcessKey, cgroup_key, process_key
from tests.tui.fixtures import MiB, RecordingActor, grown, small_host
from tests.tui.helpers import (
    ObservedApp,
    cursor_row,
    decision,
    live_app,
    main,
    notifications,
    press,
    run,
    select_cgroup,
    select_process,
    settle,
    snapshot_app,
    tree_lines,
)
from tests.tui.screen_text import screen_lines

OOMLOGS = Path(__file__).parent.parent / "fixtures" / "oomlogs"


def test_first_paint_shows_the_tree_every_policy_and_the_details():
    async def scenario(pilot):
        screen = main(pilot)
        table = screen.verdicts
        assert list(table.order) == [d.policy for d in screen.evaluation.decisions]
        assert sorted(table.order) == sorted(policies())
        lines = tree_lines(pilot)
        assert lines[0].startswith("/")
        assert any(line.startswith("user.slice") for line in lines)
        assert any(line.startswith("system.slice") for line in lines)
        assert "cgroup /" in screen.query_one("#details").text.plain
        assert "testhost" in screen.status_text().plain

    run(snapshot_app(), scenario)


def test_a_refresh_draws_again_only_the_tree_rows_that_changed_on_screen():
    """An idle refresh (nothing shown moved) draws no row anew, which is most of an idle host's
    repaint; one where a shown row changed, or a shown row left, shows it on the screen."""
    first = small_host()
    same = first.replace(taken_at=(first.taken_at or 0) + 2)
    bigger = grown(same, 1, 64 * MiB)
    gone = bigger.replace(processes=tuple(p for p in bigger.processes if p.pid != 1),
                          taken_at=(bigger.taken_at or 0) + 2)

    def systemd_row(pilot) -> str:
        return next((line for line in screen_lines(pilot.app) if " systemd " in line), "")

    async def scenario(pilot):
        tree = main(pilot).memory_tree
        drawn: list[int] = []
        draw = tree.render_line
        tree.render_line = lambda y: (drawn.append(y), draw(y))[1]
        assert "12.0 MiB" in systemd_row(pilot)
        drawn.clear()
        await press(pilot, "r")
        assert drawn == [] and "12.0 MiB" in systemd_row(pilot)
        await press(pilot, "r")
        assert "68.0 MiB" in systemd_row(pilot)
        await press(pilot, "r")
        assert systemd_row(pilot) == ""

    run(live_app([first, same, bigger, gone]), scenario)


def test_refresh_posts_messages_and_keeps_the_cursor_on_the_same_process():
    first = small_host()
    # app-helper (202) grows past app-worker (201): the order changes under the cursor.
    second = grown(first, 202, 3000 * MiB)
    messages: list = []

    async def scenario(pilot):
        screen = main(pilot)
        await select_process(pilot, 201)
        line = screen.memory_tree.cursor
        await press(pilot, "r")
        key = process_key(second.process(201))
        assert screen.memory_tree.cursor != line, "the refresh should have moved the process down"
        assert screen.memory_tree.selected == key
        assert screen.memory_tree.lines[screen.memory_tree.cursor].key == key
        assert screen.evaluation.view.process(202).rss_anon == 3000 * MiB

    run(live_app([first, second]), scenario, messages)
    assert any(isinstance(m, SampleFetched) for m in messages)
    assert any(isinstance(m, Evaluated) for m in messages)


def test_kernel_threads_are_hidden_until_asked_for():
    async def scenario(pilot):
        assert not any("kthreadd" in line for line in tree_lines(pilot))
        await press(pilot, "K")
        assert any(line.startswith("2 kthreadd") for line in tree_lines(pilot))
        await press(pilot, "K")
        assert not any("kthreadd" in line for line in tree_lines(pilot))

    run(snapshot_app(), scenario)


def test_sorting_keeps_the_cursor_on_the_same_cgroup():
    async def scenario(pilot):
        screen = main(pilot)
        await select_cgroup(pilot, "/system.slice")
        orders = []
        for _ in range(3):
            await press(pilot, "s")
            orders.append([line.key for line in screen.memory_tree.lines])
            assert screen.memory_tree.lines[screen.memory_tree.cursor].key == cgroup_key("/system.slice")
        assert screen.sort == "memory"  # three presses cycle back
        assert len({tuple(o) for o in orders}) > 1, "the sorts should differ in order"

    run(snapshot_app(), scenario)


def test_adj_edits_rerank_the_verdicts_and_undo_one_by_one_or_all():
    async def scenario(pilot):
        screen = main(pilot)
        victim = decision(pilot, "kernel").victim_pid
        await select_process(pilot, victim)
        await press(pilot, *["minus"] * 10)
        assert screen.edits.processes[victim].oom_score_adj == -1000
        after = decision(pilot, "kernel")
        assert after.victim_pid != victim
        assert victim not in after.killed_pids
        cell = screen.verdicts.get_cell("kernel", "victim").plain
        assert cell.startswith(str(after.victim_pid))
        assert "✎" in cursor_row(pilot)[:FLAGS_WIDTH]
        await press(pilot, "u")
        assert screen.edits.processes[victim].oom_score_adj == -900
        await press(pilot, "U")
        assert screen.edits.is_empty()
        assert decision(pilot, "kernel").victim_pid == victim
        await press(pilot, "u")  # undo the "undo all"
        assert screen.edits.processes[victim].oom_score_adj == -900
        for _ in range(5):  # faster than the policies run: each press still counts
            screen.action_bump(1)
        await settle(pilot)
        assert screen.edits.processes[victim].oom_score_adj == -400
        assert screen.evaluation.view.whatif == screen.edits

    run(snapshot_app(), scenario)


def test_interdependent_toggle_changes_what_dies():
    async def scenario(pilot):
        screen = main(pilot)
        before = decision(pilot, "kernel")
        assert len(before.killed_pids) > 1, "memory.oom.group on /user.slice/app kills the group"
        await select_cgroup(pilot, "/user.slice/app")
        await press(pilot, "i")
        assert screen.edits.cgroups["/user.slice/app"].interdependent is False
        after = decision(pilot, "kernel")
        assert after.killed_pids == (after.victim_pid,)
        await press(pilot, "i")
        assert "/user.slice/app" not in screen.edits.cgroups
        assert decision(pilot, "kernel").killed_pids == before.killed_pids

    run(snapshot_app(), scenario)


def test_cgroup_score_and_daemon_preference_edits():
    async def scenario(pilot):
        screen = main(pilot)
        await select_cgroup(pilot, "/system.slice/db.service")
        await press(pilot, "plus", "plus")
        assert screen.edits.cgroups["/system.slice/db.service"].score == 200
        await press(pilot, "p", "A", "O")
        xattrs = screen.edits.cgroups["/system.slice/db.service"].xattrs
        assert dict(xattrs) == {"trusted.oomd_prefer": "1", "user.oomd_avoid": "1", "user.oomd_omit": "1"}
        assert "what-if" in screen.query_one("#details").text.plain
        await press(pilot, "0")
        assert screen.edits.cgroups["/system.slice/db.service"].score is None
        await select_process(pilot, 100)
        await press(pilot, "i")
        assert any("applies to a cgroup" in n for n in notifications(pilot))

    run(snapshot_app(), scenario)


def test_domain_switches_to_the_limited_cgroup_and_back():
    async def scenario(pilot):
        screen = main(pilot)
        await select_process(pilot, 100)
        await press(pilot, "d")
        assert screen.domain == "/system.slice/db.service"
        d = decision(pilot, "kernel")
        assert d.domain == "/system.slice/db.service"
        assert d.victim_pid == 100
        assert "domain /system.slice/db.service" in screen.status_text().plain
        await press(pilot, "d")
        assert screen.domain == "/"
        await select_cgroup(pilot, "/user.slice")
        await press(pilot, "d")
        assert screen.domain == "/"
        assert any("stays global" in n for n in notifications(pilot))

    run(snapshot_app(), scenario)


def test_execute_lists_exactly_the_decisions_pids_and_the_actor_gets_exactly_those():
    actor = RecordingActor()

    async def scenario(pilot):
        d = decision(pilot, "kernel")
        await press(pilot, "x")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        assert dialog.focused is not None and dialog.focused.id == "cancel"
        listed = {int(k.value) for k in dialog.query_one("#targets").rows}
        assert listed == set(d.killed_pids)
        assert "SIGKILL" in dialog.question.plain
        await press(pilot, "y")
        assert isinstance(pilot.app.screen, MainScreen)
        assert actor.plans[0] == dialog.plan
        assert {t.pid for t in actor.plans[0].targets} == set(d.killed_pids)
        assert any("killed" in n for n in notifications(pilot))

    run(live_app(actor=actor), scenario)
    assert len(actor.plans) == 1


def test_execute_waits_for_verdicts_that_match_the_edits():
    actor = RecordingActor()

    async def scenario(pilot):
        screen = main(pilot)
        victim = decision(pilot, "kernel").victim_pid
        await select_process(pilot, victim)
        screen.action_bump(-1)
        screen.action_execute()  # the policies have not run on the edit yet
        await pilot.pause()
        assert isinstance(pilot.app.screen, MainScreen)
        assert any("being recomputed" in n for n in notifications(pilot))
        await settle(pilot)
        await press(pilot, "x")
        assert isinstance(pilot.app.screen, KillDialog)
        await press(pilot, "n")

    run(live_app(actor=actor), scenario)
    assert actor.plans == []


def test_cancel_and_escape_kill_nothing():
    actor = RecordingActor()

    async def scenario(pilot):
        await select_process(pilot, 300)
        await press(pilot, "k")
        assert isinstance(pilot.app.screen, KillDialog)
        assert [t.pid for t in pilot.app.screen.plan.targets] == [300]
        await press(pilot, "n")
        assert isinstance(pilot.app.screen, MainScreen)
        await press(pilot, "k")
        await press(pilot, "escape")
        await press(pilot, "k")
        await press(pilot, "enter")  # Cancel has the focus
        assert isinstance(pilot.app.screen, MainScreen)
        assert any("nothing was killed" in n for n in notifications(pilot))

    run(live_app(actor=actor), scenario)
    assert actor.plans == []


def test_t_in_the_kill_dialog_sends_sigterm_to_the_same_processes():
    actor = RecordingActor()
    listed = []

    async def scenario(pilot):
        await select_cgroup(pilot, "/user.slice/app")
        await press(pilot, "k")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        assert "t switches to SIGTERM for the same processes" in dialog.question.plain
        listed.extend(dialog.plan.targets)
        await press(pilot, "t")
        assert isinstance(pilot.app.screen, KillDialog), "t only switches the signal: y must confirm it"
        assert "Send SIGTERM to 3 processes" in dialog.question.plain
        await press(pilot, "t", "t")  # back and forth: still SIGTERM, still asking
        assert dialog.chosen.signal == signal.SIGTERM
        await press(pilot, "y")
        assert isinstance(pilot.app.screen, MainScreen)
        await select_process(pilot, 300)
        await press(pilot, "k")
        await pilot.click("#gentler")
        await settle(pilot)
        assert isinstance(pilot.app.screen, KillDialog)
        await press(pilot, "y")

    run(live_app(actor=actor), scenario)
    assert [p.signal for p in actor.plans] == [signal.SIGTERM, signal.SIGTERM]
    assert list(actor.plans[0].targets) == listed and {t.pid for t in listed} == {200, 201, 202}
    assert actor.plans[0].title.startswith("send SIGTERM to cgroup /user.slice/app")
    assert [t.pid for t in actor.plans[1].targets] == [300]


def test_kill_a_cgroup_names_every_process_in_it():
    actor = RecordingActor()

    async def scenario(pilot):
        await select_cgroup(pilot, "/user.slice/app")
        await press(pilot, "k")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        assert {int(k.value) for k in dialog.query_one("#targets").rows} == {200, 201, 202}
        await press(pilot, "y")

    run(live_app(actor=actor), scenario)
    assert {t.pid for t in actor.plans[0].targets} == {200, 201, 202}


def test_nothing_refreshes_under_the_dialog():
    first = small_host()
    second = grown(first, 300, 3000 * MiB)

    async def scenario(pilot):
        screen = main(pilot)
        await press(pilot, "x")
        assert isinstance(pilot.app.screen, KillDialog)
        screen.tick()  # the timer fires: nothing starts
        screen.post_message(SampleFetched(second, screen.feed))  # a sample that was already on its way
        await settle(pilot)
        assert screen.evaluation.view.process(300).rss_anon == first.process(300).rss_anon
        await press(pilot, "n")
        assert screen.evaluation.view.process(300).rss_anon == 3000 * MiB

    run(live_app([first, second]), scenario)


def test_read_only_and_snapshots_refuse_to_act_and_say_why():
    async def read_only(pilot):
        await press(pilot, "k", "x", "W")
        assert isinstance(pilot.app.screen, MainScreen)
        said = notifications(pilot)
        assert sum("--read-only" in n for n in said) == 3

    actor = RecordingActor()
    run(live_app(actor=actor, read_only=True), read_only)
    assert actor.plans == [] and actor.writes == []

    async def snapshot(pilot):
        await press(pilot, "k")
        assert any("saved snapshot" in n for n in notifications(pilot))
        titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        assert not any(t.startswith("kill:") for t in titles)
        assert "what-if: toggle interdependent" in titles

    run(snapshot_app(), snapshot)


def test_apply_edits_lists_each_write_and_asks_first():
    actor = RecordingActor()

    async def scenario(pilot):
        await select_process(pilot, 300)
        await press(pilot, "plus")
        await select_cgroup(pilot, "/system.slice/db.service")
        await press(pilot, "i")
        await press(pilot, "W")
        dialog = pilot.app.screen
        assert isinstance(dialog, ApplyDialog)
        kinds = sorted(w.kind for w in dialog.writes)
        assert kinds == ["oom_group", "oom_score_adj"]
        await press(pilot, "y")
        assert main(pilot).edits.is_empty(), "written edits are real now, not what-ifs"
        await press(pilot, "u")
        assert not main(pilot).edits.is_empty()

    run(live_app(actor=actor), scenario)
    assert {(w.kind, w.value) for w in actor.writes[0]} == {("oom_score_adj", 100), ("oom_group", True)}


def test_copy_path_pid_and_explanation():
    async def scenario(pilot):
        await select_cgroup(pilot, "/user.slice/app")
        await press(pilot, "c")
        assert pilot.app.clipboard == "/user.slice/app"
        await select_process(pilot, 201)
        await press(pilot, "c")
        assert pilot.app.clipboard == "201"
        await press(pilot, "e")
        d = decision(pilot, "kernel")
        assert "(kernel)" in pilot.app.clipboard
        assert d.reason[:30] in pilot.app.clipboard
        assert any("Copied pid: 201" in n for n in notifications(pilot))

    run(snapshot_app(), scenario)


def test_filter_shows_matches_and_escape_drops_it():
    async def scenario(pilot):
        screen = main(pilot)
        await press(pilot, "slash")
        await pilot.press(*"worker")
        await settle(pilot)
        lines = tree_lines(pilot)
        assert any("201 app-worker" in line for line in lines)
        assert not any("postgres" in line for line in lines)
        assert not any(line.startswith("system.slice") for line in lines)
        await press(pilot, "enter")
        assert screen.memory_tree.has_focus
        await press(pilot, "escape")
        assert screen.needle == ""
        assert any(line.startswith("system.slice") for line in tree_lines(pilot))

    run(snapshot_app(), scenario)


def test_choosing_a_verdict_marks_its_victims_and_explains_the_ranking():
    async def scenario(pilot):
        screen = main(pilot)
        screen.verdicts.focus()
        await press(pilot, *["down"] * (len(policies()) - 1))
        chosen = screen.verdicts.chosen
        assert chosen == screen.evaluation.decisions[-1].policy
        assert screen.policy == chosen
        d = decision(pilot, chosen)
        ranking = screen.query_one("#ranking").text.plain
        assert f"({chosen})" in ranking and "ranking" in ranking
        await press(pilot, "v")
        key = screen.memory_tree.selected
        if d.victim_pid is not None:
            assert isinstance(key, ProcessKey) and key.pid == d.victim_pid
            assert "☠" in cursor_row(pilot)[:FLAGS_WIDTH]
        else:
            assert key == cgroup_key(d.victim_cgroup)

    run(snapshot_app(), scenario)


def test_kernel_log_snapshot_shows_the_actual_victim_beside_each_pick():
    snap = small_host()
    snap = snap.replace(source="kernel-log", oom_event=OomEvent(kind="global", domain="/", killed_pid=100,
                                                                killed_comm="postgres"))

    async def scenario(pilot):
        screen = main(pilot)
        for d in screen.evaluation.decisions:
            cell = screen.verdicts.get_cell(d.policy, "kernel").plain
            assert cell == ("same" if 100 in d.killed_pids else "differs")
        await select_process(pilot, 100)
        assert "K" in cursor_row(pilot)[:FLAGS_WIDTH]
        assert "the kernel killed this process" in screen.query_one("#details").text.plain

    run(snapshot_app(snap), scenario)


def test_help_lists_every_key():
    async def scenario(pilot):
        await press(pilot, "question_mark")
        helper = pilot.app.screen
        assert isinstance(helper, HelpScreen)
        text = helper.text.plain
        for b in [*MainScreen.BINDINGS, *pilot.app.BINDINGS]:
            if not b.action.startswith("locked"):  # the refusal twins of kill, execute and apply
                assert f"{b.description} — {b.tooltip}" in text
        await press(pilot, "escape")
        assert isinstance(pilot.app.screen, MainScreen)

    run(snapshot_app(), scenario)


def test_palette_offers_area_verb_commands():
    async def scenario(pilot):
        titles = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
        for area in ("tree:", "domain:", "what-if:", "kill:", "copy:", "file:", "refresh:"):
            assert any(t.startswith(area) for t in titles), area
        command = next(c for c in pilot.app.get_system_commands(pilot.app.screen) if c.title == "tree: sort by name")
        await command.callback()
        await settle(pilot)
        assert main(pilot).sort == "name"
        await press(pilot, "colon")
        assert isinstance(pilot.app.screen, CommandPalette)
        await press(pilot, "escape")
        assert isinstance(pilot.app.screen, MainScreen)

    run(live_app(), scenario)


def test_save_with_edits_then_open_it(tmp_path):
    target = tmp_path / "saved.json.gz"

    async def scenario(pilot):
        screen = main(pilot)
        await select_cgroup(pilot, "/user.slice/app")
        await press(pilot, "i")
        await press(pilot, "ctrl+s")
        prompt = pilot.app.screen
        assert isinstance(prompt, PathPrompt)
        prompt.query_one("#path").value = str(target)
        await press(pilot, "enter")
        assert target.exists()
        saved = load(target)
        assert saved.whatif.cgroups["/user.slice/app"].interdependent is False
        await press(pilot, "U")
        await press(pilot, "o")
        prompt = pilot.app.screen
        prompt.query_one("#path").value = str(target)
        await press(pilot, "enter")
        assert screen.feed.describe() == "snapshot saved.json.gz"
        assert screen.actor is None
        assert screen.edits.cgroups["/user.slice/app"].interdependent is False
        await press(pilot, "o")
        pilot.app.screen.query_one("#path").value = str(tmp_path / "missing.json")
        await press(pilot, "enter")
        assert any("Cannot open" in n for n in notifications(pilot))

    run(live_app(), scenario)


def test_a_failing_collector_becomes_a_notification():
    class Broken:
        def collect(self):
            raise OSError("cgroup mount vanished")

    async def scenario(pilot):
        screen = main(pilot)
        screen.feed.collector = Broken()
        await press(pilot, "r")
        assert any("cgroup mount vanished" in n for n in notifications(pilot))
        assert isinstance(pilot.app.screen, MainScreen)
        await press(pilot, "z")
        assert screen.paused and "PAUSED" in screen.status_text().plain

    run(live_app(), scenario, worker_errors=(OSError,))


def test_oom_kill_counter_stays_highlighted_after_it_moves():
    first = small_host()
    cg = first.cgroup("/system.slice/db.service")
    bumped = dataclasses.replace(cg, events={"oom": 4, "oom_kill": 3})
    second = first.replace(cgroups=tuple(bumped if c.path == cg.path else c for c in first.cgroups))
    now = [1000.0]

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.recent_kills() == frozenset()
        await press(pilot, "r")
        assert screen.recent_kills() == {"/system.slice/db.service"}
        now[0] += 61
        assert screen.recent_kills() == frozenset()

    run(live_app([first, second], clock=lambda: now[0]), scenario)


def test_recording_steps_through_samples_and_oom_events(tmp_path):
    start = time.time() - 100  # recent: the recorder keeps samples for a day
    times = iter([start, start + 2])

    def collect():
        return small_host().replace(taken_at=next(times))

    rec = Recorder(tmp_path / "rec", collect=collect, kmsg_path="/nonexistent", psi_path="/nonexistent",
                   note=lambda m: None)
    rec._prepare()
    rec.take_sample("interval")
    rec.store_event((OOMLOGS / "v61_global_dmesg.txt").read_text(), start + 1)
    rec.take_sample("interval")
    app = ObservedApp(open_feed(tmp_path / "rec"), None, grace=0.0)

    async def scenario(pilot):
        screen = main(pilot)
        status = screen.status_text().plain
        assert "OOM event 1 of 1" in status, "a recording opens on its first OOM event"
        assert any("1 OOM event(s) recorded" in n for n in notifications(pilot))
        event = screen.evaluation.view.oom_event
        assert event is not None
        assert screen.evaluation.view.taken_at == start, "shown on the sample taken just before the event"
        for d in screen.evaluation.decisions:
            cell = screen.verdicts.get_cell(d.policy, "kernel").plain
            assert cell == ("same" if event.killed_pid in d.killed_pids else "differs")
        await press(pilot, "right_square_bracket")
        assert any("No later OOM event" in n for n in notifications(pilot))
        await press(pilot, "T")
        assert "sample 1 of 2" in screen.status_text().plain
        assert screen.evaluation.view.oom_event is None
        await press(pilot, "t")
        assert "sample 2 of 2" in screen.status_text().plain
        assert screen.evaluation.view.taken_at == start + 2
        await press(pilot, "left_square_bracket")
        assert "OOM event 1 of 1" in screen.status_text().plain
        await press(pilot, "k")
        assert any("saved snapshot" in n for n in notifications(pilot))

    run(app, scenario)


@pytest.mark.parametrize("cursor", ["at rest", "moving"])
def test_an_error_in_a_handler_becomes_a_notification(monkeypatch, cursor):
    """Both ways the details are drawn: at once when the cursor was at rest, on a timer while it moves."""
    from oomtui.tui import describe

    ticks = iter(range(0, 10**9, 1000))
    clock = (lambda: float(next(ticks))) if cursor == "at rest" else (lambda: 1000.0)

    def broken(*_args, **_kwargs):
        raise RuntimeError("details broke")

    async def scenario(pilot):
        monkeypatch.setattr(describe, "process_details", broken)
        await select_process(pilot, 100)
        await settle(pilot)
        assert any("details broke" in n for n in notifications(pilot))
        await select_cgroup(pilot, "/user.slice")
        await settle(pilot)
        assert "cgroup /user.slice" in main(pilot).query_one("#details").text.plain

    run(snapshot_app(clock=clock), scenario)


def test_startup_errors_are_one_line_before_the_app_starts(tmp_path, capsys):
    from oomtui.cli import main as cli_main

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "oomtui-snapshot", "version": 1, "host": {}, "cgroups": "nope", "processes": []}')
    assert cli_main(["--snapshot", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cgroups" in err and "Traceback" not in err
    assert cli_main(["--snapshot", str(tmp_path / "missing.json")]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_a_live_sample_arriving_after_opening_a_file_is_dropped(tmp_path):
    target = tmp_path / "other.json"
    other = small_host().replace(taken_at=1_764_009_999.0)
    save(other, target)
    late = grown(small_host(), 300, 3000 * MiB)

    async def scenario(pilot):
        screen = main(pilot)
        live_feed = screen.feed
        screen.switch_feed(open_feed(target))
        await settle(pilot)
        screen.post_message(SampleFetched(late, live_feed))  # the live worker finishing late
        await settle(pilot)
        assert screen.evaluation.view.taken_at == 1_764_009_999.0
        assert screen.evaluation.view.process(300).rss_anon != 3000 * MiB

    run(live_app(), scenario)


def _memcg_event_host() -> Snapshot:
    """small_host a moment before the kernel killed 100 (postgres) in db.service's memcg OOM."""
    event = OomEvent(kind="memcg", domain="/system.slice/db.service", killed_pid=100, killed_comm="postgres")
    return small_host().replace(oom_event=event)


def test_vs_kernel_says_same_more_not_here_or_differs():
    """A whole-cgroup kill holding the victim is not "same"; a host-wide killer on a memcg OOM is "not here"."""
    async def scenario(pilot):
        screen = main(pilot)
        assert screen.domain == "/system.slice/db.service", "it opens where the OOM happened"
        ev = screen.evaluation
        for d in ev.decisions:
            cell = screen.verdicts.get_cell(d.policy, "kernel").plain
            dies = set(d.killed_pids) | {d.victim_pid} - {None}
            if 100 in dies:
                assert cell == ("same" if dies == {100} else f"it +{len(dies) - 1} more"), d.policy
            elif d.policy in ("earlyoom", "nohang"):
                assert cell == "not here", d.policy
            else:
                assert cell == "differs", d.policy
        assert screen.verdicts.get_cell("kernel", "kernel").plain == "same"
        await select_cgroup(pilot, "/system.slice/db.service")
        await press(pilot, "i")  # interdependent: the kernel policy now kills the whole cgroup
        assert screen.verdicts.get_cell("kernel", "kernel").plain == "it +1 more"
        await press(pilot, "d")  # global: the comparison no longer applies
        assert screen.domain == "/"
        assert {screen.verdicts.get_cell(d.policy, "kernel").plain for d in screen.evaluation.decisions} == {""}

    run(snapshot_app(_memcg_event_host()), scenario)


def test_a_kernel_log_opens_in_the_oom_domain_and_agrees_with_preview():
    from oomtui.commands.preview import preview
    from oomtui.sources import open_path

    log = OOMLOGS / "v618_memcg_v1_kmsg.txt"
    snap = open_path(log).snapshot
    event = snap.oom_event
    agreement = preview(snap, event.domain, None, {}).agreement

    async def scenario(pilot):
        screen = main(pilot)
        assert screen.domain == event.domain
        assert "kernel-log" in screen.status_text().plain
        for d in screen.evaluation.decisions:
            cell = screen.verdicts.get_cell(d.policy, "kernel").plain
            if not screen.evaluation.standing(d.policy).applicable:  # oomd on v1: names no victim, says why
                assert screen.verdicts.get_cell(d.policy, "force").plain == "cannot run" and cell != "same"
                continue
            assert (cell == "same") == bool(agreement[d.policy]) or cell.startswith("it +"), d.policy
        assert screen.verdicts.get_cell("kernel", "kernel").plain == "same"
        key = screen.memory_tree.selected
        assert isinstance(key, ProcessKey) and key.pid == event.killed_pid, "it opens on the kernel's kill"
        assert "K" in cursor_row(pilot)[:FLAGS_WIDTH]

    run(ObservedApp(open_feed(log), None, grace=0.0), scenario)
