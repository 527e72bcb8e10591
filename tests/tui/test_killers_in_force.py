"""The verdicts on a host with killers in force: who acts first at the top with "acts at",
the hypothetical policies marked, oomd on cgroup v1 saying why, the settings' source in Why.

The hand-made host (tests/test_inforce.py's) has 1000 MiB of RAM, 500 MiB available and no
swap: earlyoom 1.7 -m 10 acts 400 MiB from here, the kernel's exhaustion is 500 MiB away.
"""

from __future__ import annotations

from tests.test_inforce import earlyoom, host_with
from tests.tui.helpers import main, run, snapshot_app


def rows(screen) -> list[tuple[str, str]]:
    table = screen.verdicts
    return [(k, table.get_cell(k, "force").plain) for k in table.order]


def test_earlyoom_nearer_than_the_kernels_exhaustion_comes_first_with_its_distance():
    async def scenario(pilot):
        screen = main(pilot)
        shown = rows(screen)
        assert shown[:2] == [("earlyoom", "1st · 400M"), ("kernel", "2nd · 500M")]
        assert dict(shown)["hierarchical"] == "hypothetical", "never merged: a hypothesis"
        assert dict(shown)["nohang"] == "hypothetical", "no nohang found on this host"
        assert screen.policy == "earlyoom", "the first to act is chosen first"
        why = screen.query_one("#ranking").text.plain
        assert "in force: it runs here" in why and "command line of pid 812" in why
        assert "acts at: MemAvailable ≤ 10% (100.0 MiB)" in why and "400.0 MiB still to be used" in why

    run(snapshot_app(host_with(earlyoom(mem_min_percent="10", version="1.7"))), scenario)


def test_the_kernels_exhaustion_nearer_than_earlyoom_puts_the_kernel_first():
    # In /a (256 MiB limit, 200 MiB used) the kernel's OOM killer is 56 MiB away: it leads earlyoom's 400 MiB.
    s = host_with(earlyoom(mem_min_percent="10", version="1.7"))

    async def scenario(pilot):
        screen = main(pilot)
        screen.domain = "/a"
        screen.reevaluate()
        await pilot.pause()
        for _ in range(20):
            if screen.evaluation is not None and screen.evaluation.domain == "/a":
                break
            await pilot.pause(0.05)
        shown = rows(screen)
        assert shown[:2] == [("kernel", "1st · 56M"), ("earlyoom", "2nd · 400M")]

    run(snapshot_app(s), scenario)


def test_oomd_on_cgroup_v1_names_no_victim_and_says_why():
    async def scenario(pilot):
        screen = main(pilot)
        shown = rows(screen)
        names = [name for name, _ in shown]
        oomd = [n for n in names if n.startswith(("oomd-", "systemd-oomd-"))]
        assert oomd and names[-len(oomd):] == oomd, "those that cannot run here come last"
        for name in oomd:
            d = screen.evaluation.decision(name)
            assert d.victim_pid is None and d.victim_cgroup is None
            assert dict(shown)[name] == "cannot run"
            assert "needs cgroup v2" in screen.verdicts.get_cell(name, "reason").plain

    run(snapshot_app(host_with(earlyoom(), mode="v1")), scenario)
