"""Command palette entries, "area: verb", each running one of the main screen's actions.

They are offered only where the screen's `check_action` allows the action,
so the palette never lists a kill in a loaded snapshot.
"""

from __future__ import annotations

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("tree: filter", "filter", "Show only matching cgroups and processes"),
    ("tree: clear filter", "clear_filter", "Show everything again"),
    ("tree: sort by memory", "sort('memory')", "Largest first"),
    ("tree: sort by badness", "sort('badness')", "The kernel's badness, highest first"),
    ("tree: sort by name", "sort('name')", "Alphabetical"),
    ("tree: show or hide kernel threads", "toggle_kthreads", "They are never OOM victims; hidden at first"),
    ("tree: jump to the victim", "jump_victim", "Cursor to the chosen policy's victim"),
    ("domain: toggle selected limited cgroup / global", "domain", "Which cgroup runs out of memory"),
    ("what-if: toggle interdependent", "interdependent", "memory.oom.group on the selected cgroup"),
    ("what-if: raise score or adj", "bump(1)", "+100 on the cgroup score or process oom_score_adj"),
    ("what-if: lower score or adj", "bump(-1)", "-100 on the cgroup score or process oom_score_adj"),
    ("what-if: reset score or adj", "reset", "Drop the selection's score or adj edit"),
    ("what-if: toggle oomd prefer", "xattr('trusted.oomd_prefer')", "trusted.oomd_prefer on the cgroup"),
    ("what-if: toggle oomd avoid", "xattr('trusted.oomd_avoid')", "trusted.oomd_avoid on the cgroup"),
    ("what-if: toggle systemd-oomd avoid", "xattr('user.oomd_avoid')", "user.oomd_avoid on the cgroup"),
    ("what-if: toggle systemd-oomd omit", "xattr('user.oomd_omit')", "user.oomd_omit on the cgroup"),
    ("what-if: undo", "undo", "Undo the last edit"),
    ("what-if: undo all", "undo_all", "Drop every edit"),
    ("what-if: apply edits to the live kernel", "apply_edits", "Lists each write and asks first"),
    ("kill: selected process or cgroup", "kill", "Asks first, naming every process"),
    ("kill: carry out the chosen policy's decision", "execute", "Asks first, naming every process"),
    ("refresh: pause or resume", "pause", "Stop or resume the live refresh"),
    ("refresh: now", "refresh_now", "Take a sample now"),
    ("recording: next sample", "step(1)", "The next sample of the recording"),
    ("recording: previous sample", "step(-1)", "The previous sample"),
    ("recording: next OOM event", "step_event(1)", "The next sample with an OOM kill"),
    ("recording: previous OOM event", "step_event(-1)", "The previous sample with an OOM kill"),
    ("copy: selection's path or pid", "copy", "To the clipboard"),
    ("copy: verdict explanation", "copy_explanation", "The chosen policy's reason and ranking"),
    ("file: open snapshot", "open", "Open a snapshot file"),
    ("file: save snapshot", "save", "Save the sample with the what-if edits"),
)


def action_name(action: str) -> str:
    return action.split("(", 1)[0]
