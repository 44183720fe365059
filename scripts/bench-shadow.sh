#!/usr/bin/env bash
# What a shadow run costs live traffic: live p99 latency of /customTransform at half the
# service's best throughput, without a shadow run and with one sampling 10 % of the batches,
# in the same run (alternating rounds, so drift on a shared machine hits both alike), and the
# ratio of the two (target ≤ 1.10).
#
#   scripts/bench-shadow.sh [WORKLOAD] [SECONDS] [ROUNDS]   # defaults: cleanup 20 3
#
# The candidate is the workload's own code with a comment added (a different version that costs
# the same and answers the same): the folder holds it first, then the workload itself, so the
# registry knows both and the workload is live. The service runs worker processes (2) as
# `sluice serve` does by default. SLUICE_BENCH_BINARY picks the binary (default: a release build);
# SHADOW_SAMPLE_RATE and SHADOW_MAX_CPU_SHARE the shadow's settings (0.1 and 0.25).
#
# Needs wrk (apt-get install -y wrk) and the reference workload in ../shared/bench (or $SLUICE_BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

workload="${1:-cleanup}"
seconds="${2:-20}"
rounds="${3:-3}"
rate_share="${SHADOW_SAMPLE_RATE:-0.1}"
cpu_share="${SHADOW_MAX_CPU_SHARE:-0.25}"
bench="$(cd "${SLUICE_BENCH_DIR:-../shared/bench}" && pwd)"
port="${SLUICE_BENCH_PORT:-19092}"
work="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
binary="${SLUICE_BENCH_BINARY:-}"
if [ -z "$binary" ]; then swift build -c release >/dev/null; binary=.build/release/sluice; fi

source scripts/bench-workload.sh
prepare_workload "$workload" "$bench" "$work"
code="$work/transformations/$workload/transform.js"
cp "$code" "$work/live.js"
printf '\n// the shadow candidate: the same code, another version\n' >> "$code"

"$binary" serve --host 127.0.0.1 --port "$port" --workers 2 --reload-interval-ms 200 --transformations "$work/transformations" \
  --libraries "$bench/libraries" --store "$work/store.sqlite" 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
candidate=$(curl -sf "localhost:$port/v1/transformations/$workload" | json_field 'd["liveVersion"]')
cp "$work/live.js" "$code"
for _ in $(seq 100); do
  live=$(curl -sf "localhost:$port/v1/transformations/$workload" | json_field 'd["liveVersion"]')
  [ "$live" != "$candidate" ] && break; sleep 0.1
done
[ "$live" != "$candidate" ] || { echo "the live version did not change" >&2; exit 1; }
echo "workload $workload: live $live, candidate $candidate; shadow sampleRate $rate_share, maxCpuShare $cpu_share"

wrk -t1 -c2 -d3s -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" >/dev/null  # warm-up
read -r _ best _ _ _ _ <<< "$(wrk -t1 -c4 -d10s -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" | grep '^RESULT')"
half=$(( best / 2 / 200 ))
echo "best throughput $best events/s (wrk, 4 connections); half load: $half requests/s of 200 events, ${seconds} s per round"

measure() {  # prints the p99 in ms of one open-loop round
  python3 scripts/bench-http-latency.py --port "$port" --body "$work/request.json" --rate "$half" --seconds "$seconds" --json \
    | json_field '"%s %s %s" % (d["latency_ms"]["p50"], d["latency_ms"]["p99"], d["statuses"])'
}
off=(); on=()
for round in $(seq "$rounds"); do
  read -r p50 p99 statuses <<< "$(measure)"; off+=("$p99")
  printf "round %d  no shadow    p50 %7.2f ms  p99 %7.2f ms  %s\n" "$round" "$p50" "$p99" "$statuses"
  curl -sf -X POST "localhost:$port/v1/transformations/$workload/shadow" \
    -d "{\"candidate\":\"$candidate\",\"sampleRate\":$rate_share,\"maxCpuShare\":$cpu_share}" >/dev/null
  read -r p50 p99 statuses <<< "$(measure)"; on+=("$p99")
  report=$(curl -sf -X DELETE "localhost:$port/v1/transformations/$workload/shadow")
  printf "round %d  with shadow  p50 %7.2f ms  p99 %7.2f ms  %s  shadow: %s\n" "$round" "$p50" "$p99" "$statuses" \
    "$(echo "$report" | json_field '"batches %s, skipped %s, events %s unchanged of %s" % (d["batches"], d["skipped"], d["events"]["unchanged"], d["events"]["compared"])')"
done
python3 - "${off[*]}" "${on[*]}" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
a, b = statistics.median(off), statistics.median(on)
print(f"live p99, median of rounds: no shadow {a:.2f} ms, with shadow {b:.2f} ms: ratio {b / a:.3f} (target <= 1.10)")
PY
