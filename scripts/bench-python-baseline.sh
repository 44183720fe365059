#!/usr/bin/env bash
# Events per second of a plain CPython loop (json.loads -> function -> json.dumps, no limits, no
# isolation) for every Python workload, on two interpreters: Debian's /usr/bin/python3 and the
# shared libpython3.11 that Sluice embeds. Compare with `sluice bench --language python`.
#
#   scripts/bench-python-baseline.sh [EVENTS]        # default 20000
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-20000}"
bench="${SLUICE_BENCH_DIR:-../shared/bench}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cc -O2 Benchmarks/python_embedded_baseline.c $(pkg-config --cflags --libs python3-embed) -o "$work/embedded"
python3 "$bench/gen_events.py" --count "$events" --seed 1 > "$work/events.ndjson"
printf "%-14s %18s %22s\n" workload "/usr/bin/python3" "embedded libpython"
for workload in "$bench"/workloads/*.py; do
  name="$(basename "$workload" .py)"
  static=$(/usr/bin/python3 Benchmarks/python_plain_loop.py "$workload" "$work/events.ndjson" "$bench/libraries" --seconds 3)
  embedded=$("$work/embedded" Benchmarks/python_plain_loop.py "$workload" "$work/events.ndjson" "$bench/libraries" --seconds 3)
  printf "%-14s %18s %22s\n" "$name" "$static" "$embedded"
done
