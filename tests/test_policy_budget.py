"""The kernel's total pages for a domain (constrained_alloc, mem_cgroup_get_max) and when the figure is a guess.

Every policy that scales a score by the domain reads this budget, so a
wrong term moves every adj-weighted ranking; the notes are what the
decisions quote when a figure is missing.
"""

from __future__ import annotations

import dataclasses

import pytest

from oomtui.model import Cgroup, Host, OomEvent, Snapshot
from oomtui.policies.budget import CURRENT, Budget, kernel_version, total_pages

MiB = 1 << 20
GiB = 1 << 30
PAGE = 4096


def host(**kw: object) -> Host:
    base: dict = dict(hostname="h", kernel="6.6.0", page_size=PAGE, mem_total=8 * GiB, mem_available=4 * GiB,
                      swap_total=2 * GiB, swap_free=2 * GiB, cgroup_mode="v2")
    return Host(**{**base, **kw})


def snap(*cgroups: Cgroup, event: OomEvent | None = None, **host_kw: object) -> Snapshot:
    return Snapshot(host=host(**host_kw), cgroups=(Cgroup("/"), *cgroups), processes=(), oom_event=event)


def test_global_figures_that_are_missing_are_said():
    assert total_pages(snap(mem_total=None)) == Budget(1, "host memory total unknown")
    assert total_pages(snap(swap_total=None)) == Budget(8 * GiB // PAGE, "host swap total unknown; counted as none")
    assert total_pages(snap(swap_total=0)) == Budget(8 * GiB // PAGE)
    assert total_pages(snap(swap_total=2 * GiB + 4095)) == Budget((10 * GiB) // PAGE)  # whole pages of swap
    assert total_pages(snap(mem_total=8 * GiB + 100, swap_total=0)) == Budget(8 * GiB // PAGE)  # and of RAM


def test_the_page_size_is_the_hosts():
    assert total_pages(snap(page_size=16384)) == Budget(10 * GiB // 16384)
    limited = Cgroup("/a", memory_max=GiB, swap_max=64 * MiB)
    assert total_pages(snap(limited, page_size=65536), "/a") == Budget((GiB + 64 * MiB) // 65536)


def test_a_memcg_budget_is_its_limit_plus_the_swap_it_may_use():
    s = snap(Cgroup("/a", memory_max=GiB, swap_max=64 * MiB), Cgroup("/b", memory_max=GiB, swap_max=8 * GiB),
             Cgroup("/c", memory_max=GiB, swappiness=0, swap_max=64 * MiB), Cgroup("/d", memory_max=GiB, swappiness=1))
    assert total_pages(s, "/a") == Budget((GiB + 64 * MiB) // PAGE)  # swap.max below SwapTotal
    odd = snap(Cgroup("/a", memory_max=GiB, swap_max=64 * MiB + 100))
    assert total_pages(odd, "/a") == Budget((GiB + 64 * MiB) // PAGE)  # whole pages of swap.max
    assert total_pages(s, "/b") == Budget((GiB + 2 * GiB) // PAGE)  # SwapTotal below swap.max
    assert total_pages(s, "/c") == Budget(GiB // PAGE)  # swappiness 0: no swap term
    assert total_pages(s, "/d") == Budget(3 * GiB // PAGE)  # no swap.max: all of swap


def test_a_memcg_budget_without_the_figures_says_so():
    s = snap(Cgroup("/a"), Cgroup("/b", memory_max=GiB), Cgroup("/z", memory_max=0), swap_total=None)
    assert total_pages(s, "/a") == Budget(1, "/a has no memory limit")
    assert total_pages(s, "/gone") == Budget(1, "/gone has no memory limit")
    assert total_pages(s, "/b") == Budget(GiB // PAGE, "host swap total unknown; counted as none")
    assert total_pages(s, "/z") == Budget(1, "host swap total unknown; counted as none")
    known = snap(Cgroup("/b", memory_max=GiB), swap_total=0)
    assert total_pages(known, "/b") == Budget(GiB // PAGE)


def test_a_global_reports_own_total_is_used_only_for_the_global_domain():
    event = OomEvent(kind="global", domain="/", total_pages=12345)
    s = snap(Cgroup("/a", memory_max=GiB), event=event, swap_total=0)
    assert total_pages(s) == Budget(12345)
    assert total_pages(s, "/a") == Budget(GiB // PAGE)
    memcg = snap(Cgroup("/a", memory_max=GiB), event=OomEvent(kind="memcg", domain="/a", total_pages=777))
    assert total_pages(memcg) == Budget(10 * GiB // PAGE)
    unknown = snap(event=dataclasses.replace(event, total_pages=None))
    assert total_pages(unknown) == Budget(10 * GiB // PAGE)


@pytest.mark.parametrize(("release", "version"), [
    ("6.18", (6, 18)), ("10.2.1-rc3", (10, 2)), ("4.9.337", (4, 9)), ("", CURRENT), ("v6.1", CURRENT), ("6", CURRENT),
])
def test_kernel_release_to_version(release, version):
    assert kernel_version(release) == version
