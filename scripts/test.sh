#!/usr/bin/env bash
# Install oomtui with its test extras into .venv and run the whole test suite.
# Also fetches what the tests use from outside Python: Debian's earlyoom
# binary (unpacked, never installed) for the oracle test, tmux for the
# end-to-end terminal test, and podman with runc and a static busybox (the
# real-container test builds its image from it: no registry is needed), where
# the machine lacks them and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
bash scripts/fetch-earlyoom.sh >/dev/null
apt_install() {  # quietly, tolerant of failure: the tests that need it then skip with a reason
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
  (apt-get install -y -q --no-install-recommends "$@" || { apt-get update -q && apt-get install -y -q \
    --no-install-recommends "$@"; }) >/dev/null 2>&1 || true
}
command -v tmux >/dev/null || apt_install tmux
{ command -v podman && command -v runc && dpkg -s busybox-static; } >/dev/null 2>&1 || apt_install podman runc busybox-static
exec .venv/bin/python -m pytest "$@"
