#!/usr/bin/env bash
# Compares `sluice run` end to end (file in, NDJSON out) with the same job done by Node.js's vm
# module (Benchmarks/node-vm-run.mjs), both arming the default 4000 ms time limit per event.
#
#   scripts/bench-run-vs-node.sh [WORKLOAD] [EVENTS]      # defaults: cleanup 100000
#
# Needs node on PATH and the reference workload in ../shared/bench (or $SLUICE_BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

workload="${1:-cleanup}"
events="${2:-100000}"
bench="${SLUICE_BENCH_DIR:-../shared/bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

swift build -c release >/dev/null
python3 "$bench/gen_events.py" --count "$events" --seed 1 > "$work/events.ndjson"
echo "workload $workload, $events events ($(du -h "$work/events.ndjson" | cut -f1))"

seconds() { # seconds COMMAND...: wall time of the command, best of 3
  local best=""
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/out.ndjson"
    end=$(date +%s.%N)
    best=$(python3 -c "a='$best'; b=$end-$start; print(b if a == '' else min(float(a), b))")
  done
  echo "$best"
}

sluice_s=$(seconds .build/release/sluice run "$bench/workloads/$workload.js" --libraries "$bench/libraries" --input "$work/events.ndjson" --quiet)
sluice_lines=$(wc -l < "$work/out.ndjson")
node_s=$(seconds node Benchmarks/node-vm-run.mjs "$bench/workloads/$workload.js" "$work/events.ndjson" --libraries "$bench/libraries")
node_lines=$(wc -l < "$work/out.ndjson")

python3 - "$events" "$sluice_s" "$node_s" "$sluice_lines" "$node_lines" <<'PY'
import sys
events, sluice, node = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"sluice run : {sluice:6.2f} s  {events / sluice:9.0f} events/s  ({sys.argv[4]} lines)")
print(f"node vm    : {node:6.2f} s  {events / node:9.0f} events/s  ({sys.argv[5]} lines)")
print(f"sluice is {node / sluice:.1f}x the speed of node vm")
PY
