#!/usr/bin/env bash
# How `sluice run` scales with --jobs: the same events through one engine and through N, in
# alternating pairs (the machine's speed drifts), with each run's wall time, rate and peak RSS,
# and each pair's speed-up. Output is discarded; `--jobs` output is byte-identical (tested).
#
#   scripts/bench-jobs.sh [EVENTS] [WORKLOAD] [JOBS] [PAIRS] [ISOLATION]
#     defaults: 1000000 cleanup <cores> 2 processes      (ISOLATION: processes | in-process)
#
# Needs the reference workload in ../shared/bench (or $SLUICE_BENCH_DIR) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

events="${1:-1000000}"
workload="${2:-cleanup}"
jobs="${3:-$(nproc)}"
pairs="${4:-2}"
isolation="${5:-processes}"
bench="${SLUICE_BENCH_DIR:-../shared/bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

swift build -c release --product sluice >/dev/null
sluice=.build/release/sluice
python3 "$bench/gen_events.py" --count "$events" --seed 1 > "$work/events.ndjson"
echo "workload $workload, $events events ($(du -h "$work/events.ndjson" | cut -f1)), isolation $isolation, $(nproc) cores"

run() { # jobs → prints "seconds peak_kb"
  /usr/bin/time -f "%e %M" -o "$work/time" "$sluice" run "$bench/workloads/$workload.js" \
    --libraries "$bench/libraries" --input "$work/events.ndjson" --jobs "$1" --isolation "$isolation" \
    >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  cat "$work/time"
}
for pair in $(seq "$pairs"); do
  read -r one_s one_kb < <(run 1)
  read -r many_s many_kb < <(run "$jobs")
  awk -v e="$events" -v a="$one_s" -v b="$many_s" -v ak="$one_kb" -v bk="$many_kb" -v j="$jobs" -v p="$pair" 'BEGIN {
    printf "pair %d: --jobs 1 %.1f s (%.0f events/s, peak RSS %.0f MB) | --jobs %d %.1f s (%.0f events/s, peak RSS %.0f MB) | speed-up %.2fx\n",
      p, a, e / a, ak / 1024, j, b, e / b, bk / 1024, a / b }'
done
