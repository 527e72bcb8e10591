"""The TUI's logic modules import without Textual, so they stay testable as plain functions."""

from __future__ import annotations

import subprocess
import sys

PURE = ("fmt", "palette", "labels", "evaluation", "tree_model", "describe", "feeds", "opening", "actions",
        "remote_feed")


def test_tui_logic_does_not_import_textual():
    imports = "; ".join(f"import oomtui.tui.{name}" for name in PURE)
    code = f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
