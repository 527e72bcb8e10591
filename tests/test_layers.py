"""The design's layering: pure logic never imports Textual (checked in a fresh interpreter)."""

import subprocess
import sys

PURE = [
    "oomtui.model", "oomtui.snapshot", "oomtui.collect", "oomtui.policies.registry", "oomtui.oomlog",
    "oomtui.act", "oomtui.whatif", "oomtui.evaluate", "oomtui.record", "oomtui.cli",
    "oomtui.inforce", "oomtui.verdict",
    "oomtui.metrics.exporter", "oomtui.metrics.output", "oomtui.collect.remote", "oomtui.act.remote",
]


def test_pure_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for m in {PURE!r}:\n"
        "    importlib.import_module(m)\n"
        "from oomtui.policies.registry import policies\n"
        "policies()\n"
        "from oomtui.cli import build_parser\n"
        "build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
