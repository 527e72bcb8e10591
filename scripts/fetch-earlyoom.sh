#!/usr/bin/env bash
# Fetch Debian's earlyoom binary into .cache/earlyoom/ for the oracle tests,
# WITHOUT installing the package: installing it would enable and start a real
# killer daemon with default thresholds. Only `apt-get download` + `dpkg -x`.
# Prints the binary's path; exits 0 without it where apt cannot provide it
# (the oracle tests then skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/earlyoom
bin="$cache/root/usr/bin/earlyoom"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  echo "fetch-earlyoom: no apt-get/dpkg here; the earlyoom oracle tests will skip" >&2
  exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # apt's _apt user must be able to write the download
download() { (cd "$tmp" && apt-get download -q earlyoom) >/dev/null 2>&1; }
if ! download; then
  apt-get update -q >/dev/null 2>&1 || true
  if ! download; then
    echo "fetch-earlyoom: apt-get download earlyoom failed; the earlyoom oracle tests will skip" >&2
    exit 0
  fi
fi
deb=$(ls "$tmp"/earlyoom_*.deb | head -n 1)
rm -rf "$cache/root"
dpkg -x "$deb" "$cache/root"
basename "$deb" > "$cache/package"
echo "$bin"
