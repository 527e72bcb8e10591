"""The kubelet's evictions for memory from its own log lines: every form it has logged them in,
what is not a memory kill, a hostile pod name, and a real journal followed as it grows.

The lines are the kubelet's formats (see tests/support/kubelet.py for the functions they come
from); the journal is a real journal file written by systemd-journal-remote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from oomtui.oomlog.follow import KillParser, Once
from oomtui.oomlog.journal import JournalKillFollower, JournalSource, entry_lines
from oomtui.oomlog.kubelet import FIELD_MAX, fields
from tests.support.journal import JournalWriter, entry, why_no_journal
from tests.support.kubelet import KUBELET_PID, klog, round_lines
from tests.support.latency import SHOWN_WITHIN
from tests.test_follow_journal import reach_the_end, wait_for_kills

UID = "5b4ee1d2-8d7a-4a5e-9d8e-0c6a8f2c1b7e"


def evictions(lines: list[str], tag: str = f"kubelet[{KUBELET_PID}]: ") -> list[tuple]:
    parser = KillParser()
    return [(e.killer, e.pod, e.pod_uid, e.reason, e.pid, e.cgroup)
            for line in lines for e in parser.feed(tag + line, 1.0)]


def test_a_memory_round_is_an_eviction_of_its_pod() -> None:
    assert evictions(round_lines("default/big", others=("default/small",))) == [
        ("kubelet", "default/big", None, "memory", None, None)]
    verbose = round_lines("default/big", uid=UID, verbose=True)  # -v=3: the threshold and the pod's UID
    assert evictions(verbose) == [("kubelet", "default/big", UID, "memory: memory.available below 500Mi, "
                                   "312Mi available", None, None)]
    assert evictions(round_lines("default/big"), tag="") == evictions(round_lines("default/big")), "bare lines"


def test_the_kubelet_before_structured_logging() -> None:
    """1.20 and older: klog.Infof/Warningf, the pod as format.Pod prints it (name_namespace(uid))."""
    lines = [klog("eviction manager: attempting to reclaim memory", "W", "eviction_manager.go:344"),
             klog("eviction manager: must evict pod(s) to reclaim memory", "I", "eviction_manager.go:350"),
             klog(f"eviction manager: pods ranked for eviction: big_default({UID}), small_default(x)", "I",
                  "eviction_manager.go:368"),
             klog(f"eviction manager: pod big_default({UID}) is evicted successfully", "I",
                  "eviction_manager.go:574")]
    assert evictions(lines) == [("kubelet", "default/big", UID, "memory", None, None)]
    threshold = klog("eviction manager: thresholds - grace periods satisified: threshold "
                     "[signal=memory.available, quantity=100Mi] observed 71Mi", "I", "helpers.go:822")
    assert evictions([threshold, *lines])[0][3] == "memory: memory.available below 100Mi, 71Mi available"


def test_the_kubelet_logging_json() -> None:
    """--logging-format=json: the same messages and keys, a pod as klog.KObj's {name, namespace}."""
    pod = {"name": "big", "namespace": "default"}
    lines = [json.dumps({"ts": 1.5, "caller": "eviction/eviction_manager.go:366", "msg": m, "v": 0, **kv})
             for m, kv in (("Eviction manager: attempting to reclaim", {"resourceName": "memory"}),
                           ("Evicting pod", {"pod": pod, "podUID": UID, "message": "The node was low on resource: "
                                             "memory. Threshold quantity: 100Mi, available: 12Ki. "}),
                           ("Eviction manager: pod is evicted successfully", {"pod": pod}))]
    assert evictions(lines) == [("kubelet", "default/big", UID, "memory: threshold 100Mi, 12Ki available", None,
                                 None)]


@pytest.mark.parametrize("resource", ["ephemeral-storage", "pids"])
def test_evictions_for_other_resources_are_not_memory_kills(resource: str) -> None:
    assert evictions(round_lines("default/disk", resource, uid=UID, verbose=True)) == []


