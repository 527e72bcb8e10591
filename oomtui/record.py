"""Record the host over time, so the snapshot from just before an OOM is there afterwards.

Directory layout (everything a reader needs is in the names and the index):

    DIR/recording.json                    {"format": "oomtui-recording", "version": 1,
                                            "interval": s, "keep": s, "max_bytes": n}
    DIR/samples/20261125T224112.123456Z.json.gz  one snapshot per sample (UTC time in the name)
    DIR/events/20261125T224530.004321Z.log       a kernel OOM report as /dev/kmsg gave it
                                               (dmesg-style lines; `oomtui import-oom` reads it),
                                               or a userspace killer's kill line
    DIR/events/index.jsonl                one JSON line per event: time (when the kernel
                                          printed the report), report, sample (the last
                                          sample written before the OOM, or null),
                                          killer ("kernel", "earlyoom", "nohang",
                                          "systemd-oomd", "oomd", "kubelet"; absent in
                                          older recordings: the kernel), kind, domain,
                                          victim_pid, victim_comm, victim_cgroup (a
                                          daemon's cgroup kill, the evicted pod's),
                                          victim_pod (the kubelet's: namespace/name), and
                                          verdict: what oomtui predicted for that domain on
                                          that sample, and whether the kill matched it
                                          (`oomtui.verdict.Verdict.to_json`)

    DIR/recording.lock                    flock-ed by the running recorder (its pid inside)

Samples are taken every `interval` seconds and at once when memory
pressure rises (a PSI trigger, "some" 150 ms stalled within 1 s, or
300 ms within 2 s where the recorder lacks CAP_SYS_RESOURCE). The
userspace killers' kills come from their lines on /dev/kmsg and in the
journal (`oomlog.journal`, journalctl as a child process) or, where there
is no journal, syslog files (`oomlog.syslog`, read every SYSLOG_POLL
seconds), each kill once however many of them carried it. Old
samples go when they are older than `keep`; while samples, reports and
index together take more than `max_bytes`, samples go oldest first —
except a sample an event points at, which stays as long as its event —
and then the oldest events with their samples; the newest sample and the
newest event always stay. Every file is written whole (write to a
temporary name, then rename), so a stop at any moment leaves no partial
file; a crash's leftover temporary files (`oomtui.safefile`'s names only)
are removed at the next start. DIR and its subdirectories must be the
recorder's own and no symlink, and every file is opened relative to them
(see `oomtui.safefile`); a second recorder in the same DIR refuses.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oomtui import oomlog, snapshot
from oomtui.collect.pressure import PressureTrigger
from oomtui.errors import UserError
from oomtui.model import Snapshot
from oomtui.oomlog.follow import KillEvent, KillParser, Once, UserspaceCap, kills_in
from oomtui.oomlog.journal import JournalKillFollower, JournalSource
from oomtui.oomlog.syslog import SyslogKillFollower, SyslogSource
from oomtui.safefile import (
    UnsafePathError,
    open_append_at,
    open_dir,
    open_subdir,
    remove_own_temporaries,
    write_all,
    write_atomic_at,
)
from oomtui.text import printable
from oomtui.verdict import Verdict, verdict_for

FORMAT = "oomtui-recording"
SAMPLES = "samples"
EVENTS = "events"
INDEX = "index.jsonl"
META = "recording.json"
LOCK = "recording.lock"
MAX_INDEX = 64 << 20  # an index is read whole only to drop old events from it
SYSLOG_POLL = 0.5  # seconds between reads of the syslog files followed
SAMPLE_SUFFIX = ".json.gz"
_NAME_FORMAT = "%Y%m%dT%H%M%S.%f"


def stamp_name(t: float) -> str:
    """A sortable UTC file name stem, to the microsecond like the sample's own time."""
    return datetime.fromtimestamp(t, UTC).strftime(_NAME_FORMAT) + "Z"


