"""Flags, ASCII marks and the column layout: what survives a 16-colour console, NO_COLOR and 80 columns."""

from __future__ import annotations

import pytest

from oomtui.tui import fmt, labels
from oomtui.tui.app import choose_glyphs
from oomtui.tui.labels import ASCII, UNICODE, layout
from oomtui.tui.palette import Palette
from tests.tui.fixtures import small_host


@pytest.mark.parametrize("width", [60, 77, 100, 117, 157, 197, 400])
def test_layout_fits_the_width_and_keeps_the_most_useful_columns(width):
    lay = layout(width)
    used = labels.FLAGS_WIDTH + lay.name + sum(labels.COLUMNS[k].width for k in lay.columns)
    used += lay.cmd + 1 if lay.cmd else 0
    assert used <= max(width, labels.FLAGS_WIDTH + labels.NAME_MIN + 26)
    assert lay.name >= labels.NAME_MIN
    assert "memory" in lay.columns


def test_an_80_column_tree_shows_memory_limit_adj_and_badness_and_wide_ones_add_cmd():
    assert layout(77).columns == ("memory", "limit", "adj", "badness")
    assert layout(77).cmd == 0
    assert layout(157).cmd >= 30 and len(layout(157).columns) == len(labels.ORDER)


def _process_row(**kw):
    p = small_host().process(100)
    values = dict(process=p, depth=2, adj=0, adj_edited=False, badness=5, dies=False, victim=False, actual=False)
    values.update(kw)
    return labels.ProcessRow(**values)


@pytest.mark.parametrize("glyphs", [UNICODE, ASCII])
def test_flags_are_characters_at_the_start_of_the_row(glyphs):
    lay = layout(77)
    plain = labels.process_label(_process_row(), lay, glyphs, Palette()).plain
    victim = labels.process_label(_process_row(dies=True, victim=True, actual=True, adj_edited=True), lay, glyphs,
                                  Palette())
    assert plain[: labels.FLAGS_WIDTH].strip() == ""
    flags = victim.plain[: labels.FLAGS_WIDTH]
    assert glyphs.dies in flags and glyphs.actual in flags and glyphs.edited in flags
    assert any("reverse" in str(span.style) for span in victim.spans if span.start == 0), \
        "the victim's mark is reverse video, which survives 16 colours and NO_COLOR"
    if glyphs is ASCII:
        assert victim.plain.isascii()


@pytest.mark.parametrize("glyphs", [UNICODE, ASCII])
def test_a_killed_process_row_says_so_at_80_columns_struck_and_dimmed(glyphs):
    row = labels.process_label(_process_row(actual=True, gone=True, badness=None), layout(77), glyphs, Palette())
    flags, rest = row.plain[: labels.FLAGS_WIDTH], row.plain[labels.FLAGS_WIDTH:]
    assert flags.strip() == glyphs.actual and rest.rstrip().endswith("killed") and "100 postgres" in rest
    assert flags.isascii() and "killed".isascii()
    name_at = row.plain.index("100 postgres")
    assert any("strike" in str(s.style) for s in row.spans if s.start <= name_at < s.end)
    killed_at = row.plain.rindex("killed")
    styles = [str(s.style) for s in row.spans if s.start <= killed_at < s.end]
    assert styles[-1] == Palette().actual, "the word is not dimmed like the stale figures"


def test_ascii_marks_when_asked_or_on_a_console_without_unicode():
    assert choose_glyphs({"OOMTUI_ASCII": "1", "TERM": "xterm-256color"}, "utf-8") is ASCII
    assert choose_glyphs({"OOMTUI_ASCII": "0", "TERM": "linux"}, "ascii") is UNICODE
    assert choose_glyphs({"TERM": "linux"}, "utf-8") is ASCII
    assert choose_glyphs({"TERM": "xterm-256color"}, "ANSI_X3.4-1968") is ASCII
    assert choose_glyphs({"TERM": "screen"}, "UTF-8") is UNICODE


def test_names_are_cut_in_the_middle_keeping_what_tells_them_apart():
    pods = [f"kubepods-burstable-pod{uid}.slice" for uid in ("1a2b3c4d_aaaa", "9f8e7d6c_bbbb")]
    cut = [fmt.cut(p, 20) for p in pods]
    assert len(set(cut)) == 2 and all(len(c) == 20 for c in cut)
    assert all(c.endswith(p[-12:]) for c, p in zip(cut, pods, strict=True))
    assert fmt.command(("/usr/lib/jvm/java-17/bin/java", "-jar", "checkout.jar"), 28) == "…/java -jar checkout.jar"
    assert fmt.command(("/usr/bin/python3", "/srv/app/manage.py", "runserver"), 24).endswith("runserver")
    assert fmt.command(("sleep", "1"), 40) == "sleep 1"
    assert fmt.command(("evil\x1b[2J", "--x"), 40) == "evil\\x1b[2J --x", "escaped, never raw"