def test_what_is_not_a_memory_eviction() -> None:
    memory = round_lines("default/big")
    # A pod evicted for its ephemeral storage (localStorageEviction, before the next round's reclaim line):
    storage = [klog('"Evicting pod" pod="default/log-heavy" podUID="u2" message="Pod ephemeral local storage usage '
                    'exceeds the total limit of containers 1Gi. "', "I", "eviction_manager.go:584"),
               klog('"Eviction manager: pod is evicted successfully" pod="default/log-heavy"')]
    assert evictions([*memory, *storage]) == evictions(memory), "the memory round ended with its eviction"
    failed = [*memory[:3], klog('"Eviction manager: pod failed to evict" err="timeout" pod="default/big"', "E"),
              klog('"Eviction manager: pod is evicted successfully" pod="default/other"')]
    assert evictions(failed) == [], "a failed eviction ends the round"
    assert evictions([*memory[:2], klog('"Eviction manager: able to reduce resource pressure without evicting '
                                        'pods." resourceName="memory"'),
                      klog('"Eviction manager: pod is evicted successfully" pod="default/x"')]) == []
    assert evictions(round_lines("default/big"), tag="earlyoom[1]: ") == [], "another daemon's lines"
    no_pods = klog('"Eviction manager: eviction thresholds have been met, but no pods are active to evict"', "E")
    assert evictions([*memory[:2], no_pods, storage[1]]) == [], "a round that evicted nothing ends too"
    old = [klog("eviction manager: attempting to reclaim memory", "W"),
           klog("eviction manager: able to reduce memory pressure without evicting pods.")]
    assert evictions([*old, klog("eviction manager: pod x_default(u) is evicted successfully")]) == []
    assert evictions([*memory[:3], *storage]) == [], "-v=3: the pod's own message says it went for its storage"


def test_a_hostile_pod_name_is_kept_literal_and_bounded() -> None:
    hostile = 'ns/[/bold]\\x1b[31m\\"x'  # klog quotes it: an escape and a quote inside the name
    parser = KillParser()
    (event,) = [e for line in round_lines(hostile) for e in parser.feed(line, 1.0)]
    assert event.pod == 'ns/[/bold]\x1b[31m"x'
    assert event.describe() == 'kubelet evicted pod ns/[/bold]\\x1b[31m"x (memory)'
    (event,) = [e for line in round_lines("ns/" + "y" * 100_000) for e in parser.feed(line, 1.0)]
    assert len(event.pod) == FIELD_MAX
    assert fields('"Eviction manager: pod is evicted successfully pod=x') is None and fields("{not json") is None


def test_two_pods_evicted_in_a_row_are_two_kills() -> None:
    parser, once = KillParser(), Once()
    events = [e for pod in ("default/a", "default/b") for line in round_lines(pod) for e in parser.feed(line, 1.0)]
    assert [e.pod for e in once.new(events)] == ["default/a", "default/b"]
    assert once.new(events) == [], "the same evictions again (journal and kmsg) count once"


def test_only_the_kubelets_eviction_lines_pass_the_journal() -> None:
    def raw(message: str) -> bytes:
        return json.dumps({"SYSLOG_IDENTIFIER": "kubelet", "_PID": "2480", "MESSAGE": message,
                           "__REALTIME_TIMESTAMP": "1700000000000000"}).encode()

    assert entry_lines(raw(klog('"SyncLoop (PLEG): event for pod" pod="default/x"', "I", "kubelet.go:2231")))[0] == []
    line = round_lines("default/big")[-2]
    assert entry_lines(raw(line))[0] == [f"kubelet[2480]: {line}"]


needs_journal = pytest.mark.skipif(why_no_journal() is not None, reason=why_no_journal() or "")


@needs_journal
def test_evictions_in_a_real_journal_at_once(tmp_path: Path) -> None:
    with JournalWriter(tmp_path) as journal, JournalKillFollower(JournalSource(str(tmp_path))) as follower:
        reach_the_end(journal, follower)
        written = journal.write(*(entry(m, "kubelet", KUBELET_PID) for m in round_lines("default/big", uid=UID,
                                                                                       verbose=True)))
        got = wait_for_kills(follower, 1)
        assert [(e.killer, e.pod, e.pod_uid) for e, _ in got] == [("kubelet", "default/big", UID)]
        assert got[0][1] - written < SHOWN_WITHIN, f"seen {got[0][1] - written:.2f} s after it was written"
        journal.write(*(entry(m, "kubelet", KUBELET_PID) for m in round_lines("default/disk", "ephemeral-storage")))
        journal.write(*(entry(m, "kubelet", KUBELET_PID) for m in round_lines("default/second")))
        got = wait_for_kills(follower, 1)
        assert [e.pod for e, _ in got] == ["default/second"], "the disk eviction is not a memory kill"
        time.sleep(0.5)
        assert follower.poll() == []