def time_of_name(name: str) -> float | None:
    stem = name.split(".json", 1)[0].removesuffix(".log")
    try:
        return datetime.strptime(stem.rstrip("Z"), _NAME_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `1h`, `2d`, `1w` as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip().lower()
    factor = units.get(raw[-1:])
    number = raw[:-1] if factor else raw
    try:
        value = float(number) * (factor or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (like 90s, 15m, 1h, 2d)") from None
    if value <= 0:
        raise ValueError(f"{text!r}: a duration must be positive")
    return value


def parse_size(text: str) -> int:
    """`500M`, `2G`, `1024K` or bytes."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    factor = units.get(raw[-1:])
    try:
        value = int(float(raw[:-1] if factor else raw) * (factor or 1))
    except ValueError:
        raise ValueError(f"{text!r} is not a size (like 500M, 2G)") from None
    if value <= 0:
        raise ValueError(f"{text!r}: a size must be positive")
    return value


def _read_small(dir_fd: int, name: str, limit: int = 4096) -> str:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        return os.read(fd, limit).decode("utf-8", "replace")
    finally:
        os.close(fd)


def _report_of(line: str) -> object:
    try:
        return json.loads(line).get("report")
    except (ValueError, AttributeError):
        return None  # a torn line: dropped with the events it may have belonged to


# -- reading a recording ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    time: float
    path: Path


@dataclass(frozen=True, slots=True)
class Event:
    time: float
    report: Path
    sample: Path | None  # the last sample before the OOM
    kind: str | None
    domain: str | None
    victim_pid: int | None
    victim_comm: str | None
    verdict: dict | None = None  # Verdict.to_json() of the kill, where one was judged
    killer: str = "kernel"  # who killed: the report is then its kill line, not a kernel report
    victim_pod: str | None = None  # the pod the kubelet evicted, namespace/name


class Recording:
    """A recording directory: its samples and OOM events, oldest first."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        if not self.dir.is_dir():
            raise UserError(f"{directory}: not a directory")
        if not (self.dir / SAMPLES).is_dir() and not (self.dir / META).is_file():
            raise UserError(f"{directory}: not an oomtui recording (no {SAMPLES}/ or {META})")
        self.samples: list[Sample] = []
        self.events: list[Event] = []
        self.refresh()

    @staticmethod
    def is_recording(path: str | Path) -> bool:
        p = Path(path)
        return p.is_dir() and ((p / SAMPLES).is_dir() or (p / META).is_file())

    def refresh(self) -> None:
        """Re-read the listing (a recorder may still be adding to it)."""
        samples = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.dir / SAMPLES):
                if entry.name.endswith(SAMPLE_SUFFIX) and not entry.name.startswith("."):
                    t = time_of_name(entry.name)
                    if t is not None:
                        samples.append(Sample(t, Path(entry.path)))
        self.samples = sorted(samples, key=lambda s: s.time)
        self.events = self._read_index()

    def _read_index(self) -> list[Event]:
        events = []
        try:
            text = (self.dir / EVENTS / INDEX).read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            try:
                d = json.loads(line)
                report = self.dir / str(d["report"])
                sample = self.dir / str(d["sample"]) if d.get("sample") else None
                events.append(Event(
                    time=float(d["time"]), report=report, sample=sample,
                    kind=d.get("kind"), domain=d.get("domain"),
                    victim_pid=d.get("victim_pid"), victim_comm=d.get("victim_comm"),
                    verdict=d["verdict"] if isinstance(d.get("verdict"), dict) else None,
                    killer=d["killer"] if isinstance(d.get("killer"), str) else "kernel",
                    victim_pod=d["victim_pod"] if isinstance(d.get("victim_pod"), str) else None,
                ))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash
        return sorted(events, key=lambda e: e.time)

    def load_sample(self, i: int) -> Snapshot:
        return snapshot.load(self.samples[i].path)

    def sample_at(self, t: float) -> int | None:
        """The index of the last sample taken at or before `t`."""
        best = None
        for i, s in enumerate(self.samples):
            if s.time <= t:
                best = i
        return best

    def import_event(self, i: int) -> oomlog.ImportResult:
        event = self.events[i]
        return oomlog.parse_report(oomlog.read_log(event.report))

    def load_event(self, i: int) -> Snapshot:
        """The kernel's report of event i as a kernel-log snapshot."""
        return self.import_event(i).snapshot

    def event_sample(self, i: int) -> Snapshot | None:
        """The snapshot recorded just before event i, where one was kept."""
        path = self.events[i].sample
        return snapshot.load(path) if path is not None and path.exists() else None


# -- recording ------------------------------------------------------------------


class Recorder:
    """Samples into a directory until stopped; see the module docstring for the layout."""

    def __init__(
        self,
        directory: str | Path,
        *,
        interval: float = 5.0,
        keep: float = 6 * 3600,
        max_bytes: int = 1 << 30,
        collect: Callable[[], Snapshot] | None = None,
        kmsg_path: str = "/dev/kmsg",
        psi_path: str = "/proc/pressure/memory",
        journal: JournalSource | None = None,
        syslog: SyslogSource | None = None,
        note: Callable[[str], None] = lambda msg: print(f"oomtui record: {printable(msg, None)}", file=sys.stderr),
    ) -> None:
        self.dir = Path(directory)
        self.interval, self.keep, self.max_bytes = interval, keep, max_bytes
        self.note = note
        self.kmsg_path, self.psi_path, self.journal, self.syslog = kmsg_path, psi_path, journal, syslog
        self.once = Once()  # a userspace kill on kmsg and in the journal is one event
        self.cap = UserspaceCap()  # and forged ones cannot flood the recording
        if collect is None:
            from oomtui.collect import Collector

            collect = Collector().collect  # one collector: it caches identities and keeps trends
        self.collect = collect
        self.stopping = False
        self.samples: list[Sample] = []
        self.events: list[Event] = []
        self.finished: dict[Path, float] = {}  # when each sample of this run was written
        self.last_sample_at = 0.0
        self.failures = 0
        self.recent: dict[Path, Snapshot] = {}  # the last two samples, to judge an OOM without re-reading them
        self._fds: dict[str, int] = {}  # "" (the directory), SAMPLES, EVENTS, LOCK: held while recording

    @property
    def pinned(self) -> set[Path]:
        """Samples an event points at: kept as long as the event."""
        return {e.sample for e in self.events if e.sample is not None}

    # -- setup

    def _prepare(self) -> None:
        """Open the directory safely, take the lock, clean up after a killed recorder, write the metadata.

        Everything is opened relative to checked directory fds (see oomtui.safefile),
        so nothing planted in DIR can redirect a write or a removal.
        """
        try:
            self._fds[""] = top = open_dir(self.dir, create=True, own=True)
            self._lock(top)
            for sub in (SAMPLES, EVENTS):
                self._fds[sub] = open_subdir(top, sub, shown=str(self.dir / sub))
            for key in ("", SAMPLES, EVENTS):
                remove_own_temporaries(self._fds[key])
            meta = {"format": FORMAT, "version": 1, "interval": self.interval, "keep": self.keep,
                    "max_bytes": self.max_bytes}
            write_atomic_at(top, META, json.dumps(meta).encode() + b"\n", mode=0o644, shown=str(self.dir / META))
        except OSError as e:
            self.close()
            raise UserError(str(e) if isinstance(e, UnsafePathError) else f"{self.dir}: {e.strerror or e}") from None
        existing = Recording(self.dir)
        self.samples = list(existing.samples)
        self.events = list(existing.events)

    def _lock(self, top: int) -> None:
        """One recorder per directory: an flock held for the whole run; the holder's pid is in the file."""
        fd = self._fds[LOCK] = open_append_at(top, LOCK, shown=str(self.dir / LOCK), mode=0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_small(top, LOCK).strip() or "unknown"
            raise UserError(f"{self.dir}: another oomtui record (pid {holder}) is recording here; "
                            "refusing to start a second one") from None
        os.ftruncate(fd, 0)
        write_all(fd, f"{os.getpid()}\n".encode())

    def close(self) -> None:
        """Release the directory fds and the lock."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def stop(self, *_: object) -> None:
        self.stopping = True

    # -- work

    def take_sample(self, why: str) -> Sample | None:
        began = time.time()
        try:
            snap = self.collect()
        except Exception as e:  # keep recording through whatever one sample hits
            self._failed(f"sample ({why}) failed: {type(e).__name__}: {e}")
            return None
        t = snap.taken_at or time.time()
        name = f"{stamp_name(t)}{SAMPLE_SUFFIX}"
        path = self.dir / SAMPLES / name
        try:
            write_atomic_at(self._fds[SAMPLES], name, snapshot.encode(snap, name), shown=str(path))
        except OSError as e:
            self._failed(f"cannot write {path}: {e.strerror or e}")
            return None
        sample = Sample(time_of_name(name) or t, path)  # the name's time, as readers see it
        self.recent = {p: s for p, s in list(self.recent.items())[-1:]} | {path: snap}
        self.samples.append(sample)
        self.finished[path] = t + (time.time() - began)  # its own clock plus how long reading and writing took
        self.last_sample_at = time.monotonic()
        self.failures = 0
        self.prune(time.time())
        return sample

    def _failed(self, message: str) -> None:
        self.failures += 1
        if self.failures <= 3 or self.failures % 100 == 0:
            self.note(message)

    def store_event(self, text: str, started: float) -> None:
        """Write the report beside a pointer to the last sample taken whole before it began.

        A sample still being read when the OOM struck may already miss the victim, so only
        samples whose reading had finished count as "before".
        """
        before = [s for s in self.samples if self.finished.get(s.path, s.time) <= started]
        sample = before[-1].path if before else None
        name = f"{stamp_name(started)}.log"
        entry: dict[str, object] = {
            "time": started,
            "report": f"{EVENTS}/{name}",
            "sample": f"{SAMPLES}/{sample.name}" if sample else None,
        }
        info = None
        with contextlib.suppress(UserError):
            info = oomlog.find_reports(text)[-1]
            entry.update(kind=info.kind, domain=info.domain, victim_pid=info.victim_pid, victim_comm=info.victim_comm)
        try:
            verdict = self.judge(text, sample)
        except Exception as e:  # a verdict must never cost the report itself
            verdict = None
            self.note(f"no verdict on this OOM: {type(e).__name__}: {e}")
        if verdict is not None:
            entry["verdict"] = verdict.to_json()
        if not self._write_event(name, text, entry, "an OOM report"):
            return
        kind, domain, pid, comm = (info.kind, info.domain, info.victim_pid, info.victim_comm) if info else (
            None, None, None, None)
        self.events.append(Event(started, self.dir / EVENTS / name, sample, kind, domain, pid, comm,
                                 verdict.to_json() if verdict is not None else None))
        said = f"; {verdict.summary()}" if verdict is not None else ""
        self.note(f"OOM report captured: {name} (victim {entry.get('victim_pid')}){said}")
        self.prune(time.time())

    def _write_event(self, name: str, text: str, entry: dict[str, object], what: str) -> bool:
        """The event's file, then its index line; False (and said) where either could not be written."""
        events = self._fds[EVENTS]
        try:
            write_atomic_at(events, name, text.encode(), shown=str(self.dir / EVENTS / name))
            fd = open_append_at(events, INDEX, shown=str(self.dir / EVENTS / INDEX))
            try:
                write_all(fd, (json.dumps(entry) + "\n").encode())
            finally:
                os.close(fd)
        except OSError as e:
            self.note(f"cannot store {what}: {e.strerror or e}")
            return False
        return True

    def store_kill(self, event: KillEvent) -> None:
        """A userspace killer's kill (its line on kmsg or in the journal), judged like a kernel kill
        against the last sample finished before it, its line kept as the event's report."""
        before = [s for s in self.samples if self.finished.get(s.path, s.time) <= event.time]
        sample = before[-1].path if before else None
        name = f"{stamp_name(event.time)}.log"
        if any(e.report.name == name for e in self.events):  # two kills in one microsecond: keep both
            name = f"{stamp_name(event.time)}.{event.killer}.{len(self.events)}.log"
        snap = self.recent.get(sample) if sample is not None else None
        try:
            if snap is None and sample is not None:
                snap = snapshot.load(sample)
            verdict: Verdict | None = verdict_for(event, snap)
        except Exception as e:  # a verdict must never cost the event itself
            verdict = None
            self.note(f"no verdict on this kill: {type(e).__name__}: {e}")
        if verdict is not None:
            event = verdict.event  # an evicted pod's cgroup, as found in the sample
        entry: dict[str, object] = {
            "time": event.time, "report": f"{EVENTS}/{name}", "sample": f"{SAMPLES}/{sample.name}" if sample else None,
            "killer": event.killer, "kind": None, "domain": None, "victim_pid": event.pid,
            "victim_comm": event.comm, "victim_cgroup": event.cgroup,
        }
        if event.pod is not None:
            entry["victim_pod"] = event.pod
        if verdict is not None:
            entry["verdict"] = verdict.to_json()
        if not self._write_event(name, event.line + "\n", entry, f"{event.killer}'s kill"):
            return
        self.events.append(Event(event.time, self.dir / EVENTS / name, sample, None, None, event.pid, event.comm,
                                 verdict.to_json() if verdict is not None else None, event.killer, event.pod))
        said = f"; {verdict.summary()}" if verdict is not None else ""
        self.note(f"kill captured: {name}: {event.describe()}{said}")
        self.prune(time.time())

    def judge(self, text: str, sample: Path | None) -> Verdict | None:
        """The verdict on the report's kill against what the sample before it predicted; None without a kill."""
        kills = [k for k in kills_in(text) if not k.group_member]
        if not kills:
            return None
        before = self.recent.get(sample) if sample is not None else None
        if before is None and sample is not None:
            with contextlib.suppress(OSError, snapshot.SnapshotError):
                before = snapshot.load(sample)
        return verdict_for(kills[0], before)

    def prune(self, now: float) -> None:
        """Keep the recording under `keep` and `max_bytes`; the newest sample and event always stay.

        Unpinned samples go when older than `keep`, then oldest first while the
        samples, reports and index together exceed `max_bytes`; if that is not
        enough, the oldest events go with the samples only they pinned.
        """
        pinned = self.pinned
        for s in [s for s in self.samples if s.path not in pinned and now - s.time > self.keep]:
            self._remove(s)
        total = sum(self._size(SAMPLES, s.path.name) for s in self.samples) + self._events_bytes()
        for s in [s for s in self.samples[:-1] if s.path not in pinned]:
            if total <= self.max_bytes:
                return
            total -= self._size(SAMPLES, s.path.name)
            self._remove(s)
        dropped: list[Event] = []
        while total > self.max_bytes and len(self.events) > len(dropped) + 1:
            event = self.events[len(dropped)]
            dropped.append(event)
            total -= self._size(EVENTS, event.report.name)
            still = {e.sample for e in self.events[len(dropped):]}
            only = [s for s in self.samples[:-1] if s.path == event.sample and s.path not in still]
            for s in only:
                total -= self._size(SAMPLES, s.path.name)
                self._remove(s)
        if dropped:
            self._drop_events(dropped)

    def _size(self, sub: str, name: str) -> int:
        try:
            return os.stat(name, dir_fd=self._fds[sub], follow_symlinks=False).st_size
        except OSError:
            return 0

    def _events_bytes(self) -> int:
        return self._size(EVENTS, INDEX) + sum(self._size(EVENTS, e.report.name) for e in self.events)

    def _drop_events(self, dropped: list[Event]) -> None:
        """Rewrite the index without the dropped events (atomically), then remove their reports."""
        gone = {f"{EVENTS}/{e.report.name}" for e in dropped}
        events = self._fds[EVENTS]
        try:
            lines = _read_small(events, INDEX, MAX_INDEX).splitlines(keepends=True)
            kept = [line for line in lines if _report_of(line) not in gone]
            write_atomic_at(events, INDEX, "".join(kept).encode(), shown=str(self.dir / EVENTS / INDEX))
        except OSError as err:
            self.note(f"cannot drop old OOM events to stay under the size cap: {err.strerror or err}")
            return
        for event in dropped:
            with contextlib.suppress(OSError):
                os.unlink(event.report.name, dir_fd=events)
        self.events = [e for e in self.events if e not in dropped]

    def _remove(self, s: Sample) -> None:
        self.finished.pop(s.path, None)
        self.samples.remove(s)
        with contextlib.suppress(OSError):
            os.unlink(s.path.name, dir_fd=self._fds[SAMPLES])

    # -- the loop

    def _open_sources(self, poller: select.poll) -> tuple[oomlog.kmsg.KmsgFollower | None, PressureTrigger | None]:
        from oomtui.oomlog.kmsg import KmsgFollower

        kmsg = psi = None
        try:
            kmsg = KmsgFollower(self.kmsg_path)
            poller.register(kmsg.fileno(), select.POLLIN)
        except OSError as e:
            self.note(f"kernel OOM reports not captured: {self.kmsg_path}: {e.strerror or e}")
        try:
            psi = PressureTrigger(self.psi_path)
            poller.register(psi.fileno(), select.POLLPRI)
        except OSError as e:
            self.note(f"no pressure-triggered samples (no PSI trigger): {self.psi_path}: {e.strerror or e}")
        return kmsg, psi

    def _open_journal(self, poller: select.poll) -> JournalKillFollower | None:
        if self.journal is None:
            return None
        try:
            journal = JournalKillFollower(self.journal)
        except UserError as e:
            self.note(f"userspace killers' kills in the journal not captured: {e}")
            return None
        poller.register(journal.fileno(), select.POLLIN)
        return journal

    def _open_syslog(self, journal: JournalKillFollower | None) -> SyslogKillFollower | None:
        """The syslog file asked for, or this host's where the journal could not be followed."""
        if self.syslog is None or (self.syslog.path is None and journal is not None):
            return None
        try:
            syslog = SyslogKillFollower(self.syslog)
        except UserError as e:
            self.note(f"userspace killers' kills in syslog not captured: {e}")
            return None
        self.note(f"userspace killers' kills followed in {syslog.describe()}")
        return syslog

    def _userspace_kills(self, events: list[KillEvent]) -> None:
        dropped = self.cap.dropped
        for event in self.cap.allow(self.once.new([e for e in events if e.killer != "kernel"])):
            self.store_kill(event)
        if self.cap.dropped // 100 > dropped // 100 or (self.cap.dropped and not dropped):
            self.note(self.cap.words())

    def run(self, duration: float | None = None) -> int:
        """Record until SIGTERM/SIGINT (or for `duration` seconds); returns the exit code.

        Call it from the main thread: it installs the signal handlers that make the stop clean.
        """
        from oomtui.oomlog.kmsg import ReportCatcher, wall_time

        self._prepare()
        self.note(f"recording to {self.dir} every {self.interval:g} s; stop with Ctrl-C or SIGTERM")
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        old_handlers = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        poller = select.poll()
        poller.register(wake_r, select.POLLIN)
        kmsg, psi = self._open_sources(poller)
        journal = self._open_journal(poller)
        syslog = self._open_syslog(journal)
        next_syslog = time.monotonic()
        kmsg_kills = KillParser()  # the userspace killers' lines on kmsg (the kernel's go whole to `catcher`)
        catcher = ReportCatcher()
        end = None if duration is None else time.monotonic() + duration
        next_due = time.monotonic()
        try:
            while not self.stopping:
                now = time.monotonic()
                if end is not None and now >= end:
                    break
                if now >= next_due:
                    self.take_sample("interval")
                    next_due = max(next_due + self.interval, time.monotonic())
                wait = next_due - time.monotonic()
                if catcher.pending:
                    wait = min(wait, 0.5)
                if syslog is not None:  # a regular file is always "ready": read it on a clock instead
                    wait = min(wait, next_syslog - time.monotonic())
                if end is not None:
                    wait = min(wait, end - time.monotonic())
                for fd, flags in poller.poll(max(wait, 0) * 1000):
                    if fd == wake_r:
                        with contextlib.suppress(OSError):
                            os.read(wake_r, 512)
                    elif kmsg is not None and fd == kmsg.fileno():
                        try:
                            lines = kmsg.read_lines()
                        except OSError as e:
                            self.note(f"stopped reading {self.kmsg_path}: {e.strerror or e}")
                            poller.unregister(fd)
                            lines = []
                        if kmsg.take_overruns():
                            self.note(f"{self.kmsg_path} overran: kernel messages were lost, so an OOM report "
                                      "captured around now may be incomplete")
                        for line in lines:
                            printed = wall_time(line) or time.time()
                            for text, began in catcher.feed(line, time.monotonic(), printed):
                                self.store_event(text, began)
                            self._userspace_kills(kmsg_kills.feed(line, printed))
                    elif journal is not None and fd == journal.fileno():
                        try:
                            self._userspace_kills(journal.poll())
                        except UserError as e:
                            self.note(str(e))
                            poller.unregister(fd)
                            journal.close()
                            journal = None
                    elif psi is not None and fd == psi.fileno():
                        if flags & select.POLLERR:
                            self.note("the PSI trigger went away; no more pressure-triggered samples")
                            poller.unregister(fd)
                        elif time.monotonic() - self.last_sample_at >= 1.0 and not self.stopping:
                            self.take_sample("pressure")
                for text, began in catcher.due(time.monotonic()):
                    self.store_event(text, began)
                if syslog is not None and time.monotonic() >= next_syslog:
                    next_syslog = time.monotonic() + SYSLOG_POLL
                    try:
                        self._userspace_kills(syslog.poll())
                    except UserError as e:
                        self.note(str(e))
                        syslog.close()
                        syslog = None
        finally:
            if catcher.pending:
                self.store_event(*catcher.flush())
            for source in (kmsg, psi, journal, syslog):
                if source is not None:
                    source.close()
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(old_wakeup)
            os.close(wake_r)
            os.close(wake_w)
            self.close()
        return 0
