"""The TUI uses only Textual's public API, so a Textual release within the pinned major line cannot break it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
# Private members of Textual's own classes that tree widgets have reached for; any `._name` of a Textual
# object is as bad, but these are the ones a subclass of Tree, App or Screen is tempted by.
TEXTUAL_PRIVATE = (
    "_tree_lines", "_invalidate", "_children", "_nodes", "_refresh_line", "_cursor_line", "_notifications",
    "_build", "_tree_lines_cached", "_line", "_updates", "_compositor", "_driver", "_focus_timer",
    "_press_keys", "_handle_exception", "_reset_focus", "_get_node", "_render_line", "_tree",
)
ACCESS = re.compile(r"\.(" + "|".join(TEXTUAL_PRIVATE) + r")\b")


def _sources() -> list[Path]:
    return sorted([*(ROOT / "oomtui" / "tui").rglob("*.py"), *(ROOT / "tests" / "tui").rglob("*.py")])


def test_no_private_textual_member_is_used():
    found = []
    for path in _sources():
        if path.name == Path(__file__).name:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if ACCESS.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "Textual private members used:\n" + "\n".join(found)


def test_no_import_from_a_private_textual_module():
    private = re.compile(r"^\s*(from|import)\s+textual(\.\w+)*\._")
    found = [f"{p.relative_to(ROOT)}: {line.strip()}" for p in _sources()
             for line in p.read_text().splitlines() if private.match(line)]
    assert not found, "\n".join(found)


def test_the_check_itself_sees_a_private_access(tmp_path):
    assert ACCESS.search("node._children[:] = order")
    assert ACCESS.search("self._invalidate()")
    assert not ACCESS.search("self._fit()")
