#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: Chromium for browser tests, hashdeep as the
# triage baseline, 7z to build test archives, gettext to compile translations, Noto fonts so
# that screenshots of Urdu pages show Urdu letters.
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v hashdeep >/dev/null || need+=(hashdeep)
command -v 7z >/dev/null || need+=(p7zip-full)
command -v msgfmt >/dev/null || need+=(gettext)
if command -v dpkg >/dev/null; then dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Please install: ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
