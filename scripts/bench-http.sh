#!/usr/bin/env bash
# Load benchmark of `sluice serve`: wrk posts 200-event /customTransform requests built by
# ../shared/bench/gen_events.py --format customTransform, for the bench's `cleanup` workload
# (or another: first argument), and prints events/s and latency percentiles.
#
#   scripts/bench-http.sh [WORKLOAD] [SECONDS] [CONNECTIONS...]   # defaults: cleanup 10 "1 2 4 8"
#
# The service runs user code in worker processes (its default); SLUICE_ISOLATION=in-process
# scripts/bench-http.sh measures the in-process mode for comparison.
#
# Needs wrk (apt-get install -y wrk) and the reference workload in ../shared/bench (or $SLUICE_BENCH_DIR).
# wrk is a closed-loop client: with 1 connection there is one request at a time (the latency of a
# lone request); more connections load the service up to its throughput. wrk shares the machine's
# two cores with the service. Then scripts/bench-http-latency.py (an open-loop client) measures
# latency at half the best throughput, and the service's overhead over the engine.
set -euo pipefail
cd "$(dirname "$0")/.."

workload="${1:-cleanup}"
seconds="${2:-10}"
shift $(( $# > 2 ? 2 : $# )) || true
connections=("${@:-1 2 4 8}")
bench="$(cd "${SLUICE_BENCH_DIR:-../shared/bench}" && pwd)"
port="${SLUICE_BENCH_PORT:-19090}"
work="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

swift build -c release >/dev/null
# The workload becomes a hosted transformation named after it (the bench folder stays the source).
source scripts/bench-workload.sh
prepare_workload "$workload" "$bench" "$work"

.build/release/sluice serve --host 127.0.0.1 --port "$port" --transformations "$work/transformations" \
  --libraries "$bench/libraries" 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
# Check the answer once: 200 items with status 200.
curl -s -H 'X-Feature-Filter-Code: ?1' --data-binary @"$work/request.json" "localhost:$port/customTransform" \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); assert all(i["statusCode"] in (200, 298) for i in d), d[:2]; print(f"check: {len(d)} items for 200 events")'
wrk -t1 -c2 -d2s -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" >/dev/null  # warm-up

echo "workload $workload, 200-event requests, ${seconds}s per row"
echo "connections   events/s   p50 ms   p99 ms   max ms   non-2xx"
best=0
for c in ${connections[*]}; do
  line=$(wrk -t1 -c"$c" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" | grep '^RESULT')
  read -r _ rate p50 p99 max errors <<< "$line"
  printf "%11s %10s %8s %8s %8s %9s\n" "$c" "$rate" "$p50" "$p99" "$max" "$errors"
  if [ "$rate" -gt "$best" ]; then best=$rate; fi
done

# Latency at half the best throughput, with an open-loop client (requests sent on a schedule,
# so queueing behind a slow answer is measured, not hidden), and the service's own overhead.
half=$(( best / 2 / 200 ))
echo
echo "open loop at half the best throughput ($half requests/s, $(( half * 200 )) events/s), 20 s:"
python3 scripts/bench-http-latency.py --port "$port" --body "$work/request.json" --rate "$half" --seconds 20
