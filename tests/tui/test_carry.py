"""On a steady host the TUI keeps the last decisions for a new sample instead of running every
policy again; the moment memory moves, a victim goes, or the user asks, they are made afresh."""

from __future__ import annotations

import dataclasses

import pytest

from oomtui import whatif
from oomtui.model import ROOT, OomEvent, Pressure, PressureLine, Snapshot, WhatIf
from oomtui.synthetic import large_host
from oomtui.tui import evaluation
from oomtui.tui.evaluation import STEADY_BYTES, STEADY_PRESSURE, STEADY_PRESSURE_MOVE, STEADY_SECONDS
from oomtui.tui.messages import Evaluated
from tests.tui.fixtures import MiB, grown, small_host
from tests.tui.helpers import live_app, main, press, run, settle

QUIET = Pressure(some=PressureLine(0.0, 0.0, 0.0, 10), full=PressureLine(0.0, 0.0, 0.0, 5))
BASE = large_host(processes=1500, cgroups=300, seed=3)
HOST = BASE.replace(source="live", host=dataclasses.replace(BASE.host, psi=QUIET))
HOST_EVENT = OomEvent(kind="global", domain=ROOT, killed_pid=HOST.processes[-1].pid)


def later(snap: Snapshot, seconds: float = 2.0, freed: int = 0, psi: Pressure | None = QUIET, **host) -> Snapshot:
    """The next sample of the same host: `freed` more bytes available."""
    h = dataclasses.replace(snap.host, mem_available=snap.host.mem_available + freed, psi=psi, **host)
    return snap.replace(taken_at=snap.taken_at + seconds, host=h)


def stalls(some: float) -> Pressure:
    return Pressure(PressureLine(some, 0.5, 0.1, 99), PressureLine(some / 2, 0.1, 0.0, 9))


def victim(ev: evaluation.Evaluation) -> int:
    return ev.decision("kernel").victim_pid


def test_a_steady_sample_keeps_the_decisions_and_says_how_old_they_are() -> None:
    first = evaluation.run(HOST, WhatIf())
    nxt = later(HOST, 2.0, freed=4096)
    kept = evaluation.carry(first, nxt, WhatIf(), ROOT)
    assert kept is not None
    assert kept.view.taken_at == nxt.taken_at and kept.sample is nxt  # the tree shows the new sample
    assert {d.policy: d for d in kept.decisions} == {d.policy: d for d in first.decisions}
    assert kept.carried and kept.age() == 2.0
    assert not first.carried and first.age() is None
    again = evaluation.carry(kept, later(nxt, 2.0), WhatIf(), ROOT)
    assert again is not None and again.age() == 4.0  # counted from the sample they were made on


def test_who_acts_first_is_reckoned_on_the_new_sample() -> None:
    first = evaluation.run(HOST, WhatIf())
    nxt = later(HOST, 2.0)
    kept = evaluation.carry(first, nxt, WhatIf(), ROOT)
    assert kept is not None
    fresh = evaluation.run(nxt, WhatIf())
    assert kept.standings == fresh.standings
    assert [d.policy for d in kept.decisions] == [d.policy for d in fresh.decisions]


@pytest.mark.parametrize("why, sample", [
    ("memory moved", lambda s: later(s, 2.0, freed=-(STEADY_BYTES + 4096))),
    ("memory came back", lambda s: later(s, 2.0, freed=STEADY_BYTES + 4096)),
    ("too old", lambda s: later(s, STEADY_SECONDS)),
    ("clock went back", lambda s: later(s, -2.0)),
    ("stalls on memory", lambda s: later(s, 2.0, psi=stalls(STEADY_PRESSURE))),
    ("stalls grew", lambda s: later(s, 2.0, psi=stalls(STEADY_PRESSURE_MOVE))),
    ("an OOM event", lambda s: later(s).replace(oom_event=HOST_EVENT)),
    ("a recording", lambda s: later(s).replace(source="recording")),
    ("swap grew", lambda s: later(s, 2.0, swap_total=1 << 30, swap_free=0)),
    ("memory unknown", lambda s: later(s, 2.0, mem_total=None)),
])
def test_the_policies_run_again_when(why: str, sample) -> None:
    first = evaluation.run(HOST, WhatIf())
    assert evaluation.carry(first, sample(HOST), WhatIf(), ROOT) is None, why


def test_the_stall_share_is_a_bound() -> None:
    first = evaluation.run(HOST, WhatIf())
    below = later(HOST, 2.0, psi=stalls(STEADY_PRESSURE_MOVE - 0.01))
    assert evaluation.carry(first, below, WhatIf(), ROOT) is not None
    stalling = HOST.replace(host=dataclasses.replace(HOST.host, psi=stalls(STEADY_PRESSURE - 0.5)))
    steadily = evaluation.run(stalling, WhatIf())
    assert evaluation.carry(steadily, later(stalling, 2.0, psi=stalls(STEADY_PRESSURE - 0.01)), WhatIf(), ROOT)
    assert evaluation.carry(steadily, later(stalling, 2.0, psi=stalls(STEADY_PRESSURE - 1.5)), WhatIf(), ROOT) is None
    assert evaluation.carry(steadily, later(stalling, 2.0, psi=None), WhatIf(), ROOT) is None  # PSI unread: 0
    within = later(HOST, 2.0, freed=-STEADY_BYTES)
    assert evaluation.carry(first, within, WhatIf(), ROOT) is not None


