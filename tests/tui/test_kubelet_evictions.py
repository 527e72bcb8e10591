"""The kubelet's evictions while the TUI runs on the real host: shown at once, judged against the
kubelet-eviction policy's pick on the sample before.

The node is real where it can be: pods are real memory cgroups in the kubelet's cgroupfs layout
(under this test's own cgroup) with real processes, named as the kubelet's /var/log/pods
directories name them, and a process the collector takes for the kubelet in force. The kubelet's
lines (its formats, tests/support/kubelet.py) go into a real journal file (systemd-journal-remote)
followed with `--journal DIR` semantics.
"""

from __future__ import annotations

import re
import time

import pytest

from oomtui.collect import Collector
from oomtui.oomlog.journal import JournalSource
from oomtui.tui.feeds import LiveFeed
from oomtui.tui.screens.kills import KillsScreen
from tests.support.journal import MARKER_PID, JournalWriter, entry, marker, why_no_journal
from tests.support.kubelet import KUBELET_PID, kubelet_process, name_pods, pod_hog, round_lines
from tests.support.latency import SHOWN_WITHIN
from tests.tui.helpers import ObservedApp, main, notifications, press, run, select_process
from tests.tui.screen_text import screen_lines

pytestmark = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")
HOSTILE = 'ns/[/bold]\\x1b[31m'  # as klog quotes it: the name holds markup and an escape


@pytest.mark.kernel
def test_kubelet_evictions_show_at_once_with_their_verdicts(tmp_path, memcg, hogs) -> None:
    big_uid, big = pod_hog(memcg, "kb-big", 48)
    small_uid, small = pod_hog(memcg, "kb-small", 4)
    hogs += [big, small]
    root = tmp_path / "root"
    name_pods(root, {big_uid: "default/big", small_uid: "default/small"})
    (tmp_path / "journal").mkdir()
    journal = JournalWriter(tmp_path / "journal")

    def write_round(*args, **kw) -> float:
        return journal.write(*(entry(m, "kubelet", KUBELET_PID) for m in round_lines(*args, **kw)))

    def evictions(pilot) -> list:
        return [v for v in main(pilot).kills.verdicts if v.event.killer == "kubelet"]

    async def wait_for(pilot, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(evictions(pilot)) < n and time.monotonic() < deadline:
            await pilot.pause(0.05)

    async def scenario(pilot):
        screen = main(pilot)
        ev = screen.evaluation
        kubelet = next(d for d in ev.decisions if d.policy == "kubelet-eviction")
        assert ev.standing("kubelet-eviction").in_force, "the kubelet is in force"
        assert kubelet.victim_cgroup.endswith(f"/pod{big_uid}"), kubelet.reason
        await select_process(pilot, big.pid)  # its row on screen
        deadline = time.monotonic() + 30  # until journalctl follows (it starts at the end): the marker seen
        while (screen.kills.journal.parser.earlyoom or (0,))[0] != MARKER_PID and time.monotonic() < deadline:
            journal.write(marker())
            await pilot.pause(0.2)

        written = write_round("default/big", others=("default/small",))
        await wait_for(pilot, 1, 10)
        assert evictions(pilot), "no eviction shown within 10 s"
        assert time.time() - written < SHOWN_WITHIN, f"shown {time.time() - written:.2f} s after the journal entry"
        v = evictions(pilot)[0]
        assert (v.event.pod, v.matched, v.judged_by) == ("default/big", True, ("kubelet-eviction",))
        assert v.event.cgroup == f"{memcg.path}/kubepods/besteffort/pod{big_uid}", "found by its name"
        said = "OOM kill kubelet evicted pod default/big (memory): as predicted"
        assert said in notifications(pilot), notifications(pilot)
        assert re.match(r"kills: 1, 1 as predicted", screen.kills.status()), screen.kills.status()
        await pilot.pause()
        row = next(line for line in screen_lines(pilot.app) if f"─ {big.pid} " in line)
        assert re.search(r"\bK\b", row.split(str(big.pid))[0]), row

        write_round("default/small", "ephemeral-storage", uid=small_uid, verbose=True)
        await wait_for(pilot, 2, 1.5)
        assert len(evictions(pilot)) == 1, "a disk-pressure eviction is not a memory kill"

        write_round("default/small", uid=small_uid, verbose=True)  # -v=3: the threshold, the pod's UID
        await wait_for(pilot, 2, 10)
        v = evictions(pilot)[1]
        assert (v.event.pod, v.matched) == ("default/small", False)
        assert v.predicted == f"kubelet-eviction: cgroup {memcg.path}/kubepods/besteffort/pod{big_uid}"
        assert any(n.startswith("OOM kill kubelet evicted pod default/small (memory: memory.available below 500Mi, "
                                "312Mi available): NOT as predicted") for n in notifications(pilot))

        write_round(HOSTILE)
        await wait_for(pilot, 3, 10)
        v = evictions(pilot)[2]
        assert (v.event.pod, v.matched) == ("ns/[/bold]\x1b[31m", None)
        shown = "kubelet evicted pod ns/[/bold]\\x1b[31m (memory): prediction unknown"
        assert any(n.startswith("OOM kill " + shown) for n in notifications(pilot)), notifications(pilot)
        await press(pilot, "l")
        assert isinstance(pilot.app.screen, KillsScreen)
        listed = str(pilot.app.screen.text)
        assert f"Following the journal in {tmp_path / 'journal'}: 3 kills: 1 as predicted, 1 not, 1 unknown" in listed
        assert shown in listed and "\x1b" not in listed
        await press(pilot, "escape")

    with kubelet_process(tmp_path):
        collector = Collector(root=root)
        app = ObservedApp(LiveFeed(collector, collector.collect()), None, interval=3600, read_only=True,
                          journal=JournalSource(str(tmp_path / "journal")), grace=0.0)
        try:
            run(app, scenario)
        finally:
            journal.close()
