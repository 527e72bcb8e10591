#!/usr/bin/env bash
# Mutation testing of the code that decides who dies and what reaches the screen.
#
# Installs mutmut (the `mutation` extra) into .venv, runs it on the modules
# configured in pyproject.toml ([tool.mutmut]) and writes the score per module
# and every surviving mutant to the report. It takes long (an hour or more for
# everything on one core), so CI does not run it.
#
#   bash scripts/mutation.sh                      # every configured module
#   bash scripts/mutation.sh 'oomtui.policies.*'  # one module (mutmut names, globs allowed)
#
# Environment: JOBS (parallel mutants, default 1: the machine is shared),
# REPORT (default tests/mutation/report.md). Results are kept in mutants/, so a
# second run only retries what changed or was not tried; `rm -rf mutants`
# starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-1}"
REPORT="${REPORT:-tests/mutation/report.md}"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test,mutation]'
bash scripts/fetch-earlyoom.sh >/dev/null || true
# mutmut imports oomtui from mutants/ before the editable install.
.venv/bin/mutmut run --max-children "$JOBS" "$@" || true
mkdir -p "$(dirname "$REPORT")"
.venv/bin/python scripts/mutation_report.py "$REPORT"
echo "report: $REPORT"
