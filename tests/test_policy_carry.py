"""What one evaluation works out per process is carried to the next what-if view, and stays right.

The TUI re-runs the policies on each edit; the view an edit makes holds
the sample's process objects but for the edited ones, so per-process
results are copied and only those places worked out again
(oomtui/policies/carry.py). A stale value carried over would show a wrong
victim with no error, so each test compares against a fresh computation.
"""

from __future__ import annotations

import dataclasses
from array import array
from itertools import pairwise

from oomtui import whatif
from oomtui.evaluate import evaluate
from oomtui.model import ROOT, Process, WhatIf
from oomtui.policies import carry
from oomtui.synthetic import large_host


def _forget() -> None:
    for _ in range(3):
        carry.next_evaluation()


def _figure(p: Process) -> int:
    return p.footprint + p.oom_score_adj


def _carried(key: str, listing, calls: list[int]) -> array[int]:
    """carry.carried_columns of one figure, each process read counted in `calls`."""
    def every(processes) -> tuple[array[int]]:
        calls.extend(p.pid for p in processes)
        return (array("q", map(_figure, processes)),)

    return carry.carried_columns(key, listing, every)[0]


def test_a_view_recomputes_only_the_processes_its_edits_replaced():
    _forget()
    sample = large_host(processes=400, cgroups=40)
    calls: list[int] = []
    first = _carried("test footprint", sample.processes, calls)
    assert list(first) == list(map(_figure, sample.processes)) and len(calls) == 400
    edited = list(sample.processes)
    edited[7] = dataclasses.replace(edited[7], oom_score_adj=-500, rss_anon=(edited[7].rss_anon or 0) + 4096)
    view = tuple(edited)
    calls.clear()
    again = _carried("test footprint", view, calls)
    assert calls == [view[7].pid]
    assert list(again) == list(map(_figure, view))
    assert first[7] != again[7]  # the sample's own values were copied, not changed


def test_the_same_listing_is_answered_from_memory_and_a_list_never_is():
    _forget()
    sample = large_host(processes=200, cgroups=20)
    calls: list[int] = []
    _carried("test same", sample.processes, calls)
    _carried("test same", sample.processes, calls)
    assert len(calls) == 200
    _carried("test list", list(sample.processes), calls)
    _carried("test list", list(sample.processes), calls)
    assert len(calls) == 600


def test_a_listing_unlike_the_last_is_worked_out_whole():
    _forget()
    one, other = large_host(processes=300, cgroups=30, seed=1), large_host(processes=300, cgroups=30, seed=2)
    calls: list[int] = []
    _carried("test unlike", one.processes, calls)
    calls.clear()
    values = _carried("test unlike", other.processes, calls)
    assert len(calls) == 300 and list(values) == list(map(_figure, other.processes))
    shorter = other.processes[:-1]
    calls.clear()
    _carried("test unlike", shorter, calls)
    assert len(calls) == 299


def test_what_two_evaluations_did_not_use_is_forgotten():
    _forget()
    sample = large_host(processes=100, cgroups=10)
    calls: list[int] = []
    _carried("test forget", sample.processes, calls)
    carry.next_evaluation()
    _carried("test forget", sample.processes, calls)  # used in this one: kept
    assert len(calls) == 100
    carry.next_evaluation()
    carry.next_evaluation()
    _carried("test forget", sample.processes, calls)
    assert len(calls) == 200


def test_every_policy_decides_an_edit_as_it_would_with_nothing_carried_over():
    """Each edit lowers or raises the victim a policy just chose, so a value carried over stale would
    move a victim or a ranking."""
    sample = large_host(processes=3000, cgroups=300, seed=5)
    paths = [c.path for c in sample.cgroups if c.path != ROOT]
    for domain in (ROOT, *sample.limited_cgroups()[:2]):
        edits = WhatIf()
        shown = evaluate(sample, domain)
        for step in range(12):
            victims = [d.victim_pid for d in shown if d.victim_pid is not None]
            if victims:
                edits = whatif.set_adj(edits, victims[step % len(victims)], -1000 if step % 3 else 500)
            edits = whatif.set_interdependent(edits, paths[step * 7 % len(paths)], step % 3 == 0)
            carried = evaluate(sample.with_replaced({}, {}, edits), domain)
            _forget()
            fresh = evaluate(sample.replace(processes=tuple(dataclasses.replace(p) for p in sample.processes),
                                            whatif=edits), domain)
            assert carried == fresh
            shown = evaluate(sample.with_replaced({}, {}, edits), domain)  # as the TUI shows it, carried anew


def _rising(before: Process, after: Process) -> bool:
    return before.pid < after.pid


def _all_rising(listing) -> bool:
    return all(a.pid < b.pid for a, b in pairwise(listing))


def test_order_is_checked_around_a_views_changes_and_a_swap_there_is_seen():
    _forget()
    sample = large_host(processes=300, cgroups=30)
    listing = tuple(sorted(sample.processes, key=lambda p: p.pid))
    checked: list[int] = []

    def whole(processes) -> bool:
        checked.append(len(processes))
        return _all_rising(processes)

    assert carry.in_order("test order", listing, _rising, whole) and checked == [300]
    edited = list(listing)
    edited[40] = dataclasses.replace(edited[40], oom_score_adj=300)
    assert carry.in_order("test order", tuple(edited), _rising, whole) and checked == [300]
    edited[40], edited[41] = edited[41], edited[40]  # two places changed, now out of pid order
    assert not carry.in_order("test order", tuple(edited), _rising, whole) and checked == [300]
    assert not carry.in_order("test order", tuple(reversed(listing)), _rising, whole) and checked == [300, 300]


