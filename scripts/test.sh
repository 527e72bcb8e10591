#!/usr/bin/env bash
# Install oomtui with its test extras into .venv and run the whole test suite.
# Also fetches what the tests use from outside Python: Debian's earlyoom
# binary (unpacked, never installed) for the oracle test, and tmux for the
# end-to-end terminal test, where the machine lacks it and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
bash scripts/fetch-earlyoom.sh >/dev/null
if ! command -v tmux >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -q tmux || { apt-get update -q && apt-get install -y -q tmux; }) >/dev/null 2>&1 || true
fi
exec .venv/bin/python -m pytest "$@"
