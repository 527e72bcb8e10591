"""The kubelet's evictions for memory, from its own log lines (klog, to the journal as kubelet.service).

Read from kubernetes/kubernetes `pkg/kubelet/eviction/eviction_manager.go`
(`synchronize`, `evictPod`) and `helpers.go` (`evictionMessage`,
`debugLogThresholdsWithObservation`). Each monitoring round that must evict
logs, in order:

    "Eviction manager: attempting to reclaim" resourceName="memory"
    "Eviction manager: must evict pod(s) to reclaim" resourceName="memory"
    "Eviction manager: pods ranked for eviction" pods=[default/big default/small]
    "Evicting pod" pod="default/big" podUID="…" message="The node was low on resource: memory. …"   (-v=3)
    "Eviction manager: pod is evicted successfully" pod="default/big"

(klog's structured form, 1.21 and later, each behind klog's header
`I1207 17:22:15.123456    2480 eviction_manager.go:595] `; with
`--logging-format=json` the same message and keys in a JSON object, a pod as
{"name", "namespace"}), and before 1.21 the unstructured
`eviction manager: attempting to reclaim memory`, `eviction manager: pod
big_default(UID) is evicted successfully` (`format.Pod`: name_namespace(uid)).
At -v=3 the round also logs each threshold it acts on (`threshold observed
resource` with signal, quantity and available; before 1.21 `threshold
[signal=memory.available, quantity=100Mi] observed 12Ki`).

A pod evicted in a round that reclaims memory is a memory kill. The kubelet
also evicts for disk (nodefs, imagefs, a pod's ephemeral storage, before any
round's reclaim line) and pids: those free no memory, no memory policy
predicts them, so they are not kills here. A failed eviction (`pod failed
to evict`) is not one either.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

MEMORY = "memory"
FIELD_MAX = 320  # characters of a value kept: a namespace/name is at most 63 + 1 + 253
_KLOG_HEADER = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\]\s]{1,200}\] ")
_TAG = re.compile(r"^kubelet(?:\[\d+\])?: ")
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_MESSAGE = re.compile(rf"^({_QUOTED})(.*)$")
_PAIR = re.compile(rf"(\w+)=({_QUOTED}|\[[^\]]*\]|\S+)")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# Before 1.21: klog.Infof/Warningf with format.Pod's name_namespace(uid).
_OLD_RECLAIM = re.compile(r"^eviction manager: (?:attempting to reclaim|must evict pod\(s\) to reclaim) (\S+)$")
_OLD_EVICTED = re.compile(r"^eviction manager: pod (\S+?)_([^_\s(]+)\(([^)\s]*)\) is evicted successfully$")
_OLD_THRESHOLD = re.compile(
    r"^eviction manager: thresholds - grace periods satisi?fied: threshold \[signal=(\S+), quantity=(\S+)\] "
    r"observed (\S+)$")
_LOW = re.compile(r"The node was low on resource: ([\w.-]+)\. (?:Threshold quantity: (\S+), available: (\S+)\. )?")
# How a round ends without a pod evicted for its resource, in both forms: what it reclaimed is forgotten.
_ROUND_OVER = re.compile(
    r"^[Ee]viction manager: (?:pod (?:\S+ )?failed to evict|unable to evict any pods|able to reduce \S+ pressure|"
    r"pods (?:\S+ )?evicted, waiting|eviction thresholds have been met, but no pods|no ranking function)")


@dataclass(frozen=True, slots=True)
class Eviction:
    """One pod the kubelet evicted for memory."""

    pod: str  # namespace/name
    uid: str | None  # where a line gave it
    reason: str  # "memory", with the signal and threshold where the lines gave them


def _unquote(quoted: str) -> str:
    """A Go-quoted string (klog's `%q`) as its text."""

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "xuU" and len(code) > 1:
            return chr(min(int(code[1:], 16), 0x10FFFF))
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, quoted[1:-1])


