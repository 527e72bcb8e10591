"""Cgroup and process names that look like markup reach the verdicts literally, as the screen shows them.

A cgroup named `[/bold]` made the domain would crash the app if its name were
read as markup in the verdicts' border title; `[red]x` would silently lose its
brackets. The same holds for the reason column, which quotes cgroups and
process names. These tests read the screen itself (the app's screenshot), so
they hold whatever widgets draw it.
"""

from __future__ import annotations

from oomtui.model import Cgroup, Snapshot
from tests.tui.fixtures import GiB, MiB, host, proc
from tests.tui.helpers import live_app, press, run, select_cgroup
from tests.tui.screen_text import screen_lines, screen_text

RED = "/[red]x[b]"  # interdependent, so the hierarchical reason quotes it
BOLD = "/[/bold]"
WIDE = (240, 60)  # wide enough for the reason column to show its first words


def markup_host() -> Snapshot:
    cgroups = (
        Cgroup(path="/", memory_current=3 * GiB),
        Cgroup(path=RED, memory_current=1 * GiB, memory_max=2 * GiB, oom_group=True),
        Cgroup(path=BOLD, memory_current=1 * GiB, memory_max=2 * GiB),
    )
    processes = (
        proc(1, "systemd", "/", 8 * MiB),
        proc(2000, "[/bold]", BOLD, 900 * MiB),  # the largest: the kernel's victim, quoted in its reason
        proc(2001, "[red]x", RED, 500 * MiB),
        proc(2002, "worker", RED, 400 * MiB),
    )
    return Snapshot(host=host(), cgroups=cgroups, processes=processes, taken_at=1_764_001_000.0)


def verdict_row(lines: list[str], policy: str) -> str:
    return next(line for line in lines if line.startswith(f"│ {policy} "))


def test_a_bracketed_process_name_is_quoted_literally_in_the_reason_column():
    async def scenario(pilot):
        lines = screen_lines(pilot.app)
        row = verdict_row(lines, "kernel")
        assert "2000 [/bold]" in row, "the victim column"
        assert "2000 ([/bold])" in row, "the reason column"

    run(live_app([markup_host()]), scenario, size=WIDE)


def test_a_cgroup_named_closing_bold_made_the_domain_is_shown_literally():
    async def scenario(pilot):
        await select_cgroup(pilot, BOLD)
        await press(pilot, "d")
        shown = screen_text(pilot.app)
        assert "Verdicts — domain /[/bold] " in shown
        assert "· domain /[/bold] ·" in shown, "the status line"

    run(live_app([markup_host()]), scenario, size=WIDE)


def test_a_cgroup_named_red_made_the_domain_keeps_its_brackets_in_title_and_reasons():
    async def scenario(pilot):
        await select_cgroup(pilot, RED)
        await press(pilot, "d")
        lines = screen_lines(pilot.app)
        assert any("Verdicts — domain /[red]x[b] " in line for line in lines)
        assert "the domain /[red]x[b] is interdependent" in verdict_row(lines, "hierarchical")

    run(live_app([markup_host()]), scenario, size=WIDE)
