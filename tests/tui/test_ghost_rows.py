"""After a real kill the victim's row stays in the tree, marked K and "killed", until it is old news.

The kill reaches the screen as the follower's verdict does (`KillJudged`);
the samples before and after it come from a scripted collector, so the row
is read as drawn while the victim is still sampled, once it is gone, on
the samples after, and when GHOST_SECONDS of sample time have passed.
The real kernel's kill is in `test_live_oom_kill.py`.
"""

from __future__ import annotations

import dataclasses

import pytest

from oomtui.model import Snapshot
from oomtui.oomlog.follow import KillEvent
from oomtui.tui.killers import GHOST_MAX, GHOST_SECONDS, KillWatch
from oomtui.tui.labels import ASCII, UNICODE
from oomtui.tui.messages import KillJudged
from oomtui.tui.screens.kills import KillsScreen
from oomtui.tui.tree_model import process_key
from oomtui.verdict import verdict_for
from tests.tui.fixtures import small_host
from tests.tui.helpers import live_app, main, notifications, press, run, select_cgroup, select_process, tree_rows
from tests.tui.screen_text import screen_text

BEFORE = small_host()
KILLED_AT = (BEFORE.taken_at or 0) + 1


def without(snap: Snapshot, *pids: int, after: float = 2) -> Snapshot:
    """The host `after` seconds past the kill, the killed pids gone (reaped)."""
    return snap.replace(processes=tuple(p for p in snap.processes if p.pid not in pids), taken_at=KILLED_AT + after)


def kernel_kill(pid: int, comm: str, domain: str = "/user.slice/app", member: bool = False) -> KillEvent:
    return KillEvent(KILLED_AT, "kernel", "memcg", domain, pid, comm, domain, member, "")


def rows_of(pilot, pid: int) -> list[str]:
    return [r for r in tree_rows(pilot) if f" {pid} " in r]


async def kill(pilot, *events: KillEvent) -> None:
    for event in events:
        main(pilot).post_message(KillJudged(verdict_for(event, BEFORE)))
    await press(pilot)


@pytest.mark.parametrize("glyphs", [UNICODE, ASCII])
def test_the_victim_stays_marked_k_after_it_is_gone_then_leaves(glyphs) -> None:
    later = [without(BEFORE, 201), without(BEFORE, 201, after=60),
             without(BEFORE, 201, after=GHOST_SECONDS + 5)]
    app = live_app([BEFORE, *later], glyphs=glyphs)

    async def scenario(pilot):
        await select_process(pilot, 201)
        (row,) = rows_of(pilot, 201)
        assert "K" not in row[:5] and "killed" not in row
        await kill(pilot, kernel_kill(201, "app-worker"))  # the kill starts a new sample: 201 is gone from it
        assert main(pilot).sample.process(201) is None
        (row,) = rows_of(pilot, 201)
        assert "K" in row[:5] and "app-worker" in row and " killed " in row, row
        assert "900" in row, "its last known size"
        assert row[:5].strip() == glyphs.actual
        assert main(pilot).memory_tree.selected == process_key(BEFORE.process(201)), "the cursor stays on it"
        await press(pilot, "r")  # a minute later: still there
        (row,) = rows_of(pilot, 201)
        assert "K" in row[:5] and "killed" in row
        await press(pilot, "r")  # past GHOST_SECONDS: gone, the cursor on its neighbour
        assert rows_of(pilot, 201) == []
        assert rows_of(pilot, 202) and main(pilot).memory_tree.selected == process_key(BEFORE.process(202))

    run(app, scenario)


def test_a_group_kill_marks_every_member_in_its_cgroup() -> None:
    app = live_app([BEFORE, without(BEFORE, 200, 201, 202)])

    async def scenario(pilot):
        await select_process(pilot, 201)
        await kill(pilot, kernel_kill(200, "app-main"), kernel_kill(201, "app-worker", member=True),
                   kernel_kill(202, "app-helper", member=True))
        for pid in (200, 201, 202):
            (row,) = rows_of(pilot, pid)
            assert "K" in row[:5] and "killed" in row, row
        assert len([n for n in notifications(pilot) if n.startswith("OOM kill")]) == 1, "one banner for the group"

    run(app, scenario)


