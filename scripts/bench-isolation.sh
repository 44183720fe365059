#!/usr/bin/env bash
# Throughput of `sluice serve` with user code in worker processes (the default) against the same
# service running it in-process, measured as alternating pairs: this machine's speed drifts by
# tens of percent over minutes, so one run of each proves nothing; pairs taken back to back
# share the drift, and the median of their ratios is the figure.
#
#   scripts/bench-isolation.sh [PAIRS] [SECONDS] [WORKLOAD] [CONNECTIONS]   # defaults: 7 8 cleanup 8
#
# Each run: a fresh `sluice serve` (release build), a 3 s warm-up, then wrk posting 200-event
# /customTransform requests (from ../shared/bench/gen_events.py) for SECONDS. Printed per run:
# events/s and CPU time per event of the whole service (server process plus its workers, from
# /proc), then each pair's throughput ratio (processes / in-process) and the median.
# Needs wrk (apt-get install -y wrk) and the reference workload in ../shared/bench (or $SLUICE_BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

pairs="${1:-7}"
seconds="${2:-8}"
workload="${3:-cleanup}"
connections="${4:-8}"
bench="$(cd "${SLUICE_BENCH_DIR:-../shared/bench}" && pwd)"
port="${SLUICE_BENCH_PORT:-19092}"
work="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
trap 'rm -rf "$work"' EXIT

swift build -c release >/dev/null
# The workload becomes a hosted transformation named after it (the bench folder stays the source).
source scripts/bench-workload.sh
prepare_workload "$workload" "$bench" "$work"

# One run in an isolation mode: "events/s cpu-µs-per-event".
run() { measure_service .build/release/sluice "$1" "$port" "$work" "$bench" "$connections" "$seconds"; }

echo "workload $workload, 200-event requests, wrk c$connections, ${seconds}s per run, $pairs alternating pairs"
echo "pair   in-process ev/s (µs/ev)   processes ev/s (µs/ev)   ratio"
ratios=()
for pair in $(seq "$pairs"); do
  # Alternate which mode goes first, so a drift within a pair does not favour one side.
  if (( pair % 2 )); then
    read -r inproc inproc_cpu <<< "$(run in-process)"; read -r procs procs_cpu <<< "$(run processes)"
  else
    read -r procs procs_cpu <<< "$(run processes)"; read -r inproc inproc_cpu <<< "$(run in-process)"
  fi
  ratio=$(python3 -c "print(f'{$procs / $inproc:.3f}')")
  ratios+=("$ratio")
  printf "%4s   %15s (%5s)   %14s (%5s)   %s\n" "$pair" "$inproc" "$inproc_cpu" "$procs" "$procs_cpu" "$ratio"
done
python3 -c "
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
print(f'median ratio {statistics.median(r):.3f} (min {r[0]:.3f}, max {r[-1]:.3f}): worker processes are {(1 - statistics.median(r)) * 100:.1f}% below in-process')
" "${ratios[@]}"
