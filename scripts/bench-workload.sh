# Sourced by the HTTP benchmarks: prepare_workload WORKLOAD BENCH_DIR WORK_DIR makes the bench's
# WORKLOAD.js a hosted transformation in WORK_DIR/transformations, a 200-event /customTransform
# request in WORK_DIR/request.json (../shared/bench/gen_events.py, seed 1) and WORK_DIR/post.lua,
# a wrk script that posts it and prints
#   RESULT <events/s> <p50 ms> <p99 ms> <max ms> <non-2xx responses>
# A WORKLOAD ending in .py (cleanup.py) is the Python twin, hosted as cleanup-py.
prepare_workload() {
  local workload=$1 bench=$2 work=$3 file=$1.js
  if [[ "$workload" == *.py ]]; then file=$workload; workload="${workload%.py}-py"; fi
  mkdir -p "$work/transformations/$workload"
  cp "$bench/workloads/$file" "$work/transformations/$workload/transform.${file##*.}"
  python3 "$bench/gen_events.py" --count 200 --seed 1 --format customTransform --version-id "$workload" > "$work/request.json"
  cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Feature-Filter-Code"] = "?1"
local f = io.open("$work/request.json", "rb"); wrk.body = f:read("*a"); f:close()
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6) * 200,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, summary.errors.status))
end
LUA
}

# CPU ticks (user + system) of a process and its children (the service and its workers).
service_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] && total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
  done
  echo "$total"
}

# measure_service BINARY ISOLATION PORT WORK_DIR BENCH_DIR CONNECTIONS SECONDS: starts BINARY's
# `sluice serve` (2 workers, a store of its own per port) on the prepared workload, warms it up
# for 3 s, measures for SECONDS and prints "<events/s> <CPU µs per event>" of the whole service.
measure_service() {
  local binary=$1 isolation=$2 port=$3 work=$4 bench=$5 connections=$6 seconds=$7 server rate errors before after
  SLUICE_ISOLATION=$isolation "$binary" serve --host 127.0.0.1 --port "$port" --workers 2 \
    --transformations "$work/transformations" --libraries "$bench/libraries" --store "$work/store-$port.sqlite" 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 600); do grep -q "listening on" "$work/serve.log" && break; kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  grep -q "listening on" "$work/serve.log" || { echo "$binary ($isolation): the service did not start (port $port):" >&2; cat "$work/serve.log" >&2; exit 1; }
  wrk -t1 -c"$connections" -d3s -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" >/dev/null
  before=$(service_ticks "$server")
  read -r _ rate _ _ _ errors <<< "$(wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$port/customTransform" | grep '^RESULT')"
  after=$(service_ticks "$server")
  kill "$server"; wait "$server" 2>/dev/null || true
  [ "$errors" = 0 ] || { echo "$binary ($isolation): $errors non-2xx responses" >&2; exit 1; }
  echo "$rate $(python3 -c "print(f'{($after - $before) / $(getconf CLK_TCK) * 1e6 / ($rate * $seconds):.1f}')")"
}
