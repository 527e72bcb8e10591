"""The model's tree queries and the shared kernel budget."""

import dataclasses

import pytest

from oomtui.model import Cgroup, Host, OomEvent, Process, Snapshot, is_within, parent_of
from oomtui.policies.budget import kernel_version, total_pages

MiB = 1 << 20
GiB = 1 << 30


def host(**kw) -> Host:
    base = dict(hostname="h", kernel="6.6.0", page_size=4096, mem_total=8 * GiB, mem_available=4 * GiB,
                swap_total=2 * GiB, swap_free=2 * GiB, cgroup_mode="v2")
    base.update(kw)
    return Host(**base)


def snap(**kw) -> Snapshot:
    cgroups = (
        Cgroup("/"),
        Cgroup("/a", memory_max=1 * GiB),
        Cgroup("/a/x"),
        Cgroup("/a/y", memory_max=256 * MiB, swap_max=64 * MiB),
        Cgroup("/b"),
    )
    procs = (
        Process(1, "init", "/"),
        Process(10, "ax", "/a/x", rss_anon=10 * MiB, rss_file=0, rss_shmem=0, swap=MiB, pgtables=4096),
        Process(11, "ay", "/a/y", rss_anon=20 * MiB, rss_file=MiB, rss_shmem=0),
        Process(12, "a", "/a", rss_anon=MiB),
        Process(13, "ghost", "/b/gone/deeper", rss_anon=MiB),
    )
    return Snapshot(host=kw.pop("host", host()), cgroups=cgroups, processes=procs, **kw)


def test_paths():
    assert parent_of("/") is None
    assert parent_of("/a") == "/"
    assert parent_of("/a/b") == "/a"
    assert is_within("/a/b", "/a") and is_within("/a", "/a") and is_within("/x", "/")
    assert not is_within("/ab", "/a")


def test_tree_queries():
    s = snap()
    assert s.children("/") == ("/a", "/b")
    assert s.children("/a") == ("/a/x", "/a/y")
    assert s.ancestors("/a/y") == ["/a", "/"]
    assert list(s.walk("/a")) == ["/a", "/a/x", "/a/y"]
    assert [p.pid for p in s.processes_under("/a")] == [12, 10, 11]
    assert [p.pid for p in s.processes_in("/a/x")] == [10]
    assert s.subtree_footprint("/a/x") == 10 * MiB + MiB + 4096


def test_a_view_with_a_process_resized_sums_its_new_size_though_the_sample_summed_first():
    s = snap()
    before = s.subtree_footprint("/a")
    grown = dataclasses.replace(s.process(11), rss_anon=30 * MiB)
    view = s.with_replaced({}, {11: grown}, s.whatif)
    assert view.subtree_footprint("/a") == before + 10 * MiB
    assert s.subtree_footprint("/a") == before
    assert s.with_replaced({}, {}, s.whatif).subtree_footprint("/a") == before


def test_process_in_unlisted_cgroup_counts_under_nearest_ancestor():
    s = snap()
    assert [p.pid for p in s.processes_under("/b")] == [13]
    assert {p.pid for p in s.processes_under("/")} == {1, 10, 11, 12, 13}


def test_domains_are_root_and_limited_cgroups():
    s = snap()
    assert s.domains() == ["/", "/a", "/a/y"]
    assert s.domain_of("/a/x") == "/a"
    assert s.domain_of("/a/y") == "/a/y"
    assert s.domain_of("/b") == "/"


def test_snapshot_is_immutable_and_replace_makes_a_new_one():
    s = snap()
    with pytest.raises(AttributeError):
        s.source = "synthetic"
    t = s.replace(source="synthetic")
    assert t.source == "synthetic" and s.source == "live"
    assert t.children("/a") == s.children("/a")


def test_missing_root_cgroup_is_added():
    s = Snapshot(host=host(), cgroups=(Cgroup("/a"),), processes=())
    assert s.cgroup("/") is not None
    assert s.children("/") == ("/a",)


def test_rss_and_footprint_with_unknown_parts():
    p = Process(5, "x", "/", rss_anon=MiB, rss_file=None, rss_shmem=0)
    assert p.rss is None
    assert p.footprint == MiB


@pytest.mark.parametrize(
    ("release", "expected"),
    [("6.18.44-fc-v657", (6, 18)), ("4.19.0-25-amd64", (4, 19)), ("5.4.0", (5, 4)), (None, (99, 0)), ("x", (99, 0))],
)
def test_kernel_version(release, expected):
    assert kernel_version(release) == expected


def test_total_pages_global_is_ram_plus_swap():
    assert total_pages(snap()).pages == (8 * GiB + 2 * GiB) // 4096


def test_total_pages_memcg_adds_swap_limited_by_swap_max_and_swap_total():
    s = snap()
    assert total_pages(s, "/a").pages == (1 * GiB + 2 * GiB) // 4096  # swap.max unlimited: all of swap
    assert total_pages(s, "/a/y").pages == (256 * MiB + 64 * MiB) // 4096
    no_swap = snap(host=host(swap_total=0, swap_free=0))
    assert total_pages(no_swap, "/a").pages == GiB // 4096


def test_total_pages_swappiness_zero_drops_swap_term():
    s = Snapshot(host=host(), cgroups=(Cgroup("/a", memory_max=GiB, swappiness=0),), processes=())
    assert total_pages(s, "/a").pages == GiB // 4096


def test_total_pages_zero_limit_is_one():
    s = Snapshot(host=host(swap_total=0), cgroups=(Cgroup("/a", memory_max=0),), processes=())
    assert total_pages(s, "/a").pages == 1


def test_total_pages_prefers_the_reports_own_figure_for_a_global_event():
    s = snap(oom_event=OomEvent(kind="global", domain="/", total_pages=12345))
    assert total_pages(s).pages == 12345
