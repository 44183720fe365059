#!/usr/bin/env bash
# install.sh of a Sluice release tarball (scripts/install-runtime.sh in the repository): installs
# the Debian 12 (bookworm) packages the `sluice` binary beside it needs at run time — the shared
# libraries it links (JavaScriptCore, CPython 3.11 and its standard library, SQLite, libseccomp)
# and CA certificates (fetch and the config backend over
# HTTPS). Runtime packages only: no compiler, no -dev packages. The Swift runtime is inside the
# binary. Needs root (or sudo) when something is missing; calls apt-get only then.
#
#   ./install.sh                         # install what is missing
#   ./install.sh --link /usr/local/bin   # …and put a `sluice` symlink to this folder's binary there
#   ./install.sh --packages              # print the package names and exit
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(libjavascriptcoregtk-4.1-0 libpython3.11 libsqlite3-0 libseccomp2 ca-certificates)

link=""
while [ $# -gt 0 ]; do
  case "$1" in
    --packages) printf '%s\n' "${packages[@]}"; exit 0 ;;
    --link) link="${2:?--link needs a folder, e.g. /usr/local/bin}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --link DIR, --packages or --help)" >&2; exit 2 ;;
  esac
done

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ -n "$link" ]; then
  ln -sf "$here/sluice" "$link/sluice"
  echo "linked $link/sluice -> $here/sluice"
fi

# The binary loads every library it links before it prints its version: this proves the install.
version="$("$here/sluice" --version)" || { echo "install.sh: $here/sluice does not start (see above)" >&2; exit 1; }
echo "sluice $version is ready: $here/sluice"
