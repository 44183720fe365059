#!/usr/bin/env bash
# A load-balanced Sluice cluster on one machine, under load, while it changes.
#
# Starts PostgreSQL (scripts/start-test-postgres.sh, or SLUICE_TEST_POSTGRES_URL), three
# `sluice serve` replicas on loopback ports sharing that store, and nginx (Debian's, installed
# when missing) in front of them with deploy/nginx/sluice.conf (its replica addresses and port
# filled in). Publishes a transformation through the native API and measures throughput through
# the balancer with one replica behind it, then with three. Then drives scripts/load-client.py
# (rudder-server-like: batches of 200, retries with back-off) for a fixed number of events while
# it publishes a new version through one replica, starts a shadow run, SIGKILLs another replica
# and restarts it, and stops the shadow. Prints events sent, answered, lost, answered twice with
# different results, the version mix per second, p99 through the balancer, throughput and CPU per
# event with 1 and 3 replicas. Exit status 1 when an event was lost, an event was answered twice
# with different results, or the replicas did not all end up serving the new version.
#
#   scripts/cluster-check.sh [--binary PATH] [--events N] [--speed-events N] [--workers N]
#
# --binary (or SLUICE_BIN): the sluice to run, default .build/debug/sluice. --events: events of
# the main run (60000). --speed-events: events of each throughput run (10000). --workers: worker
# processes per replica (1, so that 3 replicas are 3 workers: on a 2-core machine 1 → 3 replicas
# can at most double throughput). Needs root or sudo to install nginx/PostgreSQL when missing.
# Everything listens on 127.0.0.1 and everything started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

