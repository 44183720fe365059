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
