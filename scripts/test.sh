#!/usr/bin/env bash
# Install oomtui with its test extras into .venv and run the whole test suite.
# Also fetches what the tests use from outside Python: Debian's earlyoom
# binary (unpacked, never installed) for the oracle test, tmux for the
# end-to-end terminal test, podman with runc and a static busybox (the
# real-container test builds its image from it: no registry is needed), and
# the engines the fleet tests drive (prometheus for promtool and the server,
# prometheus-node-exporter, openssh-server), and systemd-journal-remote (the
# journal tests write a real journal file with it), where the machine lacks
# them and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
bash scripts/fetch-earlyoom.sh >/dev/null
apt_install() {  # quietly, tolerant of failure: the tests that need it then skip with a reason
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 0
  # On a host booted with systemd a postinst starts its service (prometheus on
  # 0.0.0.0:9090, sshd on :22): a policy-rc.d answering 101 keeps it stopped.
  # The tests start their own, on 127.0.0.1.
  local made=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made=1
  fi
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || { apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; }) >/dev/null 2>&1 || true
  if [ -n "$made" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
command -v tmux >/dev/null || apt_install tmux
{ command -v podman && command -v runc && dpkg -s busybox-static; } >/dev/null 2>&1 || apt_install podman runc busybox-static
# About 23 s with apt-get update on a fresh machine.
{ command -v promtool && command -v prometheus-node-exporter && [ -x /usr/sbin/sshd ]; } >/dev/null 2>&1 ||
  apt_install prometheus prometheus-node-exporter openssh-server
# The journal tests write a real journal file (no journald runs where systemd is not PID 1).
{ command -v journalctl && { command -v systemd-journal-remote || [ -x /lib/systemd/systemd-journal-remote ]; }; } \
  >/dev/null 2>&1 || apt_install systemd-journal-remote
.venv/bin/mypy --no-error-summary oomtui  # zero errors is part of the gate
exec .venv/bin/python -m pytest "$@"
