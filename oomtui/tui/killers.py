"""The killers in force and the real kills, in words for the TUI: a policy's standing for
the Why pane, a kill's verdict for the banner and the kill list.

Textual-free: plain `rich.text.Text`, tested as data.
"""

from __future__ import annotations

from rich.text import Text

from oomtui.inforce import Standing
from oomtui.text import printable
from oomtui.tui.palette import Palette
from oomtui.verdict import Verdict


def standing_text(standing: Standing | None, pal: Palette) -> Text:
    """Where the chosen policy stands here: in force or hypothetical, what it acts at, how far, whose settings."""
    t = Text()
    if standing is None:
        return t
    t.append("\nOn this host\n", style=pal.heading)
    if not standing.applicable:
        force = "cannot run here (the reason above)"
    else:
        force = {True: "in force: it runs here", False: "hypothetical: it does not run here",
                 None: "unknown: the snapshot did not look for the killers in force"}[standing.in_force]

    def row(name: str, value: str, style: str = "") -> None:
        t.append(f"  {name}: ", style=pal.dim)
        t.append(value + "\n", style=style)

    row("standing", force, style="" if standing.in_force and standing.applicable else pal.dim)
    if standing.acts_at is not None:
        row("acts at", printable(standing.acts_at, limit=300))
        row("distance", "acts now" if standing.acts_now else (
            "unknown" if standing.distance is None else f"{standing.distance_text()} still to be used"),
            style=pal.critical if standing.acts_now else "")
    row("settings", printable(standing.settings_source or "its defaults (no settings detected)", limit=300))
    return t


def verdict_words(v: Verdict) -> str:
    """One line for the banner and the kill list: who killed whom, and whether oomtui said so."""
    said = {True: "as predicted", False: "NOT as predicted", None: "prediction unknown"}[v.matched]
    tail = f"; predicted {printable(v.predicted, limit=120)}" if v.matched is False and v.predicted else ""
    note = f" ({printable(v.note, limit=120)})" if v.note else ""
    return f"{v.event.describe()}: {said}{tail}{note}"