def test_a_column_the_edits_leave_as_it_was_is_the_same_object_and_a_changed_one_a_copy():
    _forget()
    sample = large_host(processes=300, cgroups=30)

    def every(processes):
        return array("q", (p.footprint for p in processes)), array("q", (p.oom_score_adj for p in processes))

    sizes, adjs = carry.carried_columns("test cow", sample.processes, every)
    was = list(adjs)
    p = sample.processes[9]
    view = sample.with_replaced({}, {p.pid: dataclasses.replace(p, oom_score_adj=p.oom_score_adj + 1)}, WhatIf())
    sizes2, adjs2 = carry.carried_columns("test cow", view.processes, every)
    assert sizes2 is sizes and adjs2 is not adjs
    assert list(adjs) == was and adjs2[9] == was[9] + 1
    same = view.with_replaced({}, {p.pid: dataclasses.replace(p)}, WhatIf())  # an edit that changes nothing
    assert carry.carried_columns("test cow", same.processes, every) == (sizes, adjs)
    columns = carry.carried_columns("test cow", same.processes, every)
    assert columns[0] is sizes and columns[1] is not adjs2 and list(columns[1]) == was


def test_a_subtree_the_edits_left_as_it_was_is_shared_and_one_they_changed_is_not():
    from oomtui.policies.subtree import KILLABLE, LIVE, WITH_MEMORY, subtree

    _forget()
    sample = large_host(processes=600, cgroups=60, seed=8)
    path = max(sample.limited_cgroups(), key=lambda c: len(sample.processes_under(c)))
    inside = next(p for p in sample.processes_under(path) if p.oom_score_adj not in (-1000, 500)
                  and not p.kernel_thread and p.pid != 1)
    before = subtree(sample, path)
    raised = sample.with_replaced({}, {inside.pid: dataclasses.replace(inside, oom_score_adj=500)}, WhatIf())
    assert subtree(raised, path) is before  # its pids, sizes and kinds are as they were
    spared = raised.with_replaced({}, {inside.pid: dataclasses.replace(inside, oom_score_adj=-1000)}, WhatIf())
    tree = subtree(spared, path)
    assert tree is not before
    listing = spared.processes_under(path)
    for bit, keeps in ((LIVE, lambda p: not p.kernel_thread),
                       (KILLABLE, lambda p: not p.kernel_thread and p.oom_score_adj != -1000 and p.pid != 1),
                       (WITH_MEMORY, lambda p: not p.kernel_thread and p.oom_score_adj != -1000 and p.pid != 1
                        and p.footprint > 0)):
        kept = [p for p in listing if keeps(p)]
        assert tree.pids_of(bit) == tuple(p.pid for p in kept)
        assert tree.footprint_of(bit) == sum(p.footprint for p in kept)
        victim = kept[len(kept) // 2]
        rest = [p for p in kept if p.pid != victim.pid]
        assert tree.but(bit, victim.pid) == (tuple(p.pid for p in rest), sum(p.footprint for p in rest))
    assert inside.pid not in tree.pids_of(KILLABLE) and inside.pid in before.pids_of(KILLABLE)
    assert tree.but(KILLABLE, inside.pid) == (tree.pids_of(KILLABLE), tree.footprint_of(KILLABLE))  # not of the kind


def test_a_view_that_moves_a_containers_first_process_later_names_the_next_first():
    """A view may swap a process for one started later: the container's first process is then another,
    and the listing is no longer in fork order."""
    from oomtui.policies.kubelet import pods

    _forget()
    sample = large_host(processes=3000, cgroups=300, seed=9)
    pods(sample)
    last = max(p.start_time for p in sample.processes if p.start_time is not None)
    for pod in [p for p in pods(sample) if p.qos == "Burstable"][:5]:
        first = min((p for p in sample.processes_under(pod.path) if not p.kernel_thread and p.cgroup != pod.path),
                    key=lambda p: (p.start_time, p.pid))
        moved = dataclasses.replace(first, start_time=last + 1, oom_score_adj=777)  # no longer its container's first
        view = sample.with_replaced({}, {first.pid: moved}, WhatIf())
        assert pods(view) == pods(sample.replace(processes=view.processes))


def test_a_pods_request_follows_an_edit_of_its_containers_first_process():
    """The kubelet infers a container's request from its first process's adj; an edit there must move it."""
    from oomtui.policies.kubelet import pods
    from oomtui.workload_paths import pod_of

    _forget()
    sample = large_host(processes=3000, cgroups=300, seed=9)
    known = {p.path: p for p in pods(sample)}
    burstable = [p for p in known.values() if p.qos == "Burstable" and p.request.high is not None]
    assert burstable, "the sample host has Burstable pods with inferred requests"
    pod = burstable[0]
    first = min((p for p in sample.processes_under(pod.path) if not p.kernel_thread
                 and "conmon-" not in p.cgroup and p.cgroup != pod.path),
                key=lambda p: (p.start_time, p.pid))
    view = whatif.apply(sample.with_replaced({}, {}, whatif.set_adj(WhatIf(), first.pid, 999)))
    carried = {p.path: p for p in pods(view)}
    fresh = {p.path: p for p in pods(sample.replace(processes=view.processes))}
    assert carried == fresh
    assert carried[pod.path].request != pod.request
    assert all(carried[path] == known[path] for path in known if path != pod_of(first.cgroup).path)
