"""Every action of the main screen, once: its keys, its footer word, its help, its palette entry.

The bindings, the footer, the help screen and the command palette are all
generated from `ACTIONS`, so a key cannot be missing from one of them or
described differently in two. Textual-free, so the table is tested as data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Action:
    keys: str  # Textual key names, comma-separated; the first is shown
    action: str  # the screen's action, with its arguments
    short: str  # the footer's word
    help: str  # the help screen's and the palette's explanation
    palette: str | None = None  # "area: verb" in the command palette; None: not offered
    footer: bool = False
    display: str | None = None  # how the footer shows the first key
    dangerous: bool = False  # acts on the host: refused right after a mode switch (type-ahead)
    # Run as the key arrives, before the keys typed after it are handed to a widget: the keys that
    # open and close the filter, so that what is typed next lands where the user meant it.
    priority: bool = False

    @property
    def name(self) -> str:
        return action_name(self.action)

    @property
    def id(self) -> str:
        """Unique per entry (`sort.memory`, `bump.-1`): the binding's id, which a keymap names."""
        return self.action.replace("(", ".").replace(")", "").replace("'", "")


def action_name(action: str) -> str:
    return action.split("(", 1)[0]


ACTIONS: tuple[Action, ...] = (
    Action("slash,f3,backslash,f4", "filter", "Filter", "Show only matching cgroups and processes",
           "tree: filter", footer=True, display="/", priority=True),
    Action("enter", "keep_filter", "Keep filter", "In the filter: keep it and go back to the tree",
           priority=True),
    Action("escape", "clear_filter", "Clear filter", "Drop the filter and go back to the tree", "tree: clear filter",
           priority=True),
    Action("s,f6", "cycle_sort", "Sort", "Cycle the order: memory, badness, name", footer=True),
    Action("M", "sort('memory')", "Sort by memory", "Largest first", "tree: sort by memory"),
    Action("B", "sort('badness')", "Sort by badness", "The kernel's pick first", "tree: sort by badness"),
    Action("N", "sort('name')", "Sort by name", "Alphabetical", "tree: sort by name"),
    Action("K", "toggle_kthreads", "Kernel threads", "Show or hide kernel threads (never OOM victims)",
           "tree: show or hide kernel threads"),
    Action("n", "toggle_raw_names", "Raw names", "Name cgroups by their workload (pod, container, unit) or raw path",
           "tree: workload names or raw cgroup names"),
    Action("w", "toggle_panes", "Details", "Show or hide the Details and Why panes",
           "view: show or hide Details and Why", footer=True),
    Action("d", "domain", "Domain", "Make the selected limited cgroup the OOM domain, or go back to global",
           "domain: toggle selected limited cgroup / global", footer=True),
    Action("v", "jump_victim", "Victim", "Put the cursor on the chosen policy's victim", "tree: jump to the victim",
           footer=True),
    Action("greater_than_sign", "next_policy(1)", "Next policy", "Choose the next policy in the verdicts",
           "policy: next", display=">"),
    Action("less_than_sign", "next_policy(-1)", "Prev policy", "Choose the previous policy in the verdicts",
           "policy: previous", display="<"),
    Action("i", "interdependent", "Interdep.", "What-if: toggle interdependent (memory.oom.group) on the cgroup",
           "what-if: toggle interdependent", footer=True),
    Action("plus,equals_sign", "bump(1)", "Raise", "What-if: raise the cgroup score or the process oom_score_adj",
           "what-if: raise score or adj", footer=True, display="+"),
    Action("minus", "bump(-1)", "Lower", "What-if: lower the cgroup score or the process oom_score_adj",
           "what-if: lower score or adj", footer=True, display="-"),
    Action("0", "reset", "Reset", "What-if: drop the score or oom_score_adj edit of the selection",
           "what-if: reset score or adj"),
    Action("p", "xattr('trusted.oomd_prefer')", "oomd prefer", "What-if: toggle trusted.oomd_prefer",
           "what-if: toggle oomd prefer"),
    Action("a", "xattr('trusted.oomd_avoid')", "oomd avoid", "What-if: toggle trusted.oomd_avoid",
           "what-if: toggle oomd avoid"),
    Action("A", "xattr('user.oomd_avoid')", "systemd-oomd avoid", "What-if: toggle user.oomd_avoid",
           "what-if: toggle systemd-oomd avoid"),
    Action("O", "xattr('user.oomd_omit')", "systemd-oomd omit", "What-if: toggle user.oomd_omit",
           "what-if: toggle systemd-oomd omit"),
    Action("u", "undo", "Undo", "Undo the last what-if edit", "what-if: undo", footer=True),
    Action("U", "undo_all", "Undo all", "Drop every what-if edit", "what-if: undo all"),
    Action("W", "apply_edits", "Apply edits", "Write the what-if edits to the live kernel (asks first)",
           "what-if: apply edits to the live kernel", dangerous=True),
    Action("k,f9", "kill", "Kill", "Kill the selected process or cgroup (asks first)",
           "kill: selected process or cgroup", footer=True, dangerous=True),
    Action("x", "execute", "Execute", "Carry out the chosen policy's decision (asks first)",
           "kill: carry out the chosen policy's decision", dangerous=True),
    Action("z", "pause", "Pause", "Stop or resume the live refresh", "refresh: pause or resume", footer=True),
    Action("r,f5", "refresh_now", "Refresh", "Take a new sample now", "refresh: now"),
    Action("t", "step(1)", "Next sample", "Recording: the next sample", "recording: next sample", footer=True),
    Action("T", "step(-1)", "Prev sample", "Recording: the previous sample", "recording: previous sample",
           footer=True),
    Action("right_square_bracket", "step_event(1)", "Next OOM",
           "Recording: the next OOM event, with the sample taken just before it", "recording: next OOM event",
           footer=True, display="]"),
    Action("left_square_bracket", "step_event(-1)", "Prev OOM",
           "Recording: the previous OOM event, with the sample taken just before it",
           "recording: previous OOM event", footer=True, display="["),
    Action("l", "kills", "Kills", "The real OOM kills seen this session, each with whether oomtui predicted it",
           "kills: list the real OOM kills", footer=True),
    Action("c", "copy", "Copy", "Copy the selection's path or pid", "copy: selection's path or pid", footer=True),
    Action("e", "copy_explanation", "Copy why", "Copy the chosen verdict's explanation", "copy: verdict explanation"),
    Action("o", "open", "Open", "Open a snapshot file, a recording or a kernel log", "file: open snapshot"),
    Action("ctrl+s", "save", "Save", "Save the snapshot with the what-if edits", "file: save snapshot"),
)
DANGEROUS = frozenset(a.name for a in ACTIONS if a.dangerous)
POLICY_KEYS = "123456789"  # the n-th verdict row
