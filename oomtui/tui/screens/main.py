"""The main screen: tree, details, verdicts, ranking; every key that is not global.

State lives here in plain attributes (sample, edits, domain, chosen policy,
sort, filter) and is pushed down to the widgets by `_paint`. Anything slow
(collecting a sample, running the policies, signalling, writing files) runs
in a worker; handlers only assign.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from oomtui import whatif, workloads
from oomtui.act import (
    Actor,
    KillPlan,
    KnobResult,
    plan_cgroup_kill,
    plan_decision_kill,
    plan_knob_writes,
    plan_process_kill,
)
from oomtui.errors import UserError
from oomtui.model import ROOT, Snapshot, WhatIf
from oomtui.oomlog.follow import KillEvent
from oomtui.oomlog.journal import JournalSource
from oomtui.oomlog.syslog import SyslogSource
from oomtui.policies.registry import policies
from oomtui.snapshot import SnapshotError, save
from oomtui.text import printable
from oomtui.tui import describe, evaluation, fmt, killers
from oomtui.tui.actions import ACTIONS, DANGEROUS, POLICY_KEYS, Action
from oomtui.tui.feeds import Feed
from oomtui.tui.gcpace import Pacer, Parcel
from oomtui.tui.guard import guarded
from oomtui.tui.labels import UNICODE, Glyphs
from oomtui.tui.messages import Evaluated, KillJudged, SampleFetched
from oomtui.tui.opening import open_feed
from oomtui.tui.palette import Palette
from oomtui.tui.screens.confirm import ApplyDialog, KillDialog
from oomtui.tui.screens.kills import KillsScreen
from oomtui.tui.screens.path_prompt import PathPrompt
from oomtui.tui.tree_model import SORTS, CgroupKey, NodeKey, TreeModel, cgroup_key, process_key
from oomtui.tui.widgets.memory_tree import MemoryTree
from oomtui.tui.widgets.text_pane import TextPane
from oomtui.tui.widgets.verdicts_table import VerdictsTable
from oomtui.verdict import verdict_for


def opening_domain(snap: Snapshot) -> str:
    """Where a snapshot opens: the domain of the OOM it records, as `oomtui preview` does, else global."""
    event = snap.oom_event
    if event is None:
        return ROOT
    c = snap.cgroup(event.domain)
    return event.domain if c is not None and (event.domain == ROOT or c.memory_max is not None) else ROOT


STEP = 100  # one raise/lower of a score or oom_score_adj
KILL_HIGHLIGHT_SECONDS = 60.0
KILL_POLL_SECONDS = 0.25  # how soon a kill printed on /dev/kmsg is shown
REPORT_LINES = 12
XATTRS = {
    "trusted.oomd_prefer": "oomd prefer",
    "trusted.oomd_avoid": "oomd avoid",
    "user.oomd_avoid": "systemd-oomd avoid",
    "user.oomd_omit": "systemd-oomd omit",
}


DETAILS_REST = 0.15  # the cursor rests this long before the details of a new selection are drawn
GRACE_SECONDS = 0.5  # a dangerous key this soon after a mode switch was typed ahead, not meant
NARROW = 150  # below this many columns Details and Why leave the side
SHORT = 32  # below this many rows (and narrow) they take the verdicts' place


def _binding(a: Action) -> Binding:
    return Binding(a.keys, a.action, a.short, show=a.footer, key_display=a.display, tooltip=a.help, id=a.id,
                   priority=a.priority)


class MainScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        *(_binding(a) for a in ACTIONS),
        *(Binding(k, f"choose_policy({i})", f"Policy {k}", show=False, id=f"policy{k}",
                  tooltip="Choose the n-th policy of the verdicts") for i, k in enumerate(POLICY_KEYS)),
    ]

    def __init__(self, feed: Feed, actor: Actor | None, *, interval: float = 2.0, read_only: bool = False,
                 protected: frozenset[int] = frozenset(), clock: Callable[[], float] = time.monotonic,
                 glyphs: Glyphs = UNICODE, grace: float = GRACE_SECONDS, kmsg: str | None = None,
                 journal: JournalSource | None = None, syslog: SyslogSource | None = None) -> None:
        super().__init__()
        # Real kills as they happen: `kmsg` (the live host's /dev/kmsg) and the journal (journalctl's
        # output) are polled by `kill_timer`.
        self.kills = killers.KillWatch(kmsg if feed.live else None, journal if feed.live else None,
                                       syslog if feed.live else None)
        self.kill_timer: Timer | None = None
        self.feed = feed
        self.actor = actor
        self.read_only = read_only
        self.interval = interval
        self.protected = protected
        self.clock = clock
        self.sample = feed.first.with_replaced({}, {}, WhatIf())
        self.edits: WhatIf = feed.first.whatif
        self.history: list[WhatIf] = []
        self.domain = opening_domain(feed.first)
        self.policy: str | None = None
        self.sort = "memory"
        self.needle = ""
        self.kernel_threads = False
        self.raw_names = False
        self.paused = False
        self.evaluation: evaluation.Evaluation | None = None
        self.generation = 0
        self.evaluating = False
        self.pending: Snapshot | None = None
        self.kill_counts: dict[str, tuple[int, float]] = {}
        self.titles = {name: spec.title for name, spec in policies().items()}
        self.palette = Palette()
        self.refresh_timer: Timer | None = None
        self.glyphs = glyphs
        self.grace = grace
        self.panes: bool | None = None  # Details and Why shown; None: as the width decides
        self.calm_since = clock()  # the last mode switch: dangerous keys wait GRACE_SECONDS after it
        self.saved_edits: WhatIf = self.edits  # what q compares with before quitting
        self.details_timer: Timer | None = None
        # A pid the next paint puts the cursor on: the kernel's victim, where a snapshot records one.
        self.show_kill: int | None = feed.first.oom_event.killed_pid if feed.first.oom_event else None
        self.details_painted = float("-inf")
        self.pacer = Pacer()
        self.collecting = threading.Lock()  # held while a sample is made
        self.fresh_wanted = False  # the next sample runs every policy again (r, a real kill): none carried
        self.details_path: str | None = None  # the cgroup whose details are shown

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status", markup=False)
        yield Input(placeholder="filter: part of a name, pid, cmdline or cgroup path — Enter keeps it, Esc drops it",
                    id="filter")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield MemoryTree(id="tree", glyphs=self.glyphs)
            with Vertical(id="right"):
                yield TextPane("Details", id="details")
                yield TextPane("Ranking", id="ranking")
        yield VerdictsTable(id="verdicts")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Give the tree most of the screen: Details and Why go under it on narrow screens, shown on `w`;
        the verdicts shrink on short ones, keeping the chosen row in view."""
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        self.set_class(height < SHORT, "-short")
        self.set_class(self.panes if self.panes is not None else not narrow, "-panes")
        self.verdicts.styles.height = 15 if height >= 44 else max(6, height // 3)

    @guarded
    def action_toggle_panes(self) -> None:
        shown = self.has_class("-panes")
        self.panes = not shown
        self._fit(self.size.width, self.size.height)
        if self.panes:
            self._paint_details()
            self._paint_ranking()

    @property
    def memory_tree(self) -> MemoryTree:
        return self.query_one(MemoryTree)

    @property
    def verdicts(self) -> VerdictsTable:
        return self.query_one(VerdictsTable)

    def on_mount(self) -> None:
        self._take_theme()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._retheme())
        self.note_kills(self.sample)
        self.pacer.adopt()  # the sample opened on was made before the screen: out of the collector's sight
        self.call_after_refresh(self._first_paint)  # once the screen has its size
        for warning in self.feed.warnings:
            self.notify(printable(warning, limit=300), markup=False)
        if self.feed.live:
            self.refresh_timer = self.set_interval(self.interval, self.tick, name="refresh")
            self.kills.add_sample(self.sample)
        if self.kills.following:
            self.kill_timer = self.set_interval(KILL_POLL_SECONDS, self.poll_kills, name="kills")
        self.memory_tree.focus()

    def on_unmount(self) -> None:
        self.pacer.close()
        self.kills.close()  # journalctl is our child: it stops with the screen

    def _take_theme(self) -> None:
        self.palette = Palette.from_theme(self.app.theme_variables)
        self.memory_tree.palette = self.palette
        self.verdicts.palette = self.palette

    def _retheme(self) -> None:
        self._take_theme()
        self.memory_tree.relabel_all()
        self._paint()

    # -- refresh loop ---------------------------------------------------------------------

    @guarded
    def tick(self) -> None:
        """Timer: start a sample unless paused, a dialog is open (nothing moves under it), or the last
        one is still being made: a host too busy to sample every interval gets fewer samples, not
        more threads collecting at once. A sample counts from the moment it is asked for: on a loaded
        host its thread may not have started by the next tick, and a second one would cancel it."""
        if self.paused or self.app.screen is not self:
            return
        if not any(w.group == "collect" and not w.is_finished for w in self.app.workers):
            self.collect()

    @work(thread=True, exclusive=True, group="collect", exit_on_error=False)
    def collect(self) -> None:
        """A sample, and whether the decisions shown stand for it: that check walks every process, so it
        runs here rather than on the UI thread, against what the screen showed when it began."""
        feed = self.feed
        with self.collecting, self.pacer.sampling():  # a refresh asked for meanwhile (r, a kill) waits
            sample = feed.fetch()
            if (path := self.details_path) is not None:  # what the details of the cgroup shown sum, summed here
                sample.subtree_footprint(path)
            carried = None
            if (previous := self.evaluation) is not None:
                edits, domain = self.edits, self.domain
                carried = evaluation.Carried(previous, edits, domain,
                                             evaluation.carry(previous, sample.with_replaced({}, {}, WhatIf()),
                                                              edits, domain))
        self.post_message(SampleFetched(sample, feed, carried))

    @guarded
    def on_sample_fetched(self, message: SampleFetched) -> None:
        if message.feed is not self.feed:
            return
        if self.app.screen is not self:
            self.pending = message.sample
            return
        self.take_sample(message.sample, message.carried)

    def take_sample(self, sample: Snapshot, carried: evaluation.Carried | None = None) -> None:
        if sample.oom_event is not None:  # an OOM event: look at it where it happened, on the kill
            self.domain = opening_domain(sample)
            self.show_kill = sample.oom_event.killed_pid
        self.pacer.retire(self.sample, *self.kills.samples)  # the one the kill watch lets go is freed in a worker
        kept = None
        if (carried is not None and not self.evaluating and not self.fresh_wanted
                and carried.previous is self.evaluation and carried.edits == self.edits
                and carried.domain == self.domain and carried.evaluation is not None):
            kept = carried.evaluation  # nothing changed since the worker looked
        self.fresh_wanted = False
        self.sample = kept.sample if kept is not None and kept.sample is not None else sample.with_replaced(
            {}, {}, WhatIf())
        self.kills.add_sample(self.sample)
        self.note_kills(self.sample)
        if kept is None:
            self.reevaluate()
            return
        self.pacer.retire(self.evaluation)
        self.evaluation = kept
        self._paint()

    @guarded
    def on_screen_resume(self) -> None:
        if self.pending is not None:
            sample, self.pending = self.pending, None
            self.take_sample(sample)

    def note_kills(self, sample: Snapshot) -> None:
        now = self.clock()
        for c in sample.cgroups:
            kills = c.events.get("oom_kill")
            if kills is None:
                continue
            seen = self.kill_counts.get(c.path)
            if seen is None:
                self.kill_counts[c.path] = (kills, float("-inf"))
            elif kills != seen[0]:
                self.kill_counts[c.path] = (kills, now)
        if len(self.kill_counts) > len(sample.cgroups):  # cgroups come and go: keep only the living
            present = {c.path for c in sample.cgroups}
            self.kill_counts = {p: v for p, v in self.kill_counts.items() if p in present}

    @guarded
    def poll_kills(self) -> None:
        """Timer: the kills printed since the last poll (a non-blocking read), each judged off the UI thread."""
        for event in self.kills.poll():
            self.judge_kill(Parcel((event, self.kills.before(event))))
        if not self.kills.following and self.kill_timer is not None:  # the followers stopped: say so
            self.kill_timer.stop()
            self._paint_status()

    @work(thread=True, group="kills", exit_on_error=False)
    def judge_kill(self, parcel: Parcel[tuple[KillEvent, Snapshot | None]]) -> None:
        self.post_message(KillJudged(verdict_for(*parcel.take())))

    @guarded
    def on_kill_judged(self, message: KillJudged) -> None:
        """A real kill: the banner, the K mark, the list and the scoreboard, and a new sample at once."""
        v = message.verdict
        self.kills.add(v)
        if not v.event.group_member:
            self.notify(killers.verdict_words(v), title="OOM kill", timeout=15, markup=False,
                        severity="information" if v.matched else "warning")
        self._paint_tree()
        self._paint_status()
        if isinstance(self.app.screen, KillsScreen):  # the list is open: the kill joins it there
            self.app.screen.show(self.kills.list_text(self.palette))
        if not self.paused and self.app.screen is self:
            self.fresh_wanted = True
            self.collect()

    def recent_kills(self) -> frozenset[str]:
        now = self.clock()
        return frozenset(p for p, (_, at) in self.kill_counts.items() if now - at < KILL_HIGHLIGHT_SECONDS)

    def reevaluate(self) -> None:
        """Run every policy again on the sample with the edits (off the UI thread).

        One evaluation runs at a time: keys pressed meanwhile only bump the
        generation, and the next run starts from the latest state when this
        one reports, so holding a key never piles up threads.
        """
        self.generation += 1
        if not self.evaluating:
            self._start_evaluation()

    def _start_evaluation(self) -> None:
        self.evaluating = True
        self.evaluate(self.generation, Parcel((self.sample, self.edits, self.domain, self.evaluation)))

    @work(thread=True, group="evaluate", exit_on_error=False)
    def evaluate(self, generation: int,
                 parcel: Parcel[tuple[Snapshot, WhatIf, str, evaluation.Evaluation | None]]) -> None:
        with self.pacer.evaluating():
            result = evaluation.run(*parcel.take())
        self.pacer.let_go()
        self.post_message(Evaluated(generation, result))

    @guarded
    def on_evaluated(self, message: Evaluated) -> None:
        self.evaluating = False
        if message.generation != self.generation:
            self._start_evaluation()
            return
        ev = message.evaluation
        self.pacer.retire(self.evaluation)
        self.evaluation = ev
        self.domain = ev.domain
        if self.policy is None or ev.decision(self.policy) is None:
            self.policy = ev.decisions[0].policy if ev.decisions else None
        self._paint()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that raised: say so, keep running."""
        error = event.worker.error
        if event.worker.group == "evaluate" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.evaluating = False
        if event.state == WorkerState.ERROR and error is not None:
            self.notify(printable(f"{type(error).__name__}: {error}", limit=300),
                        title=f"{event.worker.name} failed", severity="error", markup=False)

    # -- painting ------------------------------------------------------------------------

    def _decision(self):
        if self.evaluation is None:
            return None
        return self.evaluation.decision(self.policy)

    def _paint(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        with self.app.batch_update():
            self.verdicts.show(ev.decisions, ev.view, ev.standings)
            self._paint_tree()
            self._paint_details()
            self._paint_ranking()
            self._paint_status()

    def _first_paint(self) -> None:
        """The host first, then the policies: run beside Textual's first layout and render, they held
        the GIL for half of it, and the tree came with the verdicts (2.6 s at 50,000 processes)."""
        self._paint_waiting()  # guarded: whatever it meets, the policies run
        self.reevaluate()

    @guarded
    def _paint_waiting(self) -> None:
        """The host before the policies have run (a second or more on 50,000 processes): the tree and the
        details at once, the verdicts and the ranking saying they are coming."""
        if self.evaluation is not None:  # a sample or an edit came first and its policies have run
            return
        ev = evaluation.provisional(self.sample, self.edits, self.domain)
        with self.app.batch_update():
            self._paint_tree(ev)
            self._paint_details(ev)
            if self.has_class("-panes"):
                self.query_one("#ranking", TextPane).show(Text("Evaluating every policy…", style=self.palette.dim),
                                                          "Why")
            self._paint_status()
            self.verdicts.set_title(f"Verdicts — evaluating every policy… (domain {printable(self.domain, limit=60)})")

    def _paint_tree(self, ev: evaluation.Evaluation | None = None) -> None:
        ev = ev if ev is not None else self.evaluation
        if ev is None:
            return
        marks = evaluation.marks(ev.view, self._decision())
        if self.kills.verdicts:
            marks = replace(marks, actual=marks.actual | self.kills.killed)
        model = TreeModel.build(ev, marks, self.sort, self.needle, self.recent_kills(), self.kernel_threads,
                                self.raw_names, self.kills.ghost_processes())
        self.memory_tree.show(model)
        pid, self.show_kill = self.show_kill, None
        if pid is not None and (p := ev.view.process(pid)) is not None:
            self.memory_tree.select_key(process_key(p))

    def _paint_details(self, ev: evaluation.Evaluation | None = None) -> None:
        ev = ev if ev is not None else self.evaluation
        self.details_timer = None
        if ev is None or not self.has_class("-panes"):  # hidden panes cost nothing
            return
        self.details_painted = self.clock()
        key = self.memory_tree.selected
        self.details_path = key.path if isinstance(key, CgroupKey) else None
        if isinstance(key, CgroupKey):
            text = describe.cgroup_details(ev, key.path, self.palette)
            title = f"Details — {fmt.cut(workloads.where(ev.view, key.path), 36)}"
        else:
            text = describe.process_details(ev, key.pid, self.palette)
            p = ev.view.process(key.pid)
            title = f"Details — {key.pid} {printable(p.comm, limit=40) if p else ''}"
        self.query_one("#details", TextPane).show(text, title)

    def _paint_ranking(self) -> None:
        ev = self.evaluation
        d = self._decision()
        pane = self.query_one("#ranking", TextPane)
        if not self.has_class("-panes"):
            return
        if ev is None or d is None:
            pane.show(Text("No policy chosen."), "Ranking")
            return
        title = self.titles.get(d.policy, d.policy)
        text = describe.ranking(d, ev.view, title, self.palette)
        text.append_text(killers.standing_text(ev.standing(d.policy), self.palette))
        pane.show(text, f"Why — {printable(title, limit=40)}")

    def status_text(self) -> Text:
        """Most important first, so a narrow terminal cuts the least: mode, PAUSED, edits, domain, then the rest."""
        ev = self.evaluation
        snap = ev.view if ev is not None else self.sample
        pal = self.palette
        t = Text(" ")
        t.append(printable(self.feed.describe(), limit=80), style="bold")
        if self.actor is None:
            t.append(" (view only)" if not self.read_only else " (read-only)", style=pal.dim)
        if self.paused:
            t.append(" · PAUSED", style="bold reverse")
        n = len(whatif.diff_lines(self.sample, self.edits))
        if n:
            t.append(f" · ✎ {n} what-if edit{'s' if n != 1 else ''}", style=pal.edit)
        t.append(f" · domain {printable(self.domain, limit=60)}")
        if self.needle:
            t.append(" · filter ")
            t.append(printable(self.needle, limit=40), style="bold")
        if words := self.kills.status():
            t.append(f" · {words}", style=pal.warning if self.kills.problem or self.kills.journal_problem else "")
        t.append(f" · sort {self.sort}")
        t.append(f" · {printable(snap.host.hostname or 'unknown host', limit=40)} · {describe.when(snap.taken_at)}")
        return t

    def _paint_status(self) -> None:
        self.query_one("#status", Static).update(self.status_text(), layout=False)  # one line, always
        title = f"Verdicts — domain {printable(self.domain, limit=60)}"
        ev = self.evaluation
        if ev is not None and (age := ev.age()) is not None:
            title += f" · memory steady: decided {age:.0f} s ago"
        self.verdicts.set_title(title)

    # -- selection -------------------------------------------------------------------------

    @on(MemoryTree.SelectionChanged)
    @guarded
    def _selection_changed(self) -> None:
        """Details follow the cursor; while a key is held they wait until it rests.

        A new selection's details usually change the pane's height, and a
        layout pass re-renders the whole screen: per key on a held arrow,
        that is what made the cursor lag.
        """
        if self.details_timer is not None:
            self.details_timer.stop()
        if self.clock() - self.details_painted >= DETAILS_REST:
            self._paint_details()
        else:
            self.details_timer = self.set_timer(DETAILS_REST, self._paint_details_at_rest)

    @guarded
    def _paint_details_at_rest(self) -> None:
        """The timer's call: outside any handler, so an error here would otherwise end the app."""
        self._paint_details()

    @on(VerdictsTable.PolicyChosen)
    @guarded
    def _policy_chosen(self, message: VerdictsTable.PolicyChosen) -> None:
        if message.policy == self.policy:
            return
        self.policy = message.policy
        self._paint_tree()
        self._paint_ranking()

    def choose_policy(self, name: str) -> None:
        """Make `name` the chosen policy: its victims are marked, its reasons shown."""
        ev = self.evaluation
        if ev is None or ev.decision(name) is None:
            return
        self.verdicts.choose(name)
        if name != self.policy:
            self.policy = name
            self._paint_tree()
            self._paint_ranking()
        self.notify(f"Policy: {self.titles.get(name, name)}.", timeout=2, markup=False)

    @guarded
    def action_choose_policy(self, i: int) -> None:
        ev = self.evaluation
        if ev is not None and 0 <= i < len(ev.decisions):
            self.choose_policy(ev.decisions[i].policy)

    @guarded
    def action_next_policy(self, direction: int) -> None:
        ev = self.evaluation
        if ev is None or not ev.decisions:
            return
        names = [d.policy for d in ev.decisions]
        at = names.index(self.policy) if self.policy in names else 0
        self.choose_policy(names[(at + direction) % len(names)])

    def unsaved_edits(self) -> int:
        """What-if edits made since the snapshot was opened or last saved."""
        if self.edits == self.saved_edits:
            return 0
        return max(1, len(whatif.diff_lines(self.sample, self.edits)))

    def selected_cgroup(self, what: str) -> str | None:
        key = self.memory_tree.selected
        if isinstance(key, CgroupKey):
            return key.path
        self.notify(f"{what} applies to a cgroup: put the cursor on one.", severity="warning", markup=False)
        return None

    # -- checks ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        box = self.query_one("#filter", Input)
        # `focused`, not `has_focus`: the latter changes only when the widget handles its Focus event.
        if action == "filter":  # a "/" typed in the filter is text
            return self.focused is not box
        if action == "keep_filter":
            return self.focused is box
        if action == "clear_filter":
            return box.has_class("shown")
        if action in ("pause", "refresh_now"):
            return self.feed.live
        if action in ("step", "step_event"):
            return self.feed.steps
        return True

    def can_act(self) -> bool:
        return self.actor is not None

    def _may_act(self, action: str, what: str) -> bool:
        """Whether a dangerous key may act now; if not, say why (locked, or typed ahead)."""
        if self.actor is None:
            self.notify(f"Cannot {what}: {self.why_locked()}", severity="warning", markup=False)
            return False
        if action in DANGEROUS and self.clock() - self.calm_since < self.grace:
            self.notify(f"Ignored {what}: the key came right after leaving the filter or a dialog, "
                        "so it may have been typed ahead. Press it again.", severity="warning", markup=False)
            return False
        return True

    def settle_mode(self) -> None:
        """A mode switch (filter closed, dialog answered): keys typed ahead must not act on the host."""
        self.calm_since = self.clock()

    def why_locked(self) -> str:
        if self.read_only:
            return "oomtui runs with --read-only: it changes nothing on the host."
        if self.feed.live:
            return "no actor is available to act on the host."
        return "this is a saved snapshot, not the live host: nothing can be killed or written in the past."

    # -- view actions -------------------------------------------------------------------------

    @guarded
    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self.focused is box:
            raise SkipAction  # a "/" typed in the filter is text
        box.add_class("shown")
        # At once, not after a refresh as `focus()` would: keys typed right after `/` are already queued.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    @guarded
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self._paint_tree()
        self._paint_status()

    @guarded
    def action_keep_filter(self) -> None:
        """Enter in the filter, as the key arrives: the keys typed after it go to the tree."""
        if self.focused is not self.query_one("#filter", Input):
            raise SkipAction  # Enter elsewhere opens a cgroup or chooses a verdict
        self.settle_mode()
        self.set_focus(self.memory_tree)

    @guarded
    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.has_class("shown"):
            raise SkipAction  # Esc belongs to whatever else wants it
        box.remove_class("shown")
        box.value = ""
        self.needle = ""
        self._paint_tree()
        self._paint_status()
        self.settle_mode()
        self.set_focus(self.memory_tree)

    @guarded
    def action_cycle_sort(self) -> None:
        self.action_sort(SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)])

    @guarded
    def action_sort(self, how: str) -> None:
        self.sort = how
        self._paint_tree()
        self._paint_status()
        self.notify(f"Sorted by {how}.", timeout=2, markup=False)

    @guarded
    def action_toggle_kthreads(self) -> None:
        self.kernel_threads = not self.kernel_threads
        self._paint_tree()
        self.notify("Kernel threads shown." if self.kernel_threads else "Kernel threads hidden.", timeout=2)

    @guarded
    def action_toggle_raw_names(self) -> None:
        self.raw_names = not self.raw_names
        self._paint_tree()
        self.notify("Raw cgroup names." if self.raw_names else "Workload names (n: raw cgroup names).", timeout=2)

    @guarded
    def action_domain(self) -> None:
        ev = self.evaluation
        if ev is None:
            return
        if self.domain != ROOT:
            self.domain = ROOT
            self.notify("Domain: global (the whole host).", markup=False)
            self.reevaluate()
            return
        key = self.memory_tree.selected
        path = key.path if isinstance(key, CgroupKey) else (p.cgroup if (p := ev.view.process(key.pid)) else ROOT)
        domain = ev.view.domain_of(path) if ev.view.cgroup(path) is not None else ROOT
        if domain == ROOT:
            self.notify(f"No cgroup with a memory limit at or above {printable(path, limit=80)}: "
                        "the domain stays global.", severity="warning", markup=False)
            return
        self.domain = domain
        self.notify(f"Domain: {printable(domain, limit=80)} (its limit). Press d again for global.", markup=False)
        self.reevaluate()

    @guarded
    def action_jump_victim(self) -> None:
        ev, d = self.evaluation, self._decision()
        if ev is None or d is None:
            return
        key: NodeKey | None = None
        if d.victim_pid is not None and (p := ev.view.process(d.victim_pid)) is not None:
            key = process_key(p)
        elif d.victim_cgroup is not None:
            key = cgroup_key(d.victim_cgroup)
        if key is None:
            self.notify(f"{self.titles.get(d.policy, d.policy)} picks no victim.", markup=False)
            return
        if self.needle and not self.memory_tree.select_key(key):
            self.action_clear_filter()
        if self.memory_tree.select_key(key):
            self.memory_tree.focus()
            self._paint_details()

    @guarded
    def action_kills(self) -> None:
        self.app.push_screen(KillsScreen(self.kills.list_text(self.palette)))

    @guarded
    def action_pause(self) -> None:
        self.paused = not self.paused
        self.notify("Live refresh paused." if self.paused else "Live refresh resumed.", timeout=2)
        self._paint_status()

    @guarded
    def action_refresh_now(self) -> None:
        self.fresh_wanted = True
        self.collect()

    @guarded
    def action_step(self, direction: int) -> None:
        self.load_step(direction, "sample")

    @guarded
    def action_step_event(self, direction: int) -> None:
        self.load_step(direction, "OOM event")

    @work(thread=True, exclusive=True, group="collect", exit_on_error=False)
    def load_step(self, direction: int, what: str) -> None:
        """Recordings: load the next or previous sample or OOM event (file I/O, off the UI thread)."""
        feed = self.feed
        step = feed.step if what == "sample" else feed.step_event
        with self.pacer.sampling():
            sample = step(direction)
        if sample is None:
            where = "later" if direction > 0 else "earlier"
            self.app.call_from_thread(self.notify, f"No {where} {what} in this recording.", timeout=3)
            return
        self.post_message(SampleFetched(sample, feed))

    # -- what-if -------------------------------------------------------------------------------

    def _edit(self, new: WhatIf, what: str) -> None:
        if new == self.edits:
            self.notify(f"{what}: no change.", timeout=2, markup=False)
            return
        self.history.append(self.edits)
        self.edits = new
        self.reevaluate()

    @guarded
    def action_interdependent(self) -> None:
        path = self.selected_cgroup("Interdependent")
        if path is None or self.evaluation is None:
            return
        if (e := self.edits.cgroups.get(path)) is not None and e.interdependent is not None:
            self._edit(whatif.set_interdependent(self.edits, path, None), "interdependent")
        else:
            now = whatif.is_interdependent(self.sample, path)
            self._edit(whatif.set_interdependent(self.edits, path, not now), "interdependent")

    @guarded
    def action_bump(self, direction: int) -> None:
        """From the edits as they stand, not the last evaluation: keys pressed faster than the
        policies run must each count."""
        key = self.memory_tree.selected
        if isinstance(key, CgroupKey):
            edit = self.edits.cgroups.get(key.path)
            score = edit.score if edit is not None and edit.score is not None else 0
            self._edit(whatif.set_score(self.edits, key.path, score + direction * STEP), "score")
            return
        p = self.sample.process(key.pid)
        if p is not None:
            pedit = self.edits.processes.get(p.pid)
            adj = pedit.oom_score_adj if pedit is not None and pedit.oom_score_adj is not None else p.oom_score_adj
            self._edit(whatif.set_adj(self.edits, p.pid, adj + direction * STEP), "oom_score_adj")

    @guarded
    def action_reset(self) -> None:
        key = self.memory_tree.selected
        if isinstance(key, CgroupKey):
            self._edit(whatif.set_score(self.edits, key.path, None), "score")
        else:
            self._edit(whatif.set_adj(self.edits, key.pid, None), "oom_score_adj")

    @guarded
    def action_xattr(self, name: str) -> None:
        path = self.selected_cgroup(XATTRS.get(name, name))
        if path is None:
            return
        edit = self.edits.cgroups.get(path)
        real = self.sample.cgroup(path)
        if edit is not None and name in edit.xattrs:
            self._edit(whatif.set_xattr(self.edits, path, name, None), name)
        elif real is not None and name in real.xattrs:
            self._edit(whatif.set_xattr(self.edits, path, name, None, remove=True), name)
        else:
            self._edit(whatif.set_xattr(self.edits, path, name, "1"), name)

    @guarded
    def action_undo(self) -> None:
        if not self.history:
            self.notify("Nothing to undo.", timeout=2)
            return
        self.edits = self.history.pop()
        self.reevaluate()

    @guarded
    def action_undo_all(self) -> None:
        if self.edits.is_empty():
            self.notify("No what-if edits.", timeout=2)
            return
        self.history.append(self.edits)
        self.edits = WhatIf()
        self.notify("Every what-if edit dropped (u brings them back).", timeout=3)
        self.reevaluate()

    # -- acting --------------------------------------------------------------------------------

    def _plans(self, make: Callable[[int], KillPlan]) -> tuple[KillPlan, KillPlan] | None:
        """The kill as planned with SIGKILL, and the same with SIGTERM for the dialog's gentler answer."""
        try:
            return make(signal.SIGKILL), make(signal.SIGTERM)
        except UserError as e:
            self.notify(str(e), severity="warning", markup=False)
            return None

    @guarded
    def action_kill(self) -> None:
        ev = self.evaluation
        if ev is None or not self._may_act("kill", "kill"):
            return
        key = self.memory_tree.selected
        if isinstance(key, CgroupKey):
            path = key.path
            plans = self._plans(lambda sig: plan_cgroup_kill(ev.view, path, sig, protected_pids=self.protected))
        else:
            pid = key.pid
            if (p := ev.view.process(pid)) is None or p.start_time != key.start_time:
                self.notify(f"Process {pid} is gone (killed or exited): nothing to kill.", markup=False)
                return
            plans = self._plans(lambda sig: plan_process_kill(ev.view, pid, sig, protected_pids=self.protected))
        if plans is not None:
            self.confirm_kill(*plans)

    @guarded
    def action_execute(self) -> None:
        ev, d = self.evaluation, self._decision()
        if ev is None or d is None or not self._may_act("execute", "execute"):
            return
        if self.evaluating or ev.view.whatif != self.edits or ev.domain != self.domain:
            self.notify("The verdicts are being recomputed for your last change: press x again in a moment.",
                        severity="warning", markup=False)
            return
        plans = self._plans(lambda sig: plan_decision_kill(ev.view, d, sig, protected_pids=self.protected))
        if plans is not None:
            self.confirm_kill(*plans)

    @work(exclusive=True, group="act", exit_on_error=False)
    async def confirm_kill(self, plan: KillPlan, gentler: KillPlan) -> None:
        if not plan.targets:
            self.notify(f"Nothing to kill: {printable(plan.title, limit=200)} names no process that may die.",
                        severity="warning", markup=False)
            return
        view = self.evaluation.view if self.evaluation is not None else self.sample
        cmdlines = {t.pid: p.cmdline for t in plan.targets if (p := view.process(t.pid)) is not None}
        dialog = KillDialog(plan, gentler, grace=self.grace, clock=self.clock, cmdlines=cmdlines)
        answer = await self.app.push_screen_wait(dialog)
        self.settle_mode()
        if not answer:
            self.notify("Cancelled: nothing was killed.", markup=False)
            return
        plan = dialog.chosen
        assert self.actor is not None
        report = await asyncio.to_thread(self.actor.kill, plan)
        lines = [f"{o.pid} {printable(o.comm, limit=40)}: {printable(o.detail, limit=120)}" for o in report.outcomes]
        if len(lines) > REPORT_LINES:
            lines = [*lines[:REPORT_LINES], f"… and {len(lines) - REPORT_LINES} more"]
        self.notify("\n".join(lines) or "no processes", title=printable(report.summary, limit=120),
                    severity="information" if report.ok else "warning", timeout=15, markup=False)
        if self.feed.live:
            self.action_refresh_now()

    @guarded
    def action_apply_edits(self) -> None:
        if not self._may_act("apply_edits", "apply edits"):
            return
        writes = plan_knob_writes(self.sample, self.edits)
        if not writes:
            self.notify("Nothing to write: no edit differs from the host (cgroup scores have no kernel knob).",
                        markup=False)
            return
        self.confirm_apply(writes)

    @work(exclusive=True, group="act", exit_on_error=False)
    async def confirm_apply(self, writes: list) -> None:
        answer = await self.app.push_screen_wait(ApplyDialog(writes, grace=self.grace, clock=self.clock))
        self.settle_mode()
        if not answer:
            self.notify("Cancelled: nothing was written.", markup=False)
            return
        assert self.actor is not None
        results = await asyncio.to_thread(self.actor.apply, writes)
        done = sum(1 for r in results if r.ok)
        lines = [f"{'ok' if r.ok else 'FAILED'}: {printable(r.write.description, limit=120)}"
                 + ("" if r.ok else f" ({printable(r.detail, limit=120)})") for r in results]
        self.notify("\n".join(lines[:REPORT_LINES]), title=f"{done} of {len(results)} writes made",
                    severity="information" if done == len(results) else "warning", timeout=15, markup=False)
        self.drop_written(results)
        if self.feed.live:
            self.action_refresh_now()

    def drop_written(self, results: list[KnobResult]) -> None:
        """An edit now true on the host is no longer a what-if; failed writes stay as edits."""
        edits = self.edits
        for r in results:
            w = r.write
            if not r.ok:
                continue
            if w.kind == "oom_score_adj" and w.pid is not None:
                edits = whatif.set_adj(edits, w.pid, None)
            elif w.kind == "oom_group" and w.cgroup is not None:
                edits = whatif.set_interdependent(edits, w.cgroup, None)
            elif w.kind == "xattr" and w.cgroup is not None and w.name is not None:
                edits = whatif.set_xattr(edits, w.cgroup, w.name, None)
        if edits != self.edits:
            self.history.append(self.edits)
            self.edits = edits
            self.reevaluate()

    # -- clipboard -------------------------------------------------------------------------------

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        self.copy_elsewhere(text)
        self.notify(f"Copied {what}: {printable(text, limit=80)}", timeout=3, markup=False)

    @work(thread=True, exclusive=True, group="clipboard", exit_on_error=False)
    def copy_elsewhere(self, text: str) -> None:
        """A desktop clipboard too, where a clipboard program exists (pyperclip raises elsewhere)."""
        try:
            import pyperclip

            pyperclip.copy(text)
        except Exception:  # no display or no clipboard program: OSC 52 above already did the job
            return

    @guarded
    def action_copy(self) -> None:
        key = self.memory_tree.selected
        if isinstance(key, CgroupKey):
            self._copy(key.path, "cgroup path")
        else:
            self._copy(str(key.pid), "pid")

    @guarded
    def action_copy_explanation(self) -> None:
        ev, d = self.evaluation, self._decision()
        if ev is None or d is None:
            return
        self._copy(describe.explanation(d, ev.view, self.titles.get(d.policy, d.policy)),
                   f"the {d.policy} verdict's explanation")

    # -- files -----------------------------------------------------------------------------------

    @work(exclusive=True, group="files", exit_on_error=False)
    async def action_open(self) -> None:
        path = await self.app.push_screen_wait(
            PathPrompt("Open a snapshot", "A snapshot file (.json or .json.gz). The live view stops."))
        if not path:
            return
        try:
            feed = await asyncio.to_thread(self._open_feed, Path(path).expanduser())
        except (SnapshotError, UserError, OSError) as e:
            self.notify(str(e), title="Cannot open", severity="error", markup=False)
            return
        self.switch_feed(feed)

    def _open_feed(self, path: Path) -> Feed:
        """In a thread: a file's first sample is made as a live one is, out of the collector's sight."""
        with self.pacer.sampling():
            return open_feed(path)

    def switch_feed(self, feed: Feed) -> None:
        """A loaded snapshot has no actor: nothing can be killed in the past."""
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
            self.refresh_timer = None
        self.feed = feed
        self.actor = None
        self.history.clear()
        self.domain = ROOT
        self.pending = None
        self.kill_counts.clear()
        self.edits = feed.first.whatif
        self.saved_edits = self.edits
        self.domain = opening_domain(feed.first)
        self.take_sample(feed.first)
        self.app.refresh_bindings()
        for warning in feed.warnings:
            self.notify(printable(warning, limit=300), markup=False)
        self.notify(f"Opened {printable(feed.describe(), limit=100)}.", markup=False)

    @work(exclusive=True, group="files", exit_on_error=False)
    async def action_save(self) -> None:
        snap = self.sample
        default = f"oomtui-{snap.host.hostname or 'host'}-{int(snap.taken_at or 0)}.json.gz"
        path = await self.app.push_screen_wait(
            PathPrompt("Save the snapshot", "File name (.json.gz compresses); the what-if edits are saved with it.",
                       printable(default, limit=100)))
        if not path:
            return
        try:
            await asyncio.to_thread(save, snap.replace(whatif=self.edits), Path(path).expanduser())
        except OSError as e:
            self.notify(f"{path}: {e.strerror or e}", title="Not saved", severity="error", markup=False)
            return
        self.saved_edits = self.edits
        n = len(whatif.diff_lines(self.sample, self.edits))
        self.notify(f"Saved {len(snap.cgroups)} cgroups, {len(snap.processes)} processes and {n} edits to {path}.",
                    markup=False)
