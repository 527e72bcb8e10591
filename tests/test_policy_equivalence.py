"""kernel, earlyoom and nohang against slow references of the same rules, on generated hosts.

The policies rank 10,000 processes on every keypress, so they sort only
the shown top, fold over precomputed keys and write explanations for a
few. Each reference here is the rule written the plain way (every
candidate built, one full sort, earlyoom's fold over whole entries), and
the hosts vary what the fast paths could get wrong: equal sizes, unknown
start times and oom_scores, adj -1000, root processes, old kernel eras,
what-if edits and memory.oom.group. An optimisation that changes a
victim, a ranking, a kill set or a named tie fails here.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from functools import cache

import pytest

from oomtui import whatif
from oomtui.model import ROOT, Process, Snapshot, parent_of
from oomtui.policies import earlyoom, kernel_rules, nohang, proposals
from oomtui.policies.base import RANKING_MIN, Decision
from oomtui.policies.budget import kernel_version, total_pages
from oomtui.policies.daemon_common import CgroupKill, Score, cgroup_kill, kernel_oom_score
from oomtui.policies.earlyoom import FIELD_NOT_SET, RSS_PREFER_KIB, SCORE_PREFER, Entry, larger_17, larger_current
from oomtui.policies.earlyoom import _visited as earlyoom_visited
from oomtui.policies.kernel import PERCPU_ERROR_PAGES, ROUNDING_PAGES
from oomtui.policies.kernel_rules import Era, Scorer, badness, eligible
from oomtui.policies.nohang import rate
from oomtui.policies.registry import get
from oomtui.synthetic import large_host

SEEDS = range(8)
KERNELS = (None, "4.14.0", "4.19.0", "5.0.0", "5.2.0", "5.8.0", "6.1.0", "6.12.0")
MiB = 1 << 20


@cache
def host(seed: int) -> Snapshot:
    """A generated host with its sizes, scores and marks shuffled about, as the what-if view a policy sees."""
    rng = random.Random(seed)
    base = large_host(processes=rng.choice((300, 450)), cgroups=rng.choice((40, 70)), seed=seed)
    processes = []
    for p in base.processes:
        roll, change = rng.random(), {}
        if roll < 0.1:
            change["oom_score_adj"] = rng.choice((-1000, -999, -500, 300, 999, 1000))
        elif roll < 0.2:
            change["oom_score"] = None  # not read: the daemons compute it
        elif roll < 0.25 and seed % 4:
            change["start_time"] = None  # a kernel log: scan order falls back to the listing
        elif roll < 0.3 and seed % 4:
            change["start_time"] = 5000.0  # started in one tick: pid order decides
        elif roll < 0.4:  # equal sizes and scores, so tie rules decide
            size = rng.choice((100, 101)) * MiB
            change.update(rss_anon=size, rss_file=0, rss_shmem=0, swap=0, pgtables=0, oom_score=rng.choice((500, 501)))
        elif roll < 0.45:
            change.update(rss_total=(p.rss_anon or 0) + (p.rss_file or 0), rss_anon=None)
        elif roll < 0.55:
            change["uid"] = 0
        elif roll < 0.6:  # a zombie: no memory, so never a candidate, nor counted in a group kill
            change.update(rss_anon=0, rss_file=0, rss_shmem=0, rss_total=None, swap=0, pgtables=0, oom_score=0)
        processes.append(dataclasses.replace(p, **change) if change else p)
    _contest(processes, rng)
    if seed % 4:  # a listing out of pid and fork order, as kernel logs and odd collectors give
        rng.shuffle(processes)
    elif seed:  # in start order, but two that started in one tick listed out of pid order
        j = rng.randrange(len(processes) - 1)
        start = processes[j].start_time
        processes[j : j + 2] = [dataclasses.replace(processes[j + 1], start_time=start),
                                dataclasses.replace(processes[j], start_time=start)]
    real = base.replace(
        host=dataclasses.replace(base.host, kernel=KERNELS[seed % len(KERNELS)]), processes=tuple(processes),
    )
    edits = real.whatif
    for path in rng.sample([c.path for c in real.cgroups], 4):
        edits = whatif.set_interdependent(edits, path, rng.choice((True, False)))
        edits = whatif.set_score(edits, path, rng.choice((-1000, 0, 400)))
    for p in rng.sample(real.processes, 12):
        edits = whatif.set_adj(edits, p.pid, rng.choice((-1000, -300, 0, 500, 1000)))
    return whatif.apply(real.replace(whatif=edits))


def _contest(processes: list[Process], rng: random.Random) -> None:
    """A parent on top (its children die instead up to 5.0) and rivals 0, 5, 6, 69 and 70 pages below it:
    exact ties and both sides of each era's near-tie margin."""
    parents = {p.ppid for p in processes}
    parent = rng.choice([i for i, p in enumerate(processes) if p.pid in parents and p.pid > 1 and not p.kernel_thread])
    rivals = rng.sample([i for i, p in enumerate(processes) if p.pid > 1 and not p.kernel_thread and i != parent], 5)
    for i, pages in zip([parent, *rivals], (0, 0, 5, 6, 69, 70), strict=True):
        processes[i] = dataclasses.replace(
            processes[i], rss_anon=(64 << 30) - pages * 4096, rss_file=0, rss_shmem=0, rss_total=None, swap=0,
            pgtables=0, oom_score_adj=1000, oom_score=2000, uid=rng.choice((0, 1000)),
        )


