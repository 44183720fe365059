#!/usr/bin/env bash
# Checks the engines' drivers without building Sluice: every part of each driver and the joined
# driver parse (`node --check`, `py_compile`), pyflakes finds nothing in the joined Python driver,
# every file in a Driver/ folder is joined by its DriverSource.swift, and the direct tests in
# Tests/Drivers pass. Needs node and python3 with pyflakes (scripts/install-dependencies.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

javascript=Sources/SluiceJavaScript
python=Sources/SluicePython
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The parts of a driver, in the order DriverSource.parts joins them (PackageResources.<file>_<ext>).
parts() {
  local engine="$1" extension="$2"
  grep -o "PackageResources\.[A-Za-z0-9_]*_${extension}\b" "$engine/DriverSource.swift" \
    | sed "s/^PackageResources\.//; s/_${extension}\$/.${extension}/; s#^#$engine/Driver/#"
}

# Fails when a Driver/ file is not joined (or a joined part has no file).
same_files() {
  local engine="$1" extension="$2"
  if ! diff <(parts "$engine" "$extension" | sort) <(ls "$engine"/Driver/*."$extension" | sort) >"$work/files.diff"; then
    echo "$engine/DriverSource.swift and $engine/Driver/*.$extension differ (< joined, > on disk):" >&2
    cat "$work/files.diff" >&2
    exit 1
  fi
}

# Writes the parts joined by `separator` as DriverSource.code does.
join_parts() {
  local separator="$1"; shift
  local first=1
  for file in "$@"; do
    [ "$first" -eq 1 ] || printf '%b' "$separator"
    cat "$file"
    first=0
  done
}

echo "-- JavaScript driver"
same_files "$javascript" js
mapfile -t javascript_parts < <(parts "$javascript" js)
# One function expression split over the files: the first opens it, the last closes it, so each
# part is checked inside a strict function of its own (opened on the part's first line, so that
# line numbers are the file's).
last=$(( ${#javascript_parts[@]} - 1 ))
for index in "${!javascript_parts[@]}"; do
  part="${javascript_parts[$index]}"
  {
    [ "$index" -eq 0 ] || printf '(function () { "use strict"; '
    cat "$part"
    [ "$index" -eq "$last" ] || printf '})\n'
  } > "$work/part.js"
  if ! node --check "$work/part.js" 2>"$work/check.txt"; then
    sed "s#$work/part.js#$part#" "$work/check.txt" >&2
    exit 1
  fi
done
join_parts '\n' "${javascript_parts[@]}" > "$work/driver.js"
node --check "$work/driver.js"

echo "-- Python driver"
same_files "$python" py
mapfile -t python_parts < <(parts "$python" py)
join_parts '\n\n' "${python_parts[@]}" > "$work/driver.py"
export PYTHONPYCACHEPREFIX="$work/pycache"
python3 -m py_compile "${python_parts[@]}" "$work/driver.py"
# The host puts these two names in the driver's globals before it runs. Findings are reported
# by part and line.
if ! PYFLAKES_BUILTINS=_sluice_host,_sluice_signal python3 -m pyflakes "$work/driver.py" >"$work/pyflakes.txt" 2>&1; then
  python3 - "$work/pyflakes.txt" "${python_parts[@]}" >&2 <<'REPORT'
import re, sys
report, parts = sys.argv[1], sys.argv[2:]
starts, line = [], 1
for part in parts:
    starts.append((line, part))
    line += open(part).read().count("\n") + 2  # each part ends with a line break; two more join them
for entry in open(report):
    found = re.match(r"[^:]*:(\d+):(.*)", entry.rstrip("\n"))
    if found is None:
        print(entry, end="")
        continue
    number = int(found.group(1))
    start, part = max((s, p) for s, p in starts if s <= number)
    print(f"{part}:{number - start + 1}:{found.group(2)}")
REPORT
  exit 1
fi

echo "-- direct tests"
node --test Tests/Drivers/javascript/
python3 -m unittest discover --start-directory Tests/Drivers/python --pattern 'test_*.py'