def test_a_daemon_cgroup_kill_marks_every_process_it_held() -> None:
    app = live_app([BEFORE, without(BEFORE, 100, 101)])
    event = KillEvent(KILLED_AT, "systemd-oomd", None, None, None, None, "/system.slice/db.service", False, "")

    async def scenario(pilot):
        await select_cgroup(pilot, "/system.slice/db.service")
        await press(pilot, "enter")
        await kill(pilot, event)
        for pid in (100, 101):
            (row,) = rows_of(pilot, pid)
            assert "K" in row[:5] and "killed" in row, row
        assert not any("K" in r[:5] for r in rows_of(pilot, 300))

    run(app, scenario)


def test_a_zombie_victim_shows_as_its_ghost_in_its_cgroup() -> None:
    """Killed but not yet reaped: no memory, no cmdline; the row keeps its cgroup and last sizes."""
    zombie = dataclasses.replace(BEFORE.process(201), cgroup="/", cmdline=(), rss_anon=None, rss_file=None,
                                 rss_shmem=None, swap=None, pgtables=None)  # as /proc shows a zombie
    after = BEFORE.replace(processes=tuple(zombie if p.pid == 201 else p for p in BEFORE.processes),
                           taken_at=KILLED_AT + 2)
    app = live_app([BEFORE, after])

    async def scenario(pilot):
        await select_process(pilot, 201)
        await kill(pilot, kernel_kill(201, "app-worker"))
        (row,) = rows_of(pilot, 201)
        assert "K" in row[:5] and "killed" in row and "900" in row, row
        line = main(pilot).memory_tree.lines[main(pilot).memory_tree.index[process_key(zombie)]]
        parent = main(pilot).memory_tree.lines[line.parent].key
        assert parent.path == "/user.slice/app/worker"  # type: ignore[union-attr]

    run(app, scenario)


def test_k_on_a_ghost_kills_nothing() -> None:
    app = live_app([BEFORE, without(BEFORE, 201)])

    async def scenario(pilot):
        await select_process(pilot, 201)
        await kill(pilot, kernel_kill(201, "app-worker"))
        await press(pilot, "k")
        assert pilot.app.screen is main(pilot), "no kill dialog for a process that is gone"
        assert any("Process 201 is gone" in n for n in notifications(pilot))

    run(app, scenario)


def test_the_kill_list_shows_a_kill_that_arrives_while_it_is_open() -> None:
    app = live_app([BEFORE, without(BEFORE, 201)])

    async def scenario(pilot):
        await press(pilot, "l")
        assert isinstance(pilot.app.screen, KillsScreen)
        assert "no OOM kill seen yet" in pilot.app.screen.text.plain
        await kill(pilot, kernel_kill(201, "app-worker"))
        screen = pilot.app.screen
        assert isinstance(screen, KillsScreen)
        shown = screen_text(pilot.app)
        assert "1 kill: 1 as predicted, 0 not, 0 unknown" in shown and "kernel killed pid 201 (app-worker)" in shown
        await press(pilot, "escape")
        assert main(pilot).kills.scoreboard.summary().startswith("1 kill")

    run(app, scenario)


def test_ghosts_are_bounded() -> None:
    watch = KillWatch(None)
    many = BEFORE.replace(processes=tuple(dataclasses.replace(BEFORE.process(300), pid=1000 + i, start_time=i)
                                          for i in range(GHOST_MAX + 50)))
    watch.add_sample(many)
    for p in many.processes:
        watch.add(verdict_for(KillEvent(KILLED_AT, "kernel", "global", "/", p.pid, p.comm, p.cgroup, False, ""), many))
    ghosts = watch.ghost_processes()
    assert len(ghosts) == GHOST_MAX and ghosts[-1].pid == 1000 + GHOST_MAX + 49, "the newest kept"


def test_the_ghost_keeps_the_last_sample_that_had_the_victim_alive() -> None:
    """A sample taken between the kill and its line being read shows a zombie: the ghost is the one before."""
    zombie = dataclasses.replace(BEFORE.process(201), cgroup="/", cmdline=(), rss_anon=None, rss_file=None,
                                 rss_shmem=None, swap=None, pgtables=None)
    after = BEFORE.replace(processes=tuple(zombie if p.pid == 201 else p for p in BEFORE.processes),
                           taken_at=KILLED_AT - 0.5)
    watch = KillWatch(None)
    watch.add_sample(BEFORE)
    watch.add_sample(after)
    watch.add(verdict_for(kernel_kill(201, "app-worker"), after))
    (ghost,) = watch.ghost_processes()
    assert ghost.cgroup == "/user.slice/app/worker" and ghost.rss_anon == 900 * 1024 * 1024