def domains(s: Snapshot) -> list[str]:
    return [ROOT, *sorted(s.limited_cgroups(), key=lambda c: -len(s.processes_under(c)))[:2]]


def ranked(d: Decision) -> list[tuple[int | None, float]]:
    return [(c.pid, c.score) for c in d.ranking]


# -- kernel ------------------------------------------------------------------------


def fork_order(processes: tuple[Process, ...]) -> list[Process]:
    known = sorted((p for p in processes if p.start_time is not None), key=lambda p: (p.start_time, p.pid))
    return known + [p for p in processes if p.start_time is None]


def scan_order(s: Snapshot, domain: str) -> list[Process]:
    if domain == ROOT:
        return fork_order(s.processes)
    return [p for path in s.walk(domain) for p in fork_order(s.processes_in(path))]


def oom_group(s: Snapshot, victim: Process, domain: str) -> str | None:
    highest, path = None, victim.cgroup
    while path is not None and victim.cgroup != ROOT:
        if whatif.is_interdependent(s, path):
            highest = path
        if path == domain:
            break
        path = parent_of(path)
    return highest


@cache
def forked(seed: int) -> Snapshot:
    """The host listed in fork order, every start known: the order the kernel's columnar group kill needs."""
    s = host(seed)
    known = [p if p.start_time is not None else dataclasses.replace(p, start_time=1.0) for p in s.processes]
    return whatif.apply(s.replace(processes=tuple(sorted(known, key=lambda p: (p.start_time, p.pid)))))


