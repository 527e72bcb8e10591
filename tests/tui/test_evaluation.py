"""The TUI keeps the decisions an edit cannot change (oomd across oom_score_adj, earlyoom across
cgroup knobs): what it shows must equal a fresh evaluation."""

from __future__ import annotations

import dataclasses

from oomtui import whatif
from oomtui.model import ROOT, WhatIf
from oomtui.policies import registry
from oomtui.synthetic import large_host
from oomtui.tui import evaluation

HOST = large_host(processes=1500, cgroups=300, seed=3)


def _by_policy(ev: evaluation.Evaluation) -> dict[str, object]:
    return {d.policy: d for d in ev.decisions}


def test_policies_that_say_they_ignore_oom_score_adj_do() -> None:
    edits = WhatIf()
    for i, p in enumerate(HOST.processes):
        edits = whatif.set_adj(edits, p.pid, (-1000, -300, 0, 500, 1000)[i % 5])
    blind = [s for s in registry.policies().values() if not s.reads_oom_score_adj]
    assert {s.name for s in blind} >= {"systemd-oomd-swap", "systemd-oomd-pressure", "oomd-size-or-growth"}
    edited = HOST.replace(whatif=edits)
    for spec in blind:
        assert spec.run(edited, ROOT) == spec.run(HOST, ROOT), spec.name


def test_an_oom_score_adj_edit_gives_what_a_fresh_evaluation_gives() -> None:
    first = evaluation.run(HOST, WhatIf())
    victim = first.decision("kernel").victim_pid
    edits = whatif.set_adj(WhatIf(), victim, -1000)
    reused = evaluation.run(HOST, edits, ROOT, previous=first)
    fresh = evaluation.run(HOST, edits, ROOT)
    assert reused.decisions == fresh.decisions
    assert reused.decision("kernel").victim_pid != victim  # the edit did reach the kernel's pick
    assert reused.decision("systemd-oomd-swap") is first.decision("systemd-oomd-swap")


def test_a_cgroup_edit_runs_the_cgroup_killers_again() -> None:
    first = evaluation.run(HOST, WhatIf())
    chosen = next(d for d in first.decisions if not registry.get(d.policy).reads_oom_score_adj and d.victim_cgroup)
    edits = whatif.set_xattr(WhatIf(), chosen.victim_cgroup, "user.oomd_omit", "1")
    edits = whatif.set_xattr(edits, chosen.victim_cgroup, "trusted.oomd_avoid", "1")
    again = evaluation.run(HOST, edits, ROOT, previous=first)
    assert again.decisions == evaluation.run(HOST, edits, ROOT).decisions
    assert _by_policy(again)[chosen.policy] != chosen


def test_a_new_sample_is_evaluated_afresh() -> None:
    first = evaluation.run(HOST, WhatIf())
    grown = HOST.replace(cgroups=tuple(dataclasses.replace(c, memory_current=(c.memory_current or 0) * 2)
                                       for c in HOST.cgroups))
    again = evaluation.run(grown, WhatIf(), ROOT, previous=first)
    assert again.decisions == evaluation.run(grown, WhatIf(), ROOT).decisions


def test_policies_that_say_they_ignore_cgroup_edits_do() -> None:
    edits = WhatIf()
    for i, c in enumerate(HOST.cgroups[1:]):
        edits = whatif.set_interdependent(edits, c.path, i % 2 == 0)
        edits = whatif.set_score(edits, c.path, (-1000, 0, 1000)[i % 3])
        for name in ("trusted.oomd_prefer", "user.oomd_omit", "user.oomd_avoid"):
            edits = whatif.set_xattr(edits, c.path, name, "1")
    blind = [s for s in registry.policies().values() if not s.reads_cgroup_edits]
    assert {s.name for s in blind} >= {"earlyoom", "nohang"}
    edited = HOST.replace(whatif=edits)
    for spec in blind:
        assert spec.run(edited, ROOT) == spec.run(HOST, ROOT), spec.name


def test_a_cgroup_edit_keeps_the_process_killers_and_equals_a_fresh_evaluation() -> None:
    first = evaluation.run(HOST, WhatIf())
    path = first.decision("kernel").victim_pid_cgroup or HOST.cgroups[1].path
    edits = whatif.set_interdependent(WhatIf(), path, True)
    again = evaluation.run(HOST, edits, ROOT, previous=first)
    assert again.decisions == evaluation.run(HOST, edits, ROOT).decisions
    assert again.decision("earlyoom") is first.decision("earlyoom")
    assert again.decision("kernel") is not first.decision("kernel")
