"""Our earlyoom policy against the real earlyoom, on this machine's live processes.

Hogs of known size and oom_score_adj make the top of the ranking ours
(adj 900..1000 puts them far above every ordinary process), then the real
earlyoom names its victim in dry-run mode and our policy must name the same
pid on a live snapshot taken around it. The machine is shared, so a
prediction that changes between the snapshot before and after the query is
retried rather than trusted.
"""

from __future__ import annotations

import uuid

import pytest

from oomtui.collect import collect_snapshot
from oomtui.policies.daemon_common import kernel_oom_score
from oomtui.policies.earlyoom import POLICIES
from tests.support.earlyoom import dryrun_victim, find_earlyoom, fold_trace, version, why_no_earlyoom
from tests.support.hog import spawn_hog

EARLYOOM = POLICIES[0]
TAG = "e" + uuid.uuid4().hex[:3]  # comm is at most 15 bytes: keep names short and unique
HOGS = {  # role: (MiB, oom_score_adj)
    "small": (64, 900),
    "big": (192, 900),
    "top": (96, 1000),
    "twinA": (48, 950),
    "twinB": (56, 950),
}


@pytest.fixture(scope="module")
def earlyoom_bin():
    reason = why_no_earlyoom()
    if reason:
        pytest.skip(reason)
    binary = find_earlyoom()
    assert binary is not None
    return binary


@pytest.fixture(scope="module")
def hogs():
    started = {}
    try:
        for role, (mib, adj) in HOGS.items():
            started[role] = spawn_hog(f"{TAG}{role}", mib, adj=adj)
        yield {role: h.pid for role, h in started.items()}
    finally:
        for h in started.values():
            h.kill()


def predicted(options: dict[str, str]) -> int | None:
    return EARLYOOM.run(collect_snapshot(), "/", options).victim_pid


def compare(binary, cli: list[str], options: dict[str, str]) -> int | None:
    """The real victim, asserted equal to ours; retried while the host moves under the comparison."""
    options = {"version": "1.7" if version(binary).startswith("1.7") else "current", **options}
    for _ in range(3):
        before = predicted(options)
        real = dryrun_victim(binary, cli)
        after = predicted(options)
        if before == after:
            break
    if real.pid not in (before, after):
        trace = "\n".join(fold_trace(binary, cli))
        pytest.fail(f"earlyoom said {real.line!r}; we predicted pid {before} (then {after}); its fold:\n{trace}")
    return real.pid


def test_default_picks_the_highest_oom_score(earlyoom_bin, hogs):
    """Our top hog (adj 1000) has the highest oom_score on the host, unless another's test hog ties with it."""
    victim = compare(earlyoom_bin, [], {})
    scores = {p.pid: p.oom_score for p in collect_snapshot().processes if p.oom_score is not None}
    assert scores[victim] >= max(scores.values()) - 1, "the victim has the highest oom_score (within rounding)"
    ours = {pid: scores[pid] for pid in hogs.values()}
    assert max(ours, key=ours.__getitem__) == hogs["top"]
    if not [pid for pid, score in scores.items() if score >= ours[hogs["top"]] and pid != hogs["top"]]:
        assert victim == hogs["top"]


def test_avoid_lowers_the_top_hog_below_the_others(earlyoom_bin, hogs):
    victim = compare(earlyoom_bin, ["--avoid", f"^{TAG}top$"], {"avoid": f"^{TAG}top$"})
    assert victim != hogs["top"]


def test_prefer_lifts_a_small_hog_over_everything(earlyoom_bin, hogs):
    cli = ["--avoid", f"^{TAG}top$", "--prefer", f"^{TAG}small$"]
    victim = compare(earlyoom_bin, cli, {"avoid": f"^{TAG}top$", "prefer": f"^{TAG}small$"})
    assert victim == hogs["small"]


def test_equal_adj_is_decided_by_score_then_rss(earlyoom_bin, hogs):
    victim = compare(earlyoom_bin, ["--prefer", f"^{TAG}twin"], {"prefer": f"^{TAG}twin"})
    assert victim in (hogs["twinA"], hogs["twinB"])


def test_our_oom_score_formula_matches_the_kernel(hogs):
    """What-if edits recompute oom_score with this formula; the kernel's own numbers are the referee."""
    snap = collect_snapshot()
    for role, pid in hogs.items():
        p = snap.process(pid)
        assert p is not None and p.oom_score is not None, role
        assert abs(kernel_oom_score(snap, p) - p.oom_score) <= 1, role
