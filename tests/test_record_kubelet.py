"""`oomtui record` with the kubelet's evictions in the journal: each memory eviction one event, within
2 s, judged against the kubelet-eviction policy's pick on the sample before; a disk eviction none.

The pods are real memory cgroups in the kubelet's layout with real processes, a process the
collector takes for the kubelet is in force, and the kubelet's lines (its formats, at -v=3 so
that they carry the pod's UID: the recorder reads this host's /var/log/pods, which names none of
these pods) go into a real journal file followed through `record --journal DIR`.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from oomtui.record import Recording
from oomtui.tui.feeds import RecordingFeed
from tests.support.journal import MARKER_PID, JournalWriter, entry, marker_kill, why_no_journal
from tests.support.kubelet import KUBELET_PID, kubelet_process, pod_hog, round_lines
from tests.support.latency import SHOWN_WITHIN
from tests.test_record_journal import record
from tests.test_record_real import wait_for

pytestmark = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")


def evictions(directory: Path) -> list:
    return [e for e in Recording(directory).events if e.killer == "kubelet"]


@pytest.mark.kernel
def test_kubelet_evictions_are_recorded_with_their_verdicts(tmp_path: Path, memcg, hogs) -> None:
    big_uid, big = pod_hog(memcg, "kr-big", 48)
    small_uid, small = pod_hog(memcg, "kr-small", 4)
    hogs += [big, small]
    directory, journal_dir = tmp_path / "rec", tmp_path / "journal"
    journal_dir.mkdir()
    journal = JournalWriter(journal_dir)

    def write_round(*args, **kw) -> float:
        return journal.write(*(entry(m, "kubelet", KUBELET_PID) for m in round_lines(*args, **kw)))

    with kubelet_process(tmp_path):
        recorder = record(directory, "--journal", str(journal_dir))
        try:
            wait_for(lambda: (directory / "samples").is_dir() and len(Recording(directory).samples) >= 2, 30,
                     "two samples")
            n = 0

            def marked() -> bool:  # until journalctl follows (it starts at the journal's end)
                nonlocal n
                n += 1
                if n % 10 == 1:
                    journal.write(marker_kill(n))
                return any(e.victim_pid and e.victim_pid > MARKER_PID for e in Recording(directory).events)

            wait_for(marked, 30, "journalctl following")
            write_round("default/small", "ephemeral-storage", uid=small_uid, verbose=True)
            written = write_round("default/big", uid=big_uid, verbose=True)
            wait_for(lambda: evictions(directory), 10, "the eviction in the index")
            stored = (directory / "events" / "index.jsonl").stat().st_mtime
            assert stored - written < SHOWN_WITHIN, f"recorded {stored - written:.2f} s after the entry was written"
            write_round("default/small", uid=small_uid, verbose=True)
            wait_for(lambda: len(evictions(directory)) == 2, 10, "the second eviction in the index")
            time.sleep(1.0)
        finally:
            recorder.send_signal(signal.SIGTERM)
            _, err = recorder.communicate(timeout=60)
            journal.close()
    assert recorder.returncode == 0, err
    first, second = evictions(directory)
    index = [json.loads(line) for line in (directory / "events" / "index.jsonl").read_text().splitlines()]
    entry_of = {e["victim_pod"]: e for e in index if e["killer"] == "kubelet"}
    assert sorted(entry_of) == ["default/big", "default/small"], "the disk-pressure eviction is not recorded"
    pods = f"{memcg.path}/kubepods/besteffort"
    assert entry_of["default/big"]["victim_cgroup"] == f"{pods}/pod{big_uid}", "found by its UID"
    assert first.verdict["matched"] is True and first.verdict["judged_by"] == ["kubelet-eviction"]
    assert first.verdict["event"]["reason"] == "memory: memory.available below 500Mi, 312Mi available"
    assert second.verdict["matched"] is False
    assert second.verdict["predicted"] == f"kubelet-eviction: cgroup {pods}/pod{big_uid}"
    assert first.sample is not None and (first.victim_pod, second.victim_pod) == ("default/big", "default/small")
    feed = RecordingFeed(Recording(directory), "rec")
    feed.at = ("event", Recording(directory).events.index(first))  # where `]` steps to it
    assert feed.describe().endswith(", kubelet evicted pod default/big"), feed.describe()
    assert first.report.read_text().startswith(f"kubelet[{KUBELET_PID}]: I")
    assert "kubelet evicted pod default/big (memory: memory.available below 500Mi, 312Mi available): " \
           "as predicted" in err, err