@pytest.mark.parametrize("seed", SEEDS)
def test_kernel_matches_a_full_sort_of_every_candidate(seed):
    check_kernel(host(seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_kernel_matches_a_full_sort_on_a_listing_in_fork_order(seed):
    check_kernel(forked(seed))


def check_kernel(s: Snapshot) -> None:
    version = kernel_version(s.host.kernel)
    era = Era(version)
    for domain in domains(s):
        total = total_pages(s, domain).pages
        order = scan_order(s, domain)
        scored = [(points, pos, p) for pos, p in enumerate(order)
                  if (points := badness(p, total, s.host.page_size, version)) is not None]
        full = sorted(scored, key=lambda c: (-c[0], c[1] if era.first_wins else -c[1]))
        d = get("kernel").run(s, domain)
        if not full:
            assert d.kills_nothing
            continue
        assert ranked(d) == [(p.pid, points) for points, _, p in full[:RANKING_MIN]]
        top_points, _, top = full[0]
        victim = top
        if era.sacrifice_child:
            children = [c for c in scored if c[2].ppid == top.pid]
            victim = max(children, key=lambda c: c[0])[2] if children else top
        group = oom_group(s, victim, domain) if s.host.cgroup_mode == "v2" and era.has_oom_group else None
        others = [p for p in scan_order(s, group) if eligible(p) and p.pid != victim.pid] if group else []
        assert (d.victim_pid, d.victim_cgroup) == (victim.pid, group)
        assert d.killed_pids == (victim.pid, *(p.pid for p in others))
        assert d.freed_bytes == sum(p.footprint for p in [victim, *others])
        margin = ROUNDING_PAGES + (PERCPU_ERROR_PAGES if era.approximate_rss else 0)
        near = [c for c in full[1:] if top_points - c[0] <= margin]
        named = ", ".join(f"{p.pid} ({p.comm}) at {points}" for points, _, p in near[:5])
        more = f" and {len(near) - 5} more" if len(near) > 5 else ""
        said = f"within {margin} pages of {named}{more}:"
        assert (said in (d.uncertain or "")) == bool(near), (said, d.uncertain)


@pytest.mark.parametrize("seed", SEEDS)
def test_scan_order_and_the_flat_scorer_match_the_rules_process_by_process(seed):
    s = host(seed)
    paths = [*domains(s), *(c.path for c in s.cgroups if c.oom_group)]
    for path in paths:
        assert list(kernel_rules.scan_order(s, path)) == scan_order(s, path)
    order = scan_order(s, ROOT)
    for kernel in KERNELS:
        version = kernel_version(kernel)
        scorer = Scorer(1 << 22, s.host.page_size, Era(version))
        sign = -1 if Era(version).first_wins else 1
        expected = [(points, sign * pos) for pos, p in enumerate(order) if (points := scorer.points(p)) is not None]
        assert scorer.scan(order) == expected
        # Asked for the best ten and those within 5 points of the top, it keeps those (and few besides), in order.
        pruned = scorer.scan(order, RANKING_MIN, 5)
        near = [pair for pair in expected if pair[0] >= max(expected)[0] - 5]
        assert heapq.nlargest(RANKING_MIN, pruned) == heapq.nlargest(RANKING_MIN, expected)
        assert [pair for pair in pruned if pair in near] == near
        assert set(pruned) <= set(expected) and len(pruned) < len(expected) / 2


def test_the_kernel_hosts_have_ties_and_group_kills():
    """The generated hosts reach the paths worth checking: near ties, group kills and sacrificed children."""
    decisions = [get("kernel").run(host(seed), domain) for seed in SEEDS for domain in domains(host(seed))]
    assert any("within" in (d.uncertain or "") for d in decisions)
    assert any(d.victim_cgroup for d in decisions)
    assert any("sacrifice its child" in d.reason for d in decisions)
    in_order = [get("kernel").run(forked(seed), domain) for seed in SEEDS for domain in domains(forked(seed))]
    assert kernel_rules.in_fork_order(forked(0).processes)
    assert any(d.victim_cgroup and len(d.killed_pids) > 2 for d in in_order)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_shared_subtree_walk_kills_what_plain_walks_kill(seed):
    """Group kills of the 2017 proposals and oomd's cgroup kills, from the shared walk, against plain ones."""
    for s in (host(seed), forked(seed)):
        tree = proposals.tree_for(s, ROOT)
        for c in s.cgroups:
            under = s.processes_under(c.path)
            dying = [p for p in under if not p.kernel_thread and p.pid != 1 and p.oom_score_adj != -1000
                     and p.footprint > 0]  # a zombie is skipped as already exiting
            assert tree.group_kill(c.path) == (tuple(p.pid for p in dying), sum(p.footprint for p in dying))
            live = [p for p in under if not p.kernel_thread]
            freed = (c.memory_current + (c.swap_current or 0) if c.memory_current is not None
                     else sum(p.footprint for p in live))
            assert cgroup_kill(s, c.path) == CgroupKill(tuple(p.pid for p in live), freed)


# -- earlyoom and nohang --------------------------------------------------------------


def read_score(s: Snapshot, p: Process) -> int | None:
    """The oom_score a daemon reads: as read, unless unread or a what-if changed the adj."""
    edit = s.whatif.processes.get(p.pid)
    if p.oom_score is not None and (edit is None or edit.oom_score_adj is None):
        return p.oom_score
    return p.oom_score if s.host.mem_total is None else kernel_oom_score(s, p)


EARLYOOM_OPTIONS = (
    {}, {"version": "1.7"}, {"sort_by_rss": "true"}, {"prefer": "app-[0-9]+$", "avoid": "daemon"},
    {"sort_by_rss": "true", "avoid": "app-[1-5]"}, {"ignore": "bash", "ignore_root_user": "true"},
    {"version": "1.7", "avoid": "."},
)


def earlyoom_walk(s: Snapshot, opts: dict) -> list[Entry]:
    old = opts["version"] < (1, 8)
    entries = []
    for p in sorted(s.processes, key=lambda p: p.pid):
        if p.pid <= (1 if old else 2) or p.kernel_thread or p.oom_score_adj == -1000 or (old and not p.rss):
            continue
        if not old and opts["ignore_root_user"] and p.uid == 0:
            continue
        score = read_score(s, p)
        if score is None or p.rss is None or (not old and opts["ignore"] and opts["ignore"].search(p.comm)):
            continue
        prefer, avoid = (bool(opts[k] and opts[k].search(p.comm)) for k in ("prefer", "avoid"))
        by_rss = opts["sort_by_rss"] and not old
        value = score + (0 if by_rss else (prefer - avoid) * SCORE_PREFER)
        rss_kib = p.rss // 1024 + ((prefer - avoid) * RSS_PREFER_KIB if by_rss else 0)
        entries.append(Entry(p, value, rss_kib, Score(score, "read"), prefer, avoid))
    return entries


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("given", EARLYOOM_OPTIONS)
def test_earlyoom_matches_a_fold_over_whole_entries(seed, given):
    s, spec = host(seed), get("earlyoom")
    opts = spec.resolve_options(given)
    old = opts["version"] < (1, 8)
    by_rss = opts["sort_by_rss"] and not old
    entries = earlyoom_walk(s, opts)
    start = 0 if old else FIELD_NOT_SET
    victim = Entry(Process(pid=0, comm="", cgroup=ROOT), start, start, Score(None, "unknown"), False, False)
    larger, trail = larger_17 if old else larger_current(by_rss), []
    for e in entries:
        if larger(victim, e):
            victim = e
            trail.append(e)
    if by_rss:  # each side in its own total order (stable: pid order breaks ties), merged pairwise
        positive = sorted((e for e in entries if e.rss_kib > 0), key=lambda e: (e.rss_kib, e.score), reverse=True)
        other = sorted((e for e in entries if e.rss_kib <= 0), key=lambda e: (e.score, e.rss_kib), reverse=True)
        full = []
        while positive and other:
            a, b = positive[0], other[0]
            earlier, later = sorted((a, b), key=lambda e: e.process.pid)
            full.append((positive if larger(earlier, later) == (later is a) else other).pop(0))
        full += positive + other
    else:
        full = sorted(entries, key=lambda e: (e.score, e.rss_kib), reverse=True)
    ranked_first = full[0] if full else None
    if trail:
        full.remove(trail[-1])
        full.insert(0, trail[-1])
    d = spec.run(s, ROOT, given)
    assert ranked(d) == [(e.process.pid, e.rss_kib if by_rss else e.score) for e in full[: 2 * RANKING_MIN]]
    assert d.victim_pid == (trail[-1].process.pid if trail else None)
    steps = {e.process.pid: i + 1 for i, e in enumerate(trail[:-1])}
    for c in d.ranking[1:]:
        assert c.why.startswith("held the place") == (c.pid in steps)
        assert c.pid not in steps or f"(step {steps[c.pid]} of the fold)" in c.why
    if trail:
        assert (f"ranking puts pid {ranked_first.process.pid} first," in d.reason) == (ranked_first is not trail[-1])
    available = s.host.mem_available or 0
    whole = s.host.mem_total if old else available + sum(p.rss_anon or 0 for p in s.processes)
    assert f"mem avail {available * 100 / whole:.2f}% " in d.reason


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("given", EARLYOOM_OPTIONS)
def test_earlyoom_passing_over_what_the_cut_rules_out_changes_nothing(seed, given, monkeypatch):
    """The walk skips, a block at a time, the places the cut rules out: the same decision, word for
    word, as walking every place, and with no options the hosts make it skip some."""
    s, spec = host(seed), get("earlyoom")
    monkeypatch.setattr(earlyoom, "BLOCK", len(s.processes) + 1)  # one block: no cut yet, every place
    whole = spec.run(s, ROOT, given)
    monkeypatch.setattr(earlyoom, "BLOCK", 8)
    visited = []

    def spied(*args):
        for place in earlyoom_visited(*args):
            visited.append(place)
            yield place

    monkeypatch.setattr(earlyoom, "_visited", spied)
    assert spec.run(s, ROOT, given) == whole
    if not given:  # by score, with every process a candidate
        assert len(visited) < len(s.processes)


@pytest.mark.parametrize("seed", SEEDS)
def test_earlyoom_sifting_sees_unreadable_sizes_and_huge_ones_past_the_cut(seed, monkeypatch):
    """Late in the walk, past the cut: processes of many GiB filling the kept keys at the top score,
    then ones whose RSS was not read (counted out, never skipped unseen) and small ones a point above
    (ranked by score before RSS, however large the kept ones' RSS)."""
    rng = random.Random(seed)
    s, spec = host(seed), get("earlyoom")
    top = max((p.oom_score or 0) for p in s.processes)
    processes = list(s.processes)
    late = sorted(rng.sample(sorted(range(len(processes)), key=lambda i: processes[i].pid)[len(processes) // 3:],
                             70), key=lambda i: processes[i].pid)
    plain = {"oom_score_adj": 0, "kernel_thread": False, "uid": 1000, "rss_file": 0, "rss_shmem": 0}
    for n, i in enumerate(late):
        p = processes[i]
        if n < 50:
            processes[i] = dataclasses.replace(p, **plain, oom_score=top, rss_anon=rng.randrange(2, 64) << 30)
        elif n % 2:
            processes[i] = dataclasses.replace(p, rss_anon=None, rss_file=None, rss_shmem=None, rss_total=None,
                                               oom_score=rng.randrange(0, 50))
        else:
            processes[i] = dataclasses.replace(p, **plain, oom_score=top + 1, rss_anon=1 << 20)
    s = s.replace(processes=tuple(processes))
    monkeypatch.setattr(earlyoom, "BLOCK", len(s.processes) + 1)
    whole = spec.run(s, ROOT, {})
    assert "without oom_score or RSS left out" in str(whole)
    monkeypatch.setattr(earlyoom, "BLOCK", 8)
    assert spec.run(s, ROOT, {}) == whole


NOHANG_OPTIONS = (
    {}, {"ignore_positive_oom_score_adj": "true"}, {"badness_adj": "NAME 200 /// ^app;; UID -50 /// ^0$"},
    {"min_badness": "1500"},
)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("given", NOHANG_OPTIONS)
def test_nohang_sifting_blocks_by_the_floor_changes_nothing(seed, given, monkeypatch):
    s, spec = host(seed), get("nohang")
    monkeypatch.setattr(nohang, "BLOCK", len(s.processes) + 1)  # one block: the floor is 0, every place
    whole = spec.run(s, ROOT, given)
    monkeypatch.setattr(nohang, "BLOCK", 8)
    assert spec.run(s, ROOT, given) == whole


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("given", NOHANG_OPTIONS)
def test_nohang_matches_a_stable_sort_of_every_process(seed, given):
    s, spec = host(seed), get("nohang")
    opts = spec.resolve_options(given)
    rated = []
    for p in sorted(s.processes, key=lambda p: p.pid):
        score = None if p.pid == 1 or p.kernel_thread else read_score(s, p)
        if score is not None and score >= 1:
            rated.append((p.pid, rate(p, score, opts["badness_adj"], opts["ignore_positive_oom_score_adj"])[0]))
    full = sorted(rated, key=lambda r: r[1], reverse=True)
    d = spec.run(s, ROOT, given)
    assert ranked(d) == full[: 2 * RANKING_MIN]
    acts = bool(full) and full[0][1] >= opts["min_badness"]
    assert d.victim_pid == (full[0][0] if acts else None)
    ties = [pid for pid, badness in full[1:4] if badness == full[0][1]]
    said = f"badness tie with {', '.join(f'pid {pid}' for pid in ties)}:"
    assert (said in (d.uncertain or "")) == (acts and bool(ties))
