#!/usr/bin/env bash
# Throughput of this build's `sluice serve` against another sluice binary (an earlier commit's
# release build), both with user code in worker processes, measured as alternating pairs: this
# machine's speed drifts by tens of percent over minutes, so pairs taken back to back share the
# drift and the median of their ratios is the figure. Used for "what did this change cost"
# (e.g. progress reporting and the hardened drivers of issue 11).
#
#   scripts/bench-compare.sh BASELINE_SLUICE [PAIRS] [SECONDS] [WORKLOAD] [CONNECTIONS]   # defaults: 7 8 cleanup 8
#
# WORKLOAD is a file name stem in ../shared/bench/workloads (cleanup, identity, enrich, …; add .py
# for the Python twin). Each run: a fresh `sluice serve` (2 workers), a 3 s warm-up, then wrk
# posting 200-event /customTransform requests for SECONDS. Printed per run: events/s and CPU time
# per event of the whole service (server plus workers, from /proc); then each pair's ratio
# (this build / baseline) and the median. Needs wrk and the reference workload in ../shared/bench.
set -euo pipefail
cd "$(dirname "$0")/.."

baseline="$(realpath "${1:?usage: scripts/bench-compare.sh BASELINE_SLUICE [PAIRS] [SECONDS] [WORKLOAD] [CONNECTIONS]}")"
pairs="${2:-7}"
seconds="${3:-8}"
workload="${4:-cleanup}"
connections="${5:-8}"
bench="$(cd "${SLUICE_BENCH_DIR:-../shared/bench}" && pwd)"
port="${SLUICE_BENCH_PORT:-19093}"
work="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
trap 'rm -rf "$work"' EXIT

swift build -c release >/dev/null
current="$(pwd)/.build/release/sluice"
source scripts/bench-workload.sh
prepare_workload "$workload" "$bench" "$work"

# One run of a binary (a port and a store of its own per run): "events/s cpu-µs-per-event".
run() { measure_service "$1" processes "$2" "$work" "$bench" "$connections" "$seconds"; }

echo "workload $workload, 200-event requests, wrk c$connections, ${seconds}s per run, $pairs alternating pairs"
echo "baseline: $baseline"
echo "pair   baseline ev/s (µs/ev)   this build ev/s (µs/ev)   ratio"
ratios=()
for pair in $(seq "$pairs"); do
  if (( pair % 2 )); then
    read -r old old_cpu <<< "$(run "$baseline" $((port + 2 * pair)))"; read -r new new_cpu <<< "$(run "$current" $((port + 2 * pair + 1)))"
  else
    read -r new new_cpu <<< "$(run "$current" $((port + 2 * pair + 1)))"; read -r old old_cpu <<< "$(run "$baseline" $((port + 2 * pair)))"
  fi
  ratio=$(python3 -c "print(f'{$new / $old:.3f}')")
  ratios+=("$ratio")
  printf "%4s   %13s (%5s)   %15s (%5s)   %s\n" "$pair" "$old" "$old_cpu" "$new" "$new_cpu" "$ratio"
done
python3 -c "
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
m = statistics.median(r)
print(f'median ratio {m:.3f} (min {r[0]:.3f}, max {r[-1]:.3f}): this build is {abs(1 - m) * 100:.1f}% {\"below\" if m < 1 else \"above\"} the baseline')
" "${ratios[@]}"
