"""Write mutmut's results as a Markdown report: the score per module and every mutant left alive.

Run from the repository root after `mutmut run` (scripts/mutation.sh does
both). Each surviving mutant is shown with its changed lines and, when
tests/mutation/equivalent.toml explains why no test can kill it, that reason;
every other survivor is listed as missing a test.
"""

from __future__ import annotations

import fnmatch
import json
import random
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

RUN_NOTES = Path("tests/mutation/notes.md")  # hand-kept: how the last runs went, appended to the report
NOTES = Path("tests/mutation/equivalent.toml")  # [equivalent] and [unmeasured]: mutant name (or glob) = why
MODULES = (  # report rows: a mutant belongs to the first prefix it starts with
    ("oomtui.policies.", "oomtui/policies/"),
    ("oomtui.act.", "oomtui/act/"),
    ("oomtui.snapshot.", "oomtui/snapshot.py"),
    ("oomtui.oomlog.parse.", "oomtui/oomlog/parse.py"),
    ("oomtui.text.", "oomtui/text.py"),
)
KILLED = ("killed", "timeout", "caught by type check")
ALIVE = ("survived", "no tests", "suspicious", "segfault", "skipped")


def module_of(name: str) -> str:
    return next((row for prefix, row in MODULES if name.startswith(prefix)), "other")


