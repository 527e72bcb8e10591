"""Names any user can give a process or cgroup reach every widget as literal, escaped text.

A name like `[/bold]` crashes Textual when taken as markup, `[red]x` is
silently restyled, an ESC byte drives the terminal and U+202E reverses what
follows. Each one is pushed through the tree labels, the verdicts table,
the details and ranking panes, border titles, the kill dialog and
notifications, and what reaches the screen is checked.
"""

from __future__ import annotations

import dataclasses

from oomtui.model import Cgroup, Snapshot, Workload
from oomtui.text import printable
from oomtui.tui.screens.confirm import KillDialog
from tests.tui.fixtures import GiB, MiB, RecordingActor, host, proc
from tests.tui.helpers import live_app, main, notifications, press, run, select_cgroup, select_process, tree_lines
from tests.tui.screen_text import screen_text

HOSTILE = ("[/bold]", "[red]x", "evil\x1b[31mred\x1b]0;pwned\x07", "\u202eexe.txt", "A" * 300)
BAD_CGROUP = "/user.slice/[red]x[b]\x1b[2J\u202e" + "B" * 300  # a directory name holds no "/"


def hostile_host() -> Snapshot:
    cgroups = (
        Cgroup(path="/", memory_current=8 * GiB),
        Cgroup(path="/user.slice", memory_current=7 * GiB),
        Cgroup(path=BAD_CGROUP, memory_current=6 * GiB, memory_max=7 * GiB, oom_group=True),
    )
    processes = [proc(1, "systemd", "/", 8 * MiB)]
    for i, name in enumerate(HOSTILE):
        p = proc(1000 + i, name, BAD_CGROUP, (500 + 100 * i) * MiB)
        processes.append(dataclasses.replace(p, cmdline=(name, "--flag", name)))
    return Snapshot(host=dataclasses.replace(host(), hostname="[b]host\x1b"), cgroups=cgroups,
                    processes=tuple(processes), taken_at=1_764_001_000.0)


def shown_victim(d) -> str:
    """How the victim cell starts: the pid and escaped name, the escaped last part of the cgroup (cut in the
    middle, which keeps its distinguishing end), or nothing."""
    if d.victim_pid is not None:
        return f"{d.victim_pid} {printable(HOSTILE[d.victim_pid - 1000])[:12]}"
    if d.victim_cgroup == BAD_CGROUP:
        return "cgroup …/[r"
    return {"/user.slice": "cgroup /user.slice", None: "nothing"}[d.victim_cgroup]


def assert_shown_safely(text: str) -> None:
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert "\x07" not in text


def test_hostile_names_are_shown_literally_everywhere():
    actor = RecordingActor()

    async def scenario(pilot):
        app = pilot.app
        screen = main(pilot)
        await select_cgroup(pilot, BAD_CGROUP)
        await press(pilot, "enter")
        lines = tree_lines(pilot)
        shown = "\n".join(lines)
        assert_shown_safely(shown)
        assert any(line.startswith("1000 [/bold]") for line in lines)
        assert any(line.startswith("1001 [red]x") for line in lines)
        assert any("pwned\\x07" in line for line in lines), "ESC and BEL shown as escapes"
        assert any("\\u202eexe.txt" in line for line in lines)
        assert any(line.startswith("[red]x") and "…BBB" in line for line in lines), "the cgroup name, cut in the middle"
        assert all(len(line) < 200 for line in lines), "300-character names are cut"

        details = screen.query_one("#details")
        assert "[red]x[b]\\x1b[2J\\u202e" in details.text.plain
        assert_shown_safely(str(details.border_title))

        decisions = screen.evaluation.decisions
        for d in decisions:
            cell = screen.verdicts.get_cell(d.policy, "victim").plain
            assert_shown_safely(cell)
            assert cell.startswith(shown_victim(d)), (d.policy, cell)
        assert {d.victim_pid for d in decisions} >= {1004} and {d.victim_cgroup for d in decisions} >= {BAD_CGROUP}
        reasons = " ".join(screen.verdicts.get_cell(d.policy, "reason").plain for d in decisions)
        assert_shown_safely(reasons)
        assert "[red]x[b]\\x1b[2J\\u202e" in reasons, "the reason quotes the cgroup literally"

        for pid in (1000, 1001, 1002, 1003, 1004):
            await select_process(pilot, pid)
            assert_shown_safely(screen.query_one("#details").text.plain)
            assert_shown_safely(str(screen.query_one("#details").border_title))
        assert "--flag" in screen.query_one("#details").text.plain

        for row in range(len(screen.evaluation.decisions)):
            screen.verdicts.move_cursor(row=row)
            await press(pilot)
            assert_shown_safely(screen.query_one("#ranking").text.plain)

        await select_cgroup(pilot, BAD_CGROUP)
        await press(pilot, "c")
        assert app.clipboard == BAD_CGROUP, "the clipboard gets the real path"
        assert_shown_safely("\n".join(notifications(pilot)))
        assert any("Copied cgroup path: /user.slice/[red]x[b]\\x1b[2J" in n for n in notifications(pilot))

        await press(pilot, "k")
        dialog = app.screen
        assert isinstance(dialog, KillDialog)
        assert {int(k.value) for k in dialog.query_one("#targets").rows} == {1000, 1001, 1002, 1003, 1004}
        assert_shown_safely(dialog.question.plain)
        svg = app.export_screenshot()
        assert_shown_safely(svg)
        await press(pilot, "y")
        assert_shown_safely("\n".join(notifications(pilot)))
        assert_shown_safely(screen.status_text().plain)
        assert_shown_safely(app.export_screenshot())

    run(live_app([hostile_host()], actor=actor), scenario)
    assert {t.pid for t in actor.plans[0].targets} == {1000, 1001, 1002, 1003, 1004}