binary=${SLUICE_BIN:-.build/debug/sluice}
events=60000
speed_events=10000
workers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --speed-events) speed_events=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    *) echo "cluster-check: unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
case "$binary" in /*) ;; *) binary="$repo/$binary" ;; esac
[ -x "$binary" ] || { echo "cluster-check: no sluice binary at $binary (build it, or pass --binary / SLUICE_BIN)" >&2; exit 2; }

say() { printf 'cluster-check: %s\n' "$*"; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

# nginx from Debian. (Its package starts the system service on port 80 where services may start;
# this check never uses that one: it runs its own nginx below.)
nginx_bin=$(command -v nginx || true)
[ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
  say "installing nginx (Debian)"
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx >&2
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
fi

# The instrument first: the load client's own tests, against a scripted server.
say "scripts/load-client.py's tests (Tests/Scripts)"
python3 -m unittest discover -q --start-directory Tests/Scripts --pattern 'test_*.py' </dev/null

postgres_url=${SLUICE_TEST_POSTGRES_URL:-$(scripts/start-test-postgres.sh)}

tmp=$(mktemp -d /tmp/sluice-cluster.XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/empty" "$tmp/nginx-temp"
declare -a pids=() ports=()
nginx_pid=""
load_pid=""

cleanup() {
  local status=$?
  set +e
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null
  # a graceful stop of each server (it ends its workers), then whatever is left of each replica's
  # process group (setsid: the server and its workers)
  for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 30); do
    alive=0
    for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null; done
  [ -n "$nginx_pid" ] && kill -KILL "$nginx_pid" 2>/dev/null
  if [ "$status" -ne 0 ]; then
    for log in "$tmp"/replica-*.log "$tmp"/nginx-error.log; do
      [ -s "$log" ] && { echo "--- last lines of $log"; tail -n 20 "$log"; }
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
EOF
}
read -r -a ports <<<"$(free_ports 5)"
balancer_port=${ports[3]}
single_port=${ports[4]}

start_replica() {
  local i=$1
  INSTANCE_ID="replica-$((i + 1))" setsid "$binary" serve --host 127.0.0.1 --port "${ports[$i]}" \
    --store "$postgres_url" --transformations "$tmp/empty" --libraries "$tmp/empty" \
    --workers "$workers" --log-level notice </dev/null >>"$tmp/replica-$((i + 1)).log" 2>&1 &
  pids[$i]=$!
  disown "$!"   # killed on purpose below: no job-control notice
}

wait_healthy() {
  local url=$1 what=$2
  for _ in $(seq 1 200); do
    curl -sf -m 5 -o /dev/null "$url/health" && return 0
    sleep 0.1
  done
  say "$what did not answer GET /health within 20 s"
  return 1
}

start_started=$(date +%s.%N)
for i in 0 1 2; do start_replica "$i"; done
for i in 0 1 2; do wait_healthy "http://127.0.0.1:${ports[$i]}" "replica-$((i + 1))"; done
say "3 replicas up in $(python3 -c "import time; print(f'{time.time() - $start_started:.1f}')") s on ports ${ports[*]:0:3} ($workers worker(s) each), store $(echo "$postgres_url" | sed 's#//[^@]*@#//…@#')"

# nginx: deploy/nginx/sluice.conf, with the replicas and the port filled in, twice: the
# balancer in front of all three, and one in front of replica-1 alone (for the 1-replica figure).
python3 - "$repo/deploy/nginx/sluice.conf" "$tmp" "$balancer_port" "$single_port" "${ports[0]}" "${ports[1]}" "${ports[2]}" <<'EOF'
import re, sys
source, tmp, balancer, single, *replicas = sys.argv[1:]
text = open(source).read()
server_line = re.compile(r"^(\s*)server\s+\S+:\d+(\s[^;]*)?;\n", re.M)
listen_line = re.compile(r"^(\s*)listen\s+\d+;", re.M)
if len(server_line.findall(text)) != 3 or len(listen_line.findall(text)) != 1:
    sys.exit(f"cluster-check: {source} no longer has the three upstream `server host:port …;` lines and one `listen port;` this check fills in")

def render(name, port, upstreams):
    lines = iter(upstreams)
    def server(match):
        upstream = next(lines, None)
        return "" if upstream is None else f"{match.group(1)}server 127.0.0.1:{upstream}{match.group(2) or ''};\n"
    out = server_line.sub(server, text)
    out = listen_line.sub(lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", out)
    out = out.replace("upstream sluice {", f"upstream {name} {{").replace("http://sluice;", f"http://{name};")
    return out

with open(f"{tmp}/nginx.conf", "w") as conf:
    user = "user nobody nogroup;\n" if __import__("os").getuid() == 0 else ""
    conf.write(f"""daemon off;
{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$status|$request_uri|$upstream_addr|$upstream_status|$request_time';
    access_log {tmp}/nginx-access.log upstreams;
    client_body_temp_path {tmp}/nginx-temp/body;
    proxy_temp_path {tmp}/nginx-temp/proxy;
    fastcgi_temp_path {tmp}/nginx-temp/fastcgi;
    uwsgi_temp_path {tmp}/nginx-temp/uwsgi;
    scgi_temp_path {tmp}/nginx-temp/scgi;
    include {tmp}/sluice-3.conf;
    include {tmp}/sluice-1.conf;
}}
""")
open(f"{tmp}/sluice-3.conf", "w").write(render("sluice", balancer, replicas))
open(f"{tmp}/sluice-1.conf", "w").write(render("sluice_one", single, replicas[:1]))
EOF
if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$tmp/nginx-temp"; fi
"$nginx_bin" -t -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" >"$tmp/nginx-test.log" 2>&1 \
  || { cat "$tmp/nginx-test.log"; say "nginx refuses the generated configuration"; exit 1; }
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" </dev/null >/dev/null 2>&1 &
nginx_pid=$!
disown "$nginx_pid"
balancer="http://127.0.0.1:$balancer_port"
wait_healthy "$balancer" "nginx"
wait_healthy "http://127.0.0.1:$single_port" "nginx (1 replica)"
say "nginx $("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///') on 127.0.0.1:$balancer_port (3 replicas) and :$single_port (replica-1 alone)"

# The transformation: a cleanup of the reference events that stamps its version into every
# output (`transformedBy`), which is how the load client sees which version answered.
name="cluster-check-$(date +%s)-$$"
code() {
  cat <<EOF
const VERSION = "$1";
function snake(text) { return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_"); }
export function transformEvent(event, metadata) {
  const traits = event.context && event.context.traits;
  if (traits && traits.email) traits.email = traits.email.replace(/^(.)[^@]*@/, "\$1***@");
  if (traits) delete traits.phone;
  if (event.type === "track" && event.event) event.event = snake(event.event);
  event.context = Object.assign({}, event.context, { sourceId: metadata(event).sourceId });
  event.transformedBy = VERSION;
  return event;
}
EOF
}
v1=$(python3 -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "language": "javascript", "code": sys.stdin.read()}))' "$name" < <(code v1) \
  | curl -sf -X POST "$balancer/v1/transformations" --data-binary @- | python3 -c 'import json, sys; print(json.load(sys.stdin)["liveVersion"])')
say "published $name v1 ($v1) through the balancer"

load() { python3 scripts/load-client.py --url "$1" --version-id "$name" --version-field output.transformedBy "${@:2}"; }

# Throughput: 1 replica, then 3, through nginx. CPU per event from /proc of the replicas'
# processes (servers and workers).
load "$balancer" --events 2000 --senders 6 --seed 7 --quiet --check   # every worker compiles v1
all_pids=$(IFS=,; echo "${pids[*]}")
load "http://127.0.0.1:$single_port" --events "$speed_events" --senders 6 --seed 8 --quiet --check \
  --cpu-pids "${pids[0]}" --json "$tmp/speed-1.json"
load "$balancer" --events "$speed_events" --senders 6 --seed 9 --quiet --check \
  --cpu-pids "$all_pids" --json "$tmp/speed-3.json"

# The main run, in the background; the steps below wait for its progress.
load "$balancer" --events "$events" --senders 8 --seed 1 --repeat-share 0.05 \
  --progress "$tmp/progress.json" --json "$tmp/main.json" >"$tmp/main.txt" 2>&1 &
load_pid=$!
# Times of the steps are on the load client's clock (its first send is 0 s), as its per-second
# version mix is.
since() {
  python3 - "$tmp/progress.json" <<'PY'
import json, sys, time
try:
    started = json.load(open(sys.argv[1]))["started"]
    print(f"{time.time() - started:5.1f}")
except (OSError, ValueError, KeyError):
    print("    ?")
PY
}
wait_for() {   # wait_for FRACTION: until that share of the events is answered
  while kill -0 "$load_pid" 2>/dev/null; do
    if [ -s "$tmp/progress.json" ] && python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); sys.exit(0 if p.get("done") or p["answered"] >= float(sys.argv[2]) * p["sent"] else 1)' "$tmp/progress.json" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
}
declare -a steps=()
step() { steps+=("$(since)s  $*"); say "$(since)s  $*"; }

wait_for 0.2
v2=$(code v2 | curl -sf -X PUT "http://127.0.0.1:${ports[1]}/v1/transformations/$name/code" \
  -H 'Content-Type: text/plain' --data-binary @- | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
step "published v2 ($v2) through replica-2"

# Shadow step (issue 16, part 2): a shadow of v1 beside the live v2, started through replica-1.
# Skipped with a note while the route does not exist (404).
shadow_started=0
shadow_stop=""
wait_for 0.3
shadow_status=$(curl -s -o "$tmp/shadow.json" -w '%{http_code}' -X POST "http://127.0.0.1:${ports[0]}/v1/transformations/$name/shadow" \
  -H 'Content-Type: application/json' --data-binary "{\"candidate\": \"$v1\", \"sampleRate\": 0.5}")
case "$shadow_status" in
  2*) shadow_started=1; step "shadow of v1 started through replica-1 (HTTP $shadow_status)" ;;
  *) step "shadow NOT started: HTTP $shadow_status $(head -c 300 "$tmp/shadow.json")" ;;
esac

wait_for 0.45
killed_pid=${pids[2]}
workers_of_killed=$(pgrep -P "$killed_pid" | tr '\n' ' ' || true)
kill -KILL "$killed_pid"
step "SIGKILLed replica-3 (pid $killed_pid; its worker processes: ${workers_of_killed:-none})"
sleep 1
left=""
for pid in $workers_of_killed; do   # alive and not a zombie waiting for its new parent to reap it
  state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
  case "$state" in ""|Z*) ;; *) left="$left $pid" ;; esac
done
if [ -n "$left" ]; then
  step "WARNING: replica-3's worker processes$left still run 1 s after their server was killed"
else
  step "replica-3's worker processes ended with their server"
fi
kill -KILL -- "-$killed_pid" 2>/dev/null || true   # whatever is left of its process group
sleep 1
restart_began=$(date +%s.%N)
start_replica 2
wait_healthy "http://127.0.0.1:${ports[2]}" "replica-3 (restarted)"
step "restarted replica-3 (pid ${pids[2]}), healthy after $(python3 -c "import time; print(f'{time.time() - $restart_began:.1f}')") s"

wait_for 0.75
if [ "$shadow_started" -eq 1 ]; then
  code=$(curl -s -o "$tmp/shadow-report.json" -w '%{http_code}' "http://127.0.0.1:${ports[0]}/v1/transformations/$name/shadow")
  step "shadow report (HTTP $code): $(head -c 400 "$tmp/shadow-report.json")"
fi

load_status=0
wait "$load_pid" || load_status=$?
load_pid=""
step "load finished (load client exit status $load_status)"

# Under the full load above the shadow finds no spare capacity and skips what it samples (as it
# must: live traffic first). A quiet stretch — one sender straight to replica-1 — leaves its
# worker idle between batches, so the candidate runs and is compared; then the shadow stops.
if [ "$shadow_started" -eq 1 ]; then
  load "http://127.0.0.1:${ports[0]}" --events 2000 --senders 1 --json "$tmp/quiet.json" > "$tmp/quiet.txt" 2>&1 \
    || step "quiet stretch through replica-1: load client failed ($(tail -c 300 "$tmp/quiet.txt"))"
  shadow_stop=$(curl -s -o "$tmp/shadow-final.json" -w '%{http_code}' -X DELETE "http://127.0.0.1:${ports[0]}/v1/transformations/$name/shadow")
  step "shadow stopped after a quiet stretch of 2,000 events through replica-1 (HTTP $shadow_stop)"
fi

echo
cat "$tmp/main.txt"
echo "steps of the main run:"
printf '  %s\n' "${steps[@]}"
echo
python3 - "$tmp" "$workers" "$v1" "$v2" "$load_status" "$shadow_started" "$shadow_stop" <<'EOF' || exit 1
import json, os, sys
tmp, workers, v1, v2, load_status = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
shadow_started, shadow_stop = sys.argv[6] == "1", sys.argv[7]
main = json.load(open(f"{tmp}/main.json"))
one = json.load(open(f"{tmp}/speed-1.json"))
three = json.load(open(f"{tmp}/speed-3.json"))
retried_by_nginx = 0     # requests nginx passed to more than one replica (`$upstream_addr` lists each)
with open(f"{tmp}/nginx-access.log") as log:
    for line in log:
        parts = line.rstrip("\n").split("|")
        if len(parts) == 5 and parts[1] == "/customTransform" and "," in parts[2]:
            retried_by_nginx += 1
buckets = main["versions_per_second"]
first_v2 = next((b["second"] for b in buckets if "v2" in b["versions"]), None)
last_v1 = max((b["second"] for b in buckets if "v1" in b["versions"]), default=None)
final = buckets[-1]["versions"] if buckets else {}
cores = os.cpu_count()
ratio = three["events_per_second"] / one["events_per_second"] if one["events_per_second"] else 0

print("cluster-check summary")
print(f"  events sent                               {main['sent']}")
print(f"  answered                                  {main['answered']}")
print(f"  lost                                      {main['lost']}")
print(f"  answered twice with different results     {main['answered_twice_different']}  ({main['repeats']['events']} events sent twice)")
print(f"  requests by the client                    {main['requests']} ({', '.join(f'{k}: {v}' for k, v in main['attempt_outcomes'].items())}); {main['events_retried']} events needed a retry")
print(f"  requests nginx moved to another replica   {retried_by_nginx}")
print(f"  p99 through the balancer                  {main['latency_ms']['p99']:.1f} ms per event (p50 {main['latency_ms']['p50']:.1f} ms, max {main['latency_ms']['max']:.1f} ms)")
print(f"  version switch                            v2 first answered at {first_v2}s, v1 last at {last_v1}s; last second: {final}")
print(f"  answered by                               {main['replicas']}")
print(f"  throughput, main run (3 replicas, changes) {main['events_per_second']:.0f} events/s")
print(f"  throughput, 1 replica  ({workers} worker)        {one['events_per_second']:.0f} events/s, {one['service_cpu_us_per_event']:.0f} µs CPU per event, p99 {one['latency_ms']['p99']:.1f} ms")
print(f"  throughput, 3 replicas ({3 * workers} workers)       {three['events_per_second']:.0f} events/s, {three['service_cpu_us_per_event']:.0f} µs CPU per event, p99 {three['latency_ms']['p99']:.1f} ms")
print(f"  3 / 1 replicas                            {ratio:.2f}x on {cores} cores (bounded by the cores: the load client and nginx share them)")
failures = []
# The shadow of v1 beside the live v2, on replica-1: started, stopped, comparing at least in the
# quiet stretch, every sampled batch accounted for (compared, skipped, failed, or the one still
# running when it stopped), and compared
# events differing in `transformedBy` only.
shadow = None
if shadow_started and shadow_stop == "200":
    shadow = json.load(open(f"{tmp}/shadow-final.json"))
    batches, events = shadow["batches"], shadow["events"]
    top = shadow["paths"][0]["path"] if shadow["paths"] else "none"
    print(f"  shadow (v1 beside live v2, replica-1)     {batches['seen']} batches seen, {batches['sampled']} sampled, {batches['compared']} compared, "
          f"{batches['skipped']} skipped {shadow['skipped']}, {batches['failed']} failed; events {events}; most changed: {top}")
    if batches["compared"] == 0:
        failures.append("the shadow compared no batch, not even in the quiet stretch")
    # One candidate batch may still be running when DELETE stops the shadow (its result is
    # discarded): at most one, never more.
    if batches["compared"] + batches["skipped"] + batches["failed"] + batches["running"] != batches["sampled"] or batches["running"] > 1:
        failures.append(f"the shadow's sampled batches are not all accounted for: {batches}")
    if events["compared"] and (events["changed"] != events["compared"] or top != "$[*].output.transformedBy"):
        failures.append(f"v1 beside v2 should change every compared event's transformedBy only: {events}, paths {shadow['paths']}")
else:
    failures.append(f"the shadow run did not start and stop (started: {shadow_started}, DELETE: HTTP {shadow_stop or 'not sent'})")
if main["lost"]:
    failures.append(f"{main['lost']} events lost")
if main["answered_twice_different"]:
    failures.append(f"{main['answered_twice_different']} events answered twice with different results: {main['repeats']['examples']}")
if set(final) != {"v2"}:
    failures.append(f"the last second of the run was not answered by v2 alone: {final}")
if load_status not in (0,):
    failures.append(f"the load client exited with status {load_status}")
for failure in failures:
    print(f"  FAILED: {failure}")
if failures:
    sys.exit(1)
print("  OK")
EOF
