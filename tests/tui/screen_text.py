"""What the terminal shows, as text: read from the app's own SVG screenshot, not from widget internals.

Tests that check what reaches the screen (escaping, literal names) read it
here, so they hold whatever widgets draw it.
"""

from __future__ import annotations

import html
import re

from textual.app import App

_TEXT = re.compile(r'<text [^>]*?x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                   r'clip-path="url\(#terminal-\w+-line-(\d+)\)">(.*?)</text>', re.S)
CELL = 12.2  # the width of one terminal cell in Rich's SVG export


def screen_lines(app: App) -> list[str]:
    """Each row of the screen as the user sees it (trailing spaces dropped)."""
    rows: dict[int, dict[int, str]] = {}
    for x, line, chunk in _TEXT.findall(app.export_screenshot()):
        col = round(float(x) / CELL)
        row = rows.setdefault(int(line), {})
        for i, ch in enumerate(html.unescape(chunk).replace("\xa0", " ")):
            if ch != "\n":
                row[col + i] = ch
    out = []
    for n in range(max(rows, default=-1) + 1):
        cells = rows.get(n, {})
        out.append("".join(cells.get(c, " ") for c in range(max(cells, default=-1) + 1)).rstrip())
    return out


def screen_text(app: App) -> str:
    return "\n".join(screen_lines(app))
