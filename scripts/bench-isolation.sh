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

ticks_per_second=$(getconf CLK_TCK)
# CPU ticks (user + system) of a process and its children.
service_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] && total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
  done
  echo "$total"
}

# One run: prints "events/s cpu-µs-per-event".
run() {
  local isolation=$1 server rate errors before after
  SLUICE_ISOLATION=$isolation .build/release/sluice serve --host 127.0.0.1 --port "$port" \
    --transformations "$work/transformations" --libraries "$bench/libraries" 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 200); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
  grep -q "listening on" "$work/serve.log" || { echo "$isolation: the service did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
  wrk -t1 -c"$connections" -d3s -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" >/dev/null
  before=$(service_ticks "$server")
  read -r _ rate _ _ _ errors <<< "$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" | grep '^RESULT')"
  after=$(service_ticks "$server")
  kill "$server"; wait "$server" 2>/dev/null || true
  [ "$errors" = 0 ] || { echo "$isolation: $errors non-2xx responses" >&2; exit 1; }
  echo "$rate $(python3 -c "print(f'{($after - $before) / $ticks_per_second * 1e6 / ($rate * $seconds):.1f}')")"
}

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