def test_a_victim_that_exited_or_whose_pid_was_reused_runs_them_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    pid = victim(first)
    gone = later(HOST).replace(processes=tuple(p for p in HOST.processes if p.pid != pid))
    assert evaluation.carry(first, gone, WhatIf(), ROOT) is None
    reborn = later(HOST).replace(processes=tuple(
        dataclasses.replace(p, start_time=(p.start_time or 0) + 1) if p.pid == pid else p for p in HOST.processes))
    assert evaluation.carry(first, reborn, WhatIf(), ROOT) is None
    moved = later(HOST).replace(processes=tuple(
        dataclasses.replace(p, cgroup=ROOT) if p.pid == pid else p for p in HOST.processes))
    assert evaluation.carry(first, moved, WhatIf(), ROOT) is None


def test_a_victim_cgroup_that_went_runs_them_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    chosen = next(d for d in first.decisions if d.victim_cgroup not in (None, ROOT))
    inside = [p.pid for p in HOST.processes if p.cgroup == chosen.victim_cgroup]
    assert not inside or chosen.victim_pid in inside or chosen.victim_pid is None
    gone = later(HOST).replace(
        cgroups=tuple(c for c in HOST.cgroups if c.path != chosen.victim_cgroup),
        processes=tuple(p for p in HOST.processes if p.cgroup != chosen.victim_cgroup))
    assert evaluation.carry(first, gone, WhatIf(), ROOT) is None


def test_an_edit_or_another_domain_is_never_carried() -> None:
    first = evaluation.run(HOST, WhatIf())
    edits = whatif.set_adj(WhatIf(), victim(first), -1000)
    assert evaluation.carry(first, later(HOST), edits, ROOT) is None
    limited = next(c.path for c in HOST.cgroups if c.memory_max is not None and c.path != ROOT)
    assert evaluation.carry(first, later(HOST), WhatIf(), limited) is None


