"""A what-if view's listings are its sample's with the edited processes swapped, and say so.

The policies carry what they worked out over a sample to its views by
touching only the places a view's lineage names (model.Derived,
Snapshot.lineage): a wrong place or a missing one would leave a stale
process in a policy's view with no error. Each test compares a view with
the same snapshot indexed afresh.
"""

from __future__ import annotations

import dataclasses
import random

from oomtui import whatif
from oomtui.model import ROOT, Derived, Snapshot, WhatIf, is_within
from oomtui.synthetic import large_host


def _afresh(view: Snapshot) -> Snapshot:
    """The view's cgroups and processes indexed from scratch: no lineage, nothing shared."""
    return Snapshot(host=view.host, cgroups=view.cgroups, processes=view.processes, whatif=view.whatif)


def _same(a, b) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _edits(sample: Snapshot, seed: int, n: int) -> WhatIf:
    rng = random.Random(seed)
    w = WhatIf()
    for p in rng.sample(sample.processes, n):
        w = whatif.set_adj(w, p.pid, rng.choice([-1000, -300, 0, 400, 1000]))
    for path in rng.sample([c.path for c in sample.cgroups if c.path != ROOT], 3):
        w = whatif.set_interdependent(w, path, True)
    return w


def test_a_views_every_listing_is_the_one_indexed_afresh():
    sample = large_host(processes=1500, cgroups=150, seed=3)
    for seed in range(4):
        view = whatif.apply(sample.with_replaced({}, {}, _edits(sample, seed, 25)))
        fresh = _afresh(view)
        assert _same(view.processes, fresh.processes)
        for c in sample.cgroups:
            assert _same(view.processes_in(c.path), fresh.processes_in(c.path)), c.path
            assert _same(view.processes_under(c.path), fresh.processes_under(c.path)), c.path
            assert view.subtree_footprint(c.path) == fresh.subtree_footprint(c.path), c.path


def test_a_view_that_swaps_sizes_too_sums_them_as_indexed_afresh():
    """Edits change only scores, but a view may swap any process of the same pid and cgroup."""
    sample = large_host(processes=900, cgroups=90, seed=2)
    rng = random.Random(4)
    grown = {p.pid: dataclasses.replace(p, rss_anon=(p.rss_anon or 0) + rng.randrange(1, 1 << 30))
             for p in rng.sample(sample.processes, 40)}
    view = sample.with_replaced({}, grown, WhatIf())
    fresh = _afresh(view)
    for c in sample.cgroups:
        assert view.subtree_footprint(c.path) == fresh.subtree_footprint(c.path), c.path
        assert _same(view.processes_under(c.path), fresh.processes_under(c.path)), c.path


def test_an_undone_edit_is_a_changed_place_between_two_views():
    """The TUI's next view may drop an edit the last one made: both views' places are looked at."""
    from oomtui.policies import carry

    sample = large_host(processes=500, cgroups=50, seed=8)
    p, q = sample.processes[30], sample.processes[300]
    first = sample.with_replaced({}, {p.pid: dataclasses.replace(p, oom_score_adj=11)}, WhatIf())
    second = sample.with_replaced({}, {q.pid: dataclasses.replace(q, oom_score_adj=12)}, WhatIf())
    assert carry.changed_places(second.processes, first.processes) == [30, 300]
    assert carry.changed_places(sample.processes, first.processes) == [30]
    assert carry.changed_places(second.processes_under(ROOT), first.processes_under(ROOT)) == sorted(
        i for i, (a, b) in enumerate(zip(second.processes_under(ROOT), first.processes_under(ROOT), strict=True))
        if a is not b)


def test_a_views_listing_names_its_origin_and_exactly_the_places_swapped():
    sample = large_host(processes=800, cgroups=80, seed=4)
    edited = sample.processes[10]
    view = whatif.apply(sample.with_replaced({}, {}, whatif.set_adj(WhatIf(), edited.pid, 700)))
    assert isinstance(view.processes, Derived) and view.processes.origin is sample.processes
    assert view.processes.places == [10]
    home = edited.cgroup
    under = view.processes_under(ROOT)
    assert isinstance(under, Derived) and under.origin is sample.processes_under(ROOT)
    assert [i for i, (a, b) in enumerate(zip(under, under.origin, strict=True)) if a is not b] == under.places
    assert len(under.places) == 1 and under[under.places[0]].oom_score_adj == 700
    assert view.lineage() == (sample, frozenset({home}))
    untouched = next(c.path for c in sample.cgroups if not is_within(home, c.path))
    assert view.processes_under(untouched) is sample.processes_under(untouched)


def test_a_view_of_a_view_keeps_the_sample_as_its_origin():
    sample = large_host(processes=600, cgroups=60, seed=5)
    first, second = sample.processes[3], sample.processes[400]
    once = sample.with_replaced({}, {first.pid: dataclasses.replace(first, oom_score_adj=100)}, WhatIf())
    twice = once.with_replaced({}, {second.pid: dataclasses.replace(second, oom_score_adj=200)}, WhatIf())
    assert twice.processes.origin is sample.processes and twice.processes.places == [3, 400]
    from oomtui.policies import carry

    assert carry.changed_places(twice.processes, once.processes) == [400]  # pid 3's stand-in is the same object
    assert twice.lineage()[0] is sample and sample.lineage() is None
    assert _same(twice.processes_under(ROOT), _afresh(twice).processes_under(ROOT))


def test_a_listing_out_of_pid_order_or_with_a_pid_twice_is_swapped_right():
    sample = large_host(processes=500, cgroups=50, seed=6)
    shuffled = list(sample.processes)
    random.Random(1).shuffle(shuffled)
    twice = [*sample.processes[:250], dataclasses.replace(sample.processes[7]), *sample.processes[250:]]
    for processes in (shuffled, twice):
        s = sample.replace(processes=tuple(processes))
        target = s.process(sample.processes[7].pid)
        view = s.with_replaced({}, {target.pid: dataclasses.replace(target, oom_score_adj=-17)}, WhatIf())
        assert [p.oom_score_adj for p in view.processes if p.pid == target.pid] == [-17] * sum(
            p.pid == target.pid for p in processes)
        assert _same(view.processes_under(ROOT), _afresh(view).processes_under(ROOT))


def test_a_cgroup_edit_alone_is_named_and_leaves_the_listings_shared():
    sample = large_host(processes=400, cgroups=40, seed=7)
    path = next(c.path for c in sample.cgroups if c.path != ROOT)
    view = whatif.apply(sample.with_replaced({}, {}, whatif.set_interdependent(WhatIf(), path, True)))
    assert view.lineage() == (sample, frozenset({path}))
    assert view.processes is sample.processes and view.processes_under(ROOT) is sample.processes_under(ROOT)


def test_a_cgroups_start_in_a_subtree_listing_is_where_its_processes_are():
    sample = large_host(processes=300, cgroups=40, seed=9)
    view = whatif.apply(sample.with_replaced({}, {}, _edits(sample, 1, 10)))
    for snap in (sample, view):
        for path in (c.path for c in sample.cgroups):
            under = snap.processes_under(path)
            for c in sample.cgroups:
                start = snap.start_under(path, c.path)
                if not is_within(c.path, path):
                    assert start is None
                elif own := snap.processes_in(c.path):
                    assert under[start:start + len(own)] == own
