#!/usr/bin/env bash
# Builds the release tarball sluice-<version>-linux-<arch>.tar.gz: the `sluice` binary with the
# Swift runtime (standard library, Foundation, Dispatch) linked in statically
# (--static-swift-stdlib), so it runs without a Swift toolchain; JavaScriptCore, CPython, SQLite
# and libseccomp stay shared system libraries, which the tarball's install.sh installs
# (scripts/install-runtime.sh). Beside the binary: README.md, docs/, the shipped transformations/
# and libraries/, and Benchmarks/ (sluice bench's own workload). Worker processes are the same
# binary (`sluice worker`, found through /proc/self/exe), so it runs from wherever it is unpacked.
# The Dockerfile builds its image with this script; scripts/test-package.sh tests its output.
#
#   scripts/package.sh [--debug] [--output DIR]    # prints the tarball's path last (default DIR: dist)
#
# --debug packages a debug build instead of a release build: the same steps, minutes instead of a
# ~13-minute release build on 2 cores (CI uses it, reusing the tests' debug build; see
# docs/install.md). Needs the build dependencies (scripts/install-dependencies.sh --build).
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
output=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) configuration=debug; shift ;;
    --output) output="${2:?--output needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option $1 (try --debug, --output DIR or --help)" >&2; exit 2 ;;
  esac
done

# A build folder of its own: objects compiled for the dynamic runtime (a plain `swift build`) link
# against it without the static Foundation's dependencies (CoreFoundation), and SwiftPM does not
# always recompile them when only --static-swift-stdlib changes — so nothing is shared with .build.
flags=(-c "$configuration" --static-swift-stdlib --scratch-path .build/static)
echo "== swift build ${flags[*]}" >&2
swift build "${flags[@]}" --product sluice >&2
binary="$(swift build "${flags[@]}" --show-bin-path)/sluice"

# A binary that still needs the toolchain's libraries would only run where Swift is installed.
if readelf -d "$binary" | grep -E 'NEEDED.*\[(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime)' >&2; then
  echo "package.sh: $binary links the Swift runtime dynamically (above); --static-swift-stdlib did not take" >&2
  exit 1
fi

version="$("$binary" --version)"
name="sluice-$version-linux-$(uname -m)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
folder="$stage/$name"
mkdir -p "$folder/Benchmarks"
cp "$binary" "$folder/sluice"
# Without DWARF the release binary is ~118 MB instead of ~188 MB (a 40 MB tarball instead of 58);
# symbols stay, so crash backtraces still name functions (not source lines).
strip --strip-debug "$folder/sluice"
cp scripts/install-runtime.sh "$folder/install.sh"
cp -R README.md docs transformations libraries "$folder/"
cp -R Benchmarks/workload Benchmarks/python_plain_loop.py Benchmarks/node-vm-run.mjs "$folder/Benchmarks/"
# Nothing a local run left behind (registries, recordings) goes into the tarball.
find "$folder" -name .sluice -prune -exec rm -rf {} +
chmod 755 "$folder/sluice" "$folder/install.sh"

mkdir -p "$output"
tar -C "$stage" -czf "$output/$name.tar.gz" "$name"
echo "== $(du -h "$output/$name.tar.gz" | cut -f1) $output/$name.tar.gz" >&2
echo "$output/$name.tar.gz"
