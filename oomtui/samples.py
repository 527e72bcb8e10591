"""Where the bundled sample snapshots are, for `oomtui --demo` and for tests.

The samples live in the repository's snapshots/ folder beside the package,
so a source checkout and an editable install find them where they are
committed, with no copy to keep in step; a wheel installs the same files
under <prefix>/share/oomtui/snapshots.
"""

from __future__ import annotations

import sys
from pathlib import Path

from oomtui.errors import UserError

DEFAULT = "k8s-node-v2"
SUFFIXES = (".json.gz", ".json")


def sample_dir() -> Path:
    checkout = Path(__file__).resolve().parent.parent / "snapshots"
    installed = Path(sys.prefix) / "share" / "oomtui" / "snapshots"
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


def _stem(path: Path) -> str:
    return next(path.name[: -len(s)] for s in SUFFIXES if path.name.endswith(s))


def list_samples() -> list[Path]:
    """Every snapshot file in the samples folder, by name; empty when the folder is missing."""
    folder = sample_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(SUFFIXES))


def demo_path(name: str | None = None) -> Path:
    """The sample called `name` (with or without its suffix); the Kubernetes node by default."""
    wanted = name or DEFAULT
    samples = list_samples()
    for path in samples:
        if wanted in (path.name, _stem(path)):
            return path
    if not samples:
        raise UserError(f"no bundled samples in {sample_dir()}: reinstall oomtui or run it from a source checkout")
    raise UserError(f"no sample named {wanted!r}; bundled: {', '.join(_stem(p) for p in samples)}")
