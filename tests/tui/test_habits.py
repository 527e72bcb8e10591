"""Input safety and habits: type-ahead, deliberate kills, quitting with edits, the cursor after a kill,
choosing a policy, the tree's own keys and mouse, and a tree of 50,000 rows drawn a screen at a time."""

from __future__ import annotations

import asyncio
import dataclasses

from textual import events

from oomtui.model import Snapshot
from oomtui.policies.registry import policies
from oomtui.tui import labels
from oomtui.tui.screens.confirm import ConfirmScreen, KillDialog
from oomtui.tui.screens.main import MainScreen
from oomtui.tui.tree_model import ProcessKey, cgroup_key
from tests.tui import helpers as h
from tests.tui.fixtures import MiB, RecordingActor, proc, small_host


def _type_ahead(pilot, *keys: str) -> None:
    """Queue keys as a fast typist's terminal does: all before the app handles the first."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))


def test_keys_typed_right_after_slash_go_to_the_filter():
    async def scenario(pilot):
        _type_ahead(pilot, "slash", *"worker")
        await h.settle(pilot)
        assert h.main(pilot).needle == "worker"
        assert h.main(pilot).edits.is_empty()

    h.run(h.snapshot_app(), scenario)


def test_a_dangerous_key_typed_ahead_does_nothing_and_y_needs_a_moment_too():
    actor = RecordingActor()
    now = [1000.0]

    async def scenario(pilot):
        now[0] += 10
        _type_ahead(pilot, "slash", *"app", "enter", "x")
        await h.settle(pilot)
        assert isinstance(pilot.app.screen, MainScreen), "x came with the filter's text: it must not act"
        assert any("Ignored execute" in n for n in h.notifications(pilot))
        now[0] += 1
        await h.press(pilot, "x")
        dialog = pilot.app.screen
        assert isinstance(dialog, KillDialog)
        await h.press(pilot, "y")  # in the same instant the dialog opened
        assert pilot.app.screen is dialog
        now[0] += 1
        await h.press(pilot, "y")
        assert isinstance(pilot.app.screen, MainScreen)
        now[0] += 0.1
        await h.press(pilot, "k")  # right after a dialog: refused again
        assert isinstance(pilot.app.screen, MainScreen)

    h.run(h.live_app(actor=actor, grace=0.5, clock=lambda: now[0]), scenario)
    assert len(actor.plans) == 1


def test_q_asks_when_what_if_edits_are_unsaved():
    async def scenario(pilot):
        await h.select_process(pilot, 300)
        await h.press(pilot, "plus")
        await h.press(pilot, "q")
        assert isinstance(pilot.app.screen, ConfirmScreen)
        assert "1 unsaved what-if edit" in pilot.app.screen.question.plain
        await h.press(pilot, "n")
        assert isinstance(pilot.app.screen, MainScreen)
        await h.press(pilot, "u")
        await h.press(pilot, "q")
        assert pilot.app.return_code == 0 or not pilot.app.is_running

    h.run(h.snapshot_app(), scenario)


def _without(snap: Snapshot, *pids: int) -> Snapshot:
    return snap.replace(processes=tuple(p for p in snap.processes if p.pid not in pids),
                        taken_at=(snap.taken_at or 0) + 2)


def test_the_cursor_stays_near_a_killed_row_next_sibling_else_parent():
    first = small_host()
    samples = [first, _without(first, 201), _without(first, 201, 202)]

    async def scenario(pilot):
        tree = h.main(pilot).memory_tree
        await h.select_process(pilot, 201)
        await h.press(pilot, "r")
        key = tree.selected
        assert isinstance(key, ProcessKey) and key.pid == 202, "the next sibling"
        await h.press(pilot, "r")
        assert tree.selected == cgroup_key("/user.slice/app/worker"), "no sibling left: the parent"

    h.run(h.live_app(samples), scenario)


def test_a_key_and_a_palette_entry_choose_a_policy():
    async def scenario(pilot):
        screen = h.main(pilot)
        names = [d.policy for d in screen.evaluation.decisions]  # the verdicts' order: who acts first
        await h.press(pilot, "3")
        assert screen.policy == names[2] and screen.verdicts.chosen == names[2]
        await h.press(pilot, "greater_than_sign")
        assert screen.policy == names[3]
        await h.press(pilot, "less_than_sign", "less_than_sign")
        assert screen.policy == names[1]
        command = next(c for c in pilot.app.get_system_commands(screen) if c.title == "policy: earlyoom")
        command.callback()
        await h.settle(pilot)
        assert screen.policy == "earlyoom"
        assert "(earlyoom)" in screen.query_one("#ranking").text.plain

    h.run(h.snapshot_app(), scenario)


def test_the_tree_keys_and_the_mouse():
    async def scenario(pilot):
        tree = h.main(pilot).memory_tree
        await h.press(pilot, "end")
        assert tree.cursor == len(tree.lines) - 1
        await h.press(pilot, "home")
        assert tree.cursor == 0 and tree.selected == cgroup_key("/")
        await h.press(pilot, "down")
        first_child = tree.selected
        shorter = len(tree.lines)
        await h.press(pilot, "enter")  # open it
        assert tree.lines[tree.cursor].expanded and len(tree.lines) > shorter
        await h.press(pilot, "space")  # close it again
        assert not tree.lines[tree.cursor].expanded and len(tree.lines) == shorter
        await h.press(pilot, "right")
        assert tree.lines[tree.cursor].expanded
        await h.press(pilot, "left")  # close; again: to the parent
        await h.press(pilot, "left")
        assert tree.selected == cgroup_key("/")
        await h.press(pilot, "right", "down")
        assert tree.selected == first_child
        await pilot.click(tree, offset=(10, 3))  # the header is line 0: line 3 shows row 2
        await h.settle(pilot)
        assert tree.cursor == 2
        lines_before = len(tree.lines)
        await pilot.click(tree, offset=(10, 3))  # a second click opens or closes it
        await h.settle(pilot)
        assert len(tree.lines) != lines_before
        await h.press(pilot, "pagedown")
        assert tree.cursor > 2

    h.run(h.snapshot_app(), scenario)


def big_host(n: int) -> Snapshot:
    snap = small_host()
    many = tuple(dataclasses.replace(proc(10_000 + i, f"w{i}", "/system.slice", (1 + i % 97) * MiB), ppid=1)
                 for i in range(n))
    return snap.replace(processes=snap.processes + many)


def test_fifty_thousand_rows_are_drawn_a_screen_at_a_time(monkeypatch):
    made: list[int] = []
    original = labels.process_label

    def counting(row, *args, **kw):
        made.append(row.process.pid)
        return original(row, *args, **kw)

    async def scenario(pilot):
        tree = h.main(pilot).memory_tree
        await h.select_cgroup(pilot, "/system.slice")
        await h.press(pilot, "enter")
        assert len(tree.lines) > 50_000
        made.clear()
        await h.press(pilot, "end")
        await h.press(pilot, "pageup", "pageup")
        await asyncio.sleep(0)
        await h.settle(pilot)
        assert tree.cursor < len(tree.lines) - 1
        screenful = tree.size.height
        assert 0 < len(made) <= 4 * screenful, f"{len(made)} labels made for {screenful} lines on screen"

    monkeypatch.setattr(labels, "process_label", counting)
    h.run(h.snapshot_app(big_host(50_000)), scenario)


def test_one_action_table_makes_the_keys_the_footer_the_palette_and_the_help():
    from oomtui.tui.actions import ACTIONS

    async def scenario(pilot):
        screen = h.main(pilot)
        bindings = {b.id: b for b in screen.BINDINGS}
        assert len(bindings) == len(screen.BINDINGS), "every binding has an id of its own"
        titles = {c.title: c for c in pilot.app.get_system_commands(screen)}
        await h.press(pilot, "question_mark")
        help_text = pilot.app.screen.text.plain
        for a in ACTIONS:
            b = bindings[a.id]
            assert (b.key, b.action, b.description, b.tooltip, b.show) == (a.keys, a.action, a.short, a.help, a.footer)
            assert f"{a.short} — {a.help}" in help_text
            if a.palette is not None and screen.check_action(a.name, ()):
                assert titles[a.palette].help == a.help
        assert {f"policy: {name}" for name in policies()} <= set(titles)

    h.run(h.live_app(), scenario)