def _cut(value: str) -> str:
    return value[:FIELD_MAX]


def fields(text: str) -> tuple[str, dict[str, str]] | None:
    """A kubelet line's message and its key/value pairs (klog text or JSON); None for a line of another form."""
    body = _KLOG_HEADER.sub("", _TAG.sub("", text, count=1), count=1)
    if body.startswith("{"):
        try:
            entry = json.loads(body)
        except ValueError:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("msg"), str):
            return None
        out = {}
        for key, value in entry.items():
            if isinstance(value, dict) and isinstance(value.get("name"), str):  # klog.KObj
                ns = value.get("namespace")
                out[key] = _cut(f"{ns}/{value['name']}" if isinstance(ns, str) and ns else value["name"])
            elif isinstance(value, str):
                out[key] = _cut(value)
        return entry["msg"], out
    if m := _MESSAGE.match(body):
        pairs = {k: _cut(_unquote(v) if v.startswith('"') else v) for k, v in _PAIR.findall(m.group(2))}
        return _unquote(m.group(1)), pairs
    return (body, {}) if body.startswith("eviction manager: ") else None


class KubeletParser:
    """The kubelet's memory evictions out of its log lines, in order; O(1) state whatever the lines say."""

    def __init__(self) -> None:
        self.resource: str | None = None  # what this round reclaims
        self.threshold: str | None = None  # the memory signal and threshold it acts on, in words
        self.evicting: tuple[str, str | None, str] | None = None  # (pod, uid, resource) of "Evicting pod"

    def _over(self) -> None:
        self.resource = self.threshold = self.evicting = None

    def _reason(self, resource: str) -> str:
        return f"{resource}: {self.threshold}" if self.threshold and resource == MEMORY else resource

    def feed(self, text: str) -> Eviction | None:
        if "vict" not in text:  # every line this reads says evict, eviction or Evicting
            return None
        found = fields(text)
        if found is None:
            return None
        message, kv = found
        if message in ("Eviction manager: attempting to reclaim", "Eviction manager: must evict pod(s) to reclaim"):
            self.resource = kv.get("resourceName")
        elif m := _OLD_RECLAIM.match(message):
            self.resource = m.group(1)
        elif message == "Eviction manager: threshold observed resource":
            if kv.get("resourceName") == MEMORY and "grace periods" in kv.get("log", ""):
                self.threshold = f"{kv.get('signal', '?')} below {kv.get('quantity', '?')}, " \
                                 f"{kv.get('available', '?')} available"
        elif m := _OLD_THRESHOLD.match(message):
            if m.group(1).lower().startswith(("memory", "allocatablememory")):
                self.threshold = f"{m.group(1)} below {m.group(2)}, {m.group(3)} available"
        elif message == "Evicting pod" and "pod" in kv:
            low = _LOW.match(kv.get("message", ""))
            if low is not None and low.group(2) and low.group(1) == MEMORY and not self.threshold:
                self.threshold = f"threshold {low.group(2)}, {low.group(3)} available"
            # Without "low on resource" the pod went for its own ephemeral storage, whatever the round.
            self.evicting = (kv["pod"], kv.get("podUID"), low.group(1) if low else "ephemeral-storage")
        elif message == "Eviction manager: pod is evicted successfully" and "pod" in kv:
            return self._evicted(kv["pod"], None)
        elif m := _OLD_EVICTED.match(message):
            return self._evicted(f"{m.group(2)}/{m.group(1)}", m.group(3) or None)
        elif _ROUND_OVER.match(message):
            self._over()
        return None

    def _evicted(self, pod: str, uid: str | None) -> Eviction | None:
        resource = self.resource
        if self.evicting is not None and self.evicting[0] == pod:
            uid = uid or self.evicting[1]
            resource = self.evicting[2]  # the pod's own eviction message says it best
        reason = self._reason(resource) if resource else ""
        self._over()
        return Eviction(pod, uid, reason) if resource == MEMORY else None