POD_UID = "0b5e7c1d-2f3a-4b6c-8d9e-0f1a2b3c4d5e"
HOSTILE_NS = "[/bold]"
HOSTILE_POD = "[red]x\x1b[2J\u202e" + "P" * 200 + "-tail9"
HOSTILE_CTR = "ctr\x1b]0;pwned\x07"
POD_CGROUP = f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{POD_UID.replace('-', '_')}.slice"
CTR_CGROUP = f"{POD_CGROUP}/cri-containerd-{'ab' * 32}.scope"


def hostile_pod_host() -> Snapshot:
    """A BestEffort pod whose namespace, pod and container names are markup, escapes and a reversal."""
    pod = Workload(kind="k8s-pod", name=f"{HOSTILE_NS}/{HOSTILE_POD}", namespace=HOSTILE_NS, pod=HOSTILE_POD,
                   pod_uid=POD_UID, qos="BestEffort", source="pod-logs")
    ctr = dataclasses.replace(pod, kind="k8s-container", name=f"{pod.name}/{HOSTILE_CTR}", container=HOSTILE_CTR,
                              container_id="ab" * 32, runtime="containerd", image="[b]img\x1b")
    cgroups = (
        Cgroup(path="/", memory_current=8 * GiB),
        Cgroup(path="/kubepods.slice", memory_current=7 * GiB),
        Cgroup(path="/kubepods.slice/kubepods-besteffort.slice", memory_current=7 * GiB),
        Cgroup(path=POD_CGROUP, memory_current=7 * GiB, workload=pod),
        Cgroup(path=CTR_CGROUP, memory_current=7 * GiB, workload=ctr),
    )
    processes = (proc(1, "systemd", "/", 8 * MiB), proc(2000, "java", CTR_CGROUP, 6 * GiB))
    return Snapshot(host=host(), cgroups=cgroups, processes=processes, taken_at=1_764_001_000.0)


def test_hostile_pod_and_container_names_are_shown_literally_everywhere():
    actor = RecordingActor()
    escaped_pod = printable(f"{HOSTILE_NS}/{HOSTILE_POD}", limit=None)

    async def scenario(pilot):
        app = pilot.app
        screen = main(pilot)
        await select_cgroup(pilot, POD_CGROUP)
        await press(pilot, "enter")
        lines = tree_lines(pilot)
        assert_shown_safely("\n".join(lines))
        assert any(line.startswith("[/bold]…PPPPP-tail9 [BE] ") for line in lines), "cut in the middle"
        assert any(line.startswith("ctr\\x1b]0;pwned\\x07 ") for line in lines), "escaped, under its pod"

        details = screen.query_one("#details")
        assert f"namespace: {HOSTILE_NS}\n" in details.text.plain
        assert f"pod: {printable(HOSTILE_POD, limit=None)}\n" in details.text.plain
        assert_shown_safely(details.text.plain)
        assert_shown_safely(str(details.border_title))
        shown = screen_text(app)
        assert "Details — pod [/bold]" in shown and "PPPP-tail9 [BE] ─" in shown, "the title keeps the name's end"

        cell = screen.verdicts.get_cell("kernel", "victim").plain
        assert_shown_safely(cell)
        assert cell == "2000 java [/bold]…0;pwned\\x07 [BE]", "pid and name whole, the workload cut in the middle"
        await press(pilot)
        why = screen.query_one("#ranking").text.plain
        assert_shown_safely(why)
        assert f"workload: pod {escaped_pod} (BestEffort), container ctr\\x1b]0;pwned\\x07" in why

        await press(pilot, "slash", *"pwned")
        assert any(line.startswith("ctr\\x1b]0;pwned") for line in tree_lines(pilot)), "the filter matches it"
        await press(pilot, "escape")

        await select_cgroup(pilot, POD_CGROUP)
        await press(pilot, "k")
        dialog = app.screen
        assert isinstance(dialog, KillDialog)
        assert f"in pod {escaped_pod} (BestEffort)\n" in dialog.question.plain
        assert_shown_safely(dialog.question.plain)
        assert_shown_safely(app.export_screenshot())
        await press(pilot, "n")
        assert_shown_safely(app.export_screenshot())

    run(live_app([hostile_pod_host()], actor=actor), scenario)
    assert actor.plans == []
