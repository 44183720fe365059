#!/usr/bin/env bash
# Installs the system packages Sluice builds against (Debian 12). Safe to run again: it only
# calls apt-get when something is missing. Needs root (or sudo) for apt-get.
#
#   scripts/install-dependencies.sh           # building, testing and scripts/check-drivers.sh
#   scripts/install-dependencies.sh --build   # building only (the Dockerfile's build stage)
set -euo pipefail

build_only=0
if [ "${1:-}" = "--build" ]; then build_only=1; fi

packages=(libjavascriptcoregtk-4.1-dev libpython3-dev libsqlite3-dev libseccomp-dev pkg-config python3)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "$build_only" -eq 0 ]; then
  # scripts/check-drivers.sh: node checks the JavaScript driver; pip brings pyflakes (below).
  command -v node >/dev/null || missing+=(nodejs)
  python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

# pyflakes for the python3 on PATH, from PyPI (Debian's own Python refuses pip installs unless told).
if [ "$build_only" -eq 0 ] && ! python3 -m pyflakes --version >/dev/null 2>&1; then
  echo "installing: pyflakes (PyPI)"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "pyflakes==4.1.0"
fi

for module in javascriptcoregtk-4.1 python3-embed libseccomp; do
  pkg-config --exists "$module" || { echo "$module not found by pkg-config" >&2; exit 1; }
done
command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6 toolchain required)" >&2; exit 1; }