def test_a_cgroup_domain_is_steady_while_its_usage_is() -> None:
    limited = next(c for c in HOST.cgroups if c.memory_max is not None and c.memory_current and c.path != ROOT)
    first = evaluation.run(HOST, WhatIf(), limited.path)
    assert first.domain == limited.path

    def usage(delta: int) -> Snapshot:
        return later(HOST).replace(cgroups=tuple(
            dataclasses.replace(c, memory_current=c.memory_current + delta) if c.path == limited.path else c
            for c in HOST.cgroups))

    step = min(limited.memory_max // 100, STEADY_BYTES)
    assert evaluation.carry(first, usage(step), WhatIf(), limited.path) is not None
    assert evaluation.carry(first, usage(step + 4096), WhatIf(), limited.path) is None
    assert evaluation.carry(first, later(HOST, freed=-(STEADY_BYTES + 4096)), WhatIf(), limited.path) is not None


def test_an_edit_after_a_carried_sample_runs_every_policy_on_it() -> None:
    first = evaluation.run(HOST, WhatIf())
    nxt = later(HOST)
    kept = evaluation.carry(first, nxt, WhatIf(), ROOT)
    edits = whatif.set_adj(WhatIf(), victim(first), -1000)
    again = evaluation.run(nxt, edits, ROOT, previous=kept)
    assert again.decisions == evaluation.run(nxt, edits, ROOT).decisions
    assert not again.carried


def _resized(snap: Snapshot, sizes: dict[int, int], **changes) -> Snapshot:
    return later(snap).replace(processes=tuple(
        dataclasses.replace(p, rss_anon=sizes[p.pid], **changes) if p.pid in sizes else p for p in snap.processes))


def test_processes_trading_memory_run_them_again_though_the_host_total_stands() -> None:
    first = evaluation.run(HOST, WhatIf())
    top, small = victim(first), HOST.processes[0].pid
    size = {p.pid: p.rss_anon for p in HOST.processes}
    shift = STEADY_BYTES // 2 + 4096  # moved twice: out of one, into the other
    traded = _resized(HOST, {top: size[top] - shift, small: size[small] + shift})
    assert traded.host.mem_available == HOST.host.mem_available
    assert evaluation.carry(first, traded, WhatIf(), ROOT) is None
    jitter = _resized(HOST, {top: size[top] - 4096, small: size[small] + 4096})
    assert evaluation.carry(first, jitter, WhatIf(), ROOT) is not None


def test_a_new_big_process_or_a_gone_one_runs_them_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    model = HOST.processes[-1]
    newcomer = dataclasses.replace(model, pid=max(p.pid for p in HOST.processes) + 1, rss_anon=STEADY_BYTES,
                                   rss_file=0, rss_shmem=0, swap=0, pgtables=4096)
    assert evaluation.carry(first, later(HOST).replace(processes=(*HOST.processes, newcomer)), WhatIf(), ROOT) is None
    small = dataclasses.replace(newcomer, rss_anon=4096)
    assert evaluation.carry(first, later(HOST).replace(processes=(*HOST.processes, small)), WhatIf(), ROOT) is not None
    big = max((p for p in HOST.processes if p.pid != victim(first)), key=lambda p: p.footprint)
    assert big.footprint > STEADY_BYTES
    gone = later(HOST).replace(processes=tuple(p for p in HOST.processes if p.pid != big.pid))
    assert evaluation.carry(first, gone, WhatIf(), ROOT) is None


def test_an_oom_score_adj_or_cgroup_changed_outside_runs_them_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    other = next(p for p in HOST.processes if p.pid != victim(first) and not p.kernel_thread)
    size = {other.pid: other.rss_anon}
    assert evaluation.carry(first, _resized(HOST, size, oom_score_adj=other.oom_score_adj + 1), WhatIf(), ROOT) is None
    elsewhere = next(c.path for c in HOST.cgroups if c.path != other.cgroup)
    assert evaluation.carry(first, _resized(HOST, size, cgroup=elsewhere), WhatIf(), ROOT) is None
    assert evaluation.carry(first, _resized(HOST, size), WhatIf(), ROOT) is not None


@pytest.mark.parametrize("knob, value", [
    ("memory_max", 1 << 30), ("memory_high", 1 << 29), ("memory_low", 1 << 28), ("memory_min", 1 << 27),
    ("swap_max", 0), ("oom_group", True), ("xattrs", {"user.oomd_omit": "1"}), ("owner_uid", 4242),
    ("swappiness", 7),
])
def test_a_knob_written_outside_runs_them_again(knob: str, value: object) -> None:
    first = evaluation.run(HOST, WhatIf())
    target = next(c for c in HOST.cgroups if c.path != ROOT and getattr(c, knob) != value)
    changed = later(HOST).replace(cgroups=tuple(
        dataclasses.replace(c, **{knob: value}) if c is target else c for c in HOST.cgroups))
    assert evaluation.carry(first, changed, WhatIf(), ROOT) is None


def test_a_new_cgroup_runs_them_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    extra = dataclasses.replace(HOST.cgroups[-1], path=HOST.cgroups[-1].path + "-new")
    assert evaluation.carry(first, later(HOST).replace(cgroups=(*HOST.cgroups, extra)), WhatIf(), ROOT) is None
    renamed = later(HOST).replace(cgroups=(*HOST.cgroups[:-1], extra), processes=tuple(
        p for p in HOST.processes if p.cgroup != HOST.cgroups[-1].path))
    assert evaluation.carry(first, renamed, WhatIf(), ROOT) is None


def test_a_removed_cgroup_runs_them_again() -> None:
    empty = dataclasses.replace(HOST.cgroups[-1], path=HOST.cgroups[-1].path + "-empty", memory_current=0)
    with_empty = HOST.replace(cgroups=(*HOST.cgroups, empty))
    first = evaluation.run(with_empty, WhatIf())
    assert evaluation.carry(first, later(with_empty), WhatIf(), ROOT) is not None
    assert evaluation.carry(first, later(HOST), WhatIf(), ROOT) is None


def _live(snap: Snapshot) -> Snapshot:
    return snap.replace(source="live")


def test_the_screen_keeps_verdicts_while_steady_and_runs_the_policies_when_memory_moves() -> None:
    first = _live(small_host())
    steady = _live(grown(first, 202, 101 * MiB))  # app-helper grew by 1 MiB: nothing a verdict weighs
    swollen = grown(steady, 300, 3000 * MiB)  # bash takes 3 GiB: the kernel's pick changes
    swollen = swollen.replace(host=dataclasses.replace(swollen.host, mem_available=swollen.host.mem_available
                                                       - 2990 * MiB))
    quiet = grown(swollen, 202, 102 * MiB)
    messages: list = []

    def evaluations() -> int:
        return len({id(m) for m in messages if isinstance(m, Evaluated)})  # one message, seen where it bubbles

    async def scenario(pilot) -> None:
        screen = main(pilot)
        assert screen.evaluation.decision("kernel").victim_pid == 200
        ran = evaluations()
        screen.collect()
        await settle(pilot)
        assert evaluations() == ran, "a steady sample should keep the decisions"
        assert screen.evaluation.view.process(202).rss_anon == 101 * MiB  # the tree has the new sample
        assert "memory steady: decided 2 s ago" in str(screen.verdicts.border_title)
        screen.collect()
        await settle(pilot)
        assert evaluations() == ran + 1
        assert screen.evaluation.decision("kernel").victim_pid == 300
        assert "steady" not in str(screen.verdicts.border_title)
        await press(pilot, "r")  # asked for: every policy again, however steady
        assert evaluations() == ran + 2
        assert not screen.evaluation.carried

    run(live_app([first, steady, swollen, quiet]), scenario, messages)
