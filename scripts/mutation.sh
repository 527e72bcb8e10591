#!/usr/bin/env bash
# Mutation testing of the code that decides who dies and what reaches the screen.
#
# Installs mutmut (the `mutation` extra) into .venv, runs it on the modules
# configured in pyproject.toml ([tool.mutmut]) and writes the score per module
# and every surviving mutant to the report. A full run takes hours on one
# core, so CI does not run it.
#
#   bash scripts/mutation.sh                      # every configured module
#   bash scripts/mutation.sh 'oomtui.act.kill*'   # some modules (mutmut names, globs allowed)
#   SAMPLE=45 bash scripts/mutation.sh            # a fixed random sample of 45 mutants per module
#   SAMPLE=60 SEED=7 bash scripts/mutation.sh     # another sample: a fresh seed after writing tests for the last one's survivors
#   QUICK=1 bash scripts/mutation.sh              # each mutant first meets only the tests under a second, then its
#                                                 # survivors meet every test (needs the stats of an earlier run)
#
# SAMPLE needs the mutants made by an earlier run (any run makes all of them
# first; interrupt it once the mutants are counted). Environment: JOBS
# (parallel mutants, default 1: the machine is shared), REPORT (default
# tests/mutation/report.md). Results are kept in mutants/, so a second run
# only retries what changed or was not tried; `rm -rf mutants` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-1}"
REPORT="${REPORT:-tests/mutation/report.md}"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test,mutation]'
bash scripts/fetch-earlyoom.sh >/dev/null || true
if [ -n "${SAMPLE:-}" ]; then
  names="$(mktemp)"
  trap 'rm -f "$names"' EXIT
  .venv/bin/python scripts/mutation_report.py --sample "$SAMPLE" "${SEED:-2026}" >"$names"
  # mutmut imports oomtui from mutants/, ahead of the editable install.
  xargs -a "$names" .venv/bin/mutmut run --max-children "$JOBS" || true
  .venv/bin/python scripts/mutation_report.py "$REPORT" "$names"
elif [ -n "${QUICK:-}" ] && [ -f mutants/mutmut-stats.json ]; then
  # 62 tests of about 1,900 take 88 % of the suite's time (real cgroups, subprocesses, Prometheus); a
  # mutant most tests kill dies in the quick ones, and one that lives is tried again with all of them.
  slow="$PWD/mutants/slow-tests.txt" todo="$(mktemp)" alive="$(mktemp)"
  trap 'rm -f "$todo" "$alive"' EXIT
  .venv/bin/python scripts/mutation_report.py --slow-tests 1.0 >"$slow"
  .venv/bin/python scripts/mutation_report.py --unsettled >"$todo"  # this run's mutants: the second try is for them
  OOMTUI_MUTATION_SLOW_TESTS="$slow" .venv/bin/mutmut run --max-children "$JOBS" "$@" || true
  .venv/bin/python scripts/mutation_report.py --unsettled "$todo" | grep -v '^$' >"$alive" || true
  if [ -s "$alive" ]; then
    xargs -a "$alive" .venv/bin/mutmut run --max-children "$JOBS" || true
  fi
  .venv/bin/python scripts/mutation_report.py "$REPORT"
else
  .venv/bin/mutmut run --max-children "$JOBS" "$@" || true
  .venv/bin/python scripts/mutation_report.py "$REPORT"
fi
echo "report: $REPORT"