def changed_lines(diff: str) -> str:
    """The mutated line(s) of a unified diff, old and new, trimmed to one short line each."""
    out = [line[0] + " " + line[1:].strip() for line in diff.splitlines()
           if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " / ".join(s if len(s) < 110 else s[:107] + "…" for s in out)


def verdict(name: str, notes: dict[str, dict[str, str]]) -> str:
    """Why a live mutant is alive: equivalent, out of mutmut's reach, or (by default) missing a test."""
    for kind, label in (("equivalent", "equivalent"), ("unmeasured", "not measurable by mutmut")):
        table = notes.get(kind, {})
        why = table.get(name) or next((w for pat, w in table.items() if fnmatch.fnmatchcase(name, pat)), None)
        if why:
            return f"{label}: {why}"
    return "missing a test"


def results() -> tuple[dict[str, str], dict[str, Path]]:
    """Every mutant's status and source file, from mutmut's files under mutants/."""
    status: dict[str, str] = {}
    path_of: dict[str, Path] = {}
    for path in walk_mutatable_files():
        m = SourceFileMutationData(path=path)
        m.load()
        for name, code in m.exit_code_by_key.items():
            status[name] = status_by_exit_code[code]
            path_of[name] = path
    return status, path_of


def sample(per_module: int, seed: int = 2026) -> list[str]:
    """A fixed random sample of mutant names per module: a score estimate in a fraction of the time."""
    status, _ = results()
    rng = random.Random(seed)
    out: list[str] = []
    for _, row in MODULES:
        names = sorted(n for n in status if module_of(n) == row)
        out += rng.sample(names, min(per_module, len(names)))
    return out


def slow_tests(seconds: float) -> list[str]:
    """The tests a stats pass timed at over `seconds`: the ones a quick run leaves to a mutant's second try."""
    durations = json.loads(Path("mutants/mutmut-stats.json").read_text())["duration_by_test"]
    return sorted(name for name, took in durations.items() if took > seconds)


def unsettled(among: set[str] | None = None) -> list[str]:
    """Mutants not yet tried, or alive (survived, or met no test): among `among` when given.

    Cheapest first (the time of the tests each meets, from the stats pass), as mutmut orders its
    own run, so a run stopped early has settled as many as it could.
    """
    status, _ = results()
    stats = json.loads(Path("mutants/mutmut-stats.json").read_text())
    durations, tests = stats["duration_by_test"], stats["tests_by_mangled_function_name"]

    def cost(name: str) -> float:
        return sum(durations.get(t, 0.0) for t in tests.get(name.rsplit("__mutmut_", 1)[0], ()))

    alive = [n for n, s in status.items()
             if s in ("not checked", "survived", "no tests") and (among is None or n in among)]
    return sorted(alive, key=lambda n: (cost(n), n))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """A sampled score's 95 % interval: how far a sample's score may sit from the full run's."""
    p, d = k / n, 1 + z * z / n
    mid, half = (p + z * z / (2 * n)) / d, z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return max(0.0, mid - half), min(1.0, mid + half)


def main(report: Path, only: set[str] | None = None) -> None:
    notes = tomllib.loads(NOTES.read_text()) if NOTES.exists() else {}
    status, path_of = results()
    if only is not None:
        status = {n: s for n, s in status.items() if n in only}
    counts: dict[str, Counter] = defaultdict(Counter)
    for name, s in status.items():
        kind = verdict(name, notes).split(":")[0] if s in ALIVE else s
        counts[module_of(name)][kind if kind in ("equivalent", "not measurable by mutmut") else s] += 1
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    scope = (f" On a fixed random sample of {len(status)} mutants (SAMPLE per module), not all of them;"
             " the interval is the score's 95 % Wilson interval for the module."
             if only is not None else "")
    lines = [
        "# Mutation testing report",
        "",
        f"Written by `scripts/mutation.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit},"
        f" mutmut {version('mutmut')}. Score = killed (a test failed or timed out) / (mutants tried − equivalent"
        " − not measurable); \"no tests\" means no selected test reaches the function, and counts as alive."
        + scope,
        "",
        "| module | mutants | tried | killed | survived | no tests | equivalent | not measurable | not tried yet"
        " | score |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, row in (*MODULES, ("", "other")):
        c = counts.get(row)
        if not c:
            continue
        killed, alive = sum(c[s] for s in KILLED), sum(c[s] for s in ALIVE)
        set_aside = c["equivalent"] + c["not measurable by mutmut"]
        tried, counted = killed + alive + set_aside, killed + alive
        score = f"{100 * killed / counted:.1f} %" if counted else "—"
        if only is not None and counted:
            low, high = wilson(killed, counted)
            score += f" ({100 * low:.0f}–{100 * high:.0f} %)"
        lines.append(f"| {row} | {sum(c.values())} | {tried} | {killed} | {c['survived']} | {c['no tests']}"
                     f" | {c['equivalent']} | {c['not measurable by mutmut']} | {c['not checked']} | {score} |")
    if RUN_NOTES.exists():
        lines += ["", RUN_NOTES.read_text().strip()]
    lines += ["", "## Mutants left alive", "",
              "Equivalent ones say why no input the file formats allow can tell them apart; \"not measurable\""
              " ones are code mutmut cannot switch per test (run once at import, before any mutant is chosen);"
              " the rest are missing a test. See a mutant whole with `.venv/bin/mutmut show NAME`.", ""]
    for row in sorted({module_of(n) for n, s in status.items() if s in ALIVE}):
        lines += [f"### {row}", ""]
        for name in sorted(n for n, s in status.items() if s in ALIVE and module_of(n) == row):
            diff = changed_lines(get_diff_for_mutant(name, path=path_of[name]))
            lines.append(f"- `{name}` ({status[name]}; {verdict(name, notes)}): `{diff}`")
        lines.append("")
    report.write_text("\n".join(lines).rstrip() + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--sample":  # --sample N [SEED]: print the sample's names, one a line
        print("\n".join(sample(int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))))
    elif sys.argv[1] == "--slow-tests":  # --slow-tests SECONDS: the slow tests' pytest node ids, one a line
        print("\n".join(slow_tests(float(sys.argv[2]))))
    elif sys.argv[1] == "--unsettled":  # --unsettled [NAMES_FILE]: mutants not tried or alive, one a line
        among = set(Path(sys.argv[2]).read_text().split()) if len(sys.argv) > 2 else None
        print("\n".join(unsettled(among)))
    else:  # REPORT [NAMES_FILE]: the report, on the named mutants only when a file is given
        names = set(Path(sys.argv[2]).read_text().split()) if len(sys.argv) > 2 else None
        main(Path(sys.argv[1]), names)
