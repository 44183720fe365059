#!/usr/bin/env bash
# Tests a release tarball as a user gets it: unpacks it in a fresh folder outside the clone, runs
# its install.sh, checks that the binary carries the Swift runtime inside and that every shared
# library it links comes from a package install.sh installs (or their dependencies), then, from
# the unpacked folder: `sluice --version`, `sluice run` on a shipped JavaScript and Python
# example (their events run in `sluice worker` processes of the unpacked binary), `sluice test`
# on them, `sluice serve` on a free loopback port (GET /health, POST /customTransform, Studio's page, SIGTERM)
# and `sluice bench` on its own workload.
#
#   scripts/test-package.sh                  # package a debug build with scripts/package.sh --debug, test it
#   scripts/test-package.sh --release        # package a release build (what ships), test it
#   scripts/test-package.sh FILE.tar.gz      # test an existing tarball
#
# CI runs the first: a debug build of the `sluice` product in .build/static (package.sh), instead
# of a ~13-minute release build on 2 cores. The
# steps are the same as for a release; only the compiler's optimisation differs (docs/install.md).
set -euo pipefail
repository="$(cd "$(dirname "$0")/.." && pwd)"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

case "${1:-}" in
  "") tarball="$("$repository/scripts/package.sh" --debug --output "$work/dist" | tail -n 1)" ;;
  --release) tarball="$("$repository/scripts/package.sh" --output "$work/dist" | tail -n 1)" ;;
  *.tar.gz) tarball="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;;
  *) fail "unknown argument $1 (none, --release or FILE.tar.gz)" ;;
esac
[ -f "$tarball" ] || fail "no tarball at $tarball"

step "unpack $(basename "$tarball") in a fresh folder"
mkdir "$work/fresh"
tar -xzf "$tarball" -C "$work/fresh"
name="$(basename "$tarball" .tar.gz)"
folder="$work/fresh/$name"
[ -d "$folder" ] || fail "the tarball does not hold one folder named $name"
cd "$folder"
# As on a machine without Swift: no toolchain on PATH, no library path.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH
for path in sluice install.sh README.md docs/install.md docs/cli.md transformations/mask-pii/transform.js \
            transformations/mask-pii-py/transform.py libraries/hashing.js libraries/hashing.py Benchmarks/workload/workloads; do
  [ -e "$path" ] || fail "$name has no $path"
done

step "install.sh: the runtime packages"
./install.sh

step "the Swift runtime is inside the binary; every shared library it links is installed by install.sh"
if readelf -d sluice | grep -E 'NEEDED.*\[(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime)'; then
  fail "sluice links the Swift runtime dynamically (above)"
fi
if ldd sluice | grep 'not found'; then fail "sluice links libraries that are not installed (above)"; fi
# Every package install.sh installs, with everything they depend on.
provided="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
  $(./install.sh --packages) | grep -v '^ ' | sed 's/:.*//' | sort -u)"
# The package that owns a shared library file (dpkg knows some by their /usr/lib path, some by /lib).
owner() {
  local path="$1" candidate
  for candidate in "$(readlink -f "$path")" "$path"; do
    dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
  done
  return 1
}
for library in $(readelf -d sluice | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
  case "$library" in ld-linux-*) continue ;; esac  # the dynamic loader, part of libc6
  path="$(ldd sluice | awk -v lib="$library" '$1 == lib { print $3 }')"
  [ -n "$path" ] || fail "ldd does not resolve $library"
  package="$(owner "$path")" || fail "no Debian package owns $path ($library)"
  grep -qx "$package" <<<"$provided" || fail "$library ($package) is linked but install.sh does not install it or a package needing it"
  echo "  $library: $package"
done

step "sluice --version"
version="$(./sluice --version)"
[ "$name" = "sluice-$version-linux-$(uname -m)" ] || fail "sluice --version says $version; the tarball is $name"

step "sluice run: a shipped JavaScript and Python example, in worker processes of the unpacked binary"
for example in mask-pii mask-pii-py; do
  ./sluice run "transformations/$example" --input "transformations/$example/tests/sample/input.ndjson" > "$work/$example.ndjson"
  [ "$(wc -l < "$work/$example.ndjson")" -eq 4 ] || fail "sluice run $example: expected 4 result lines, got: $(cat "$work/$example.ndjson")"
  grep -q emailSha256 "$work/$example.ndjson" || fail "sluice run $example: no masked e-mail in $(cat "$work/$example.ndjson")"
done

step "sluice test: the examples' snapshot cases"
./sluice test transformations/mask-pii transformations/mask-pii-py

step "sluice serve on a free loopback port"
./sluice serve --host 127.0.0.1 --port 0 --workers 1 --store "$work/registry.sqlite" 2> "$work/serve.log" &
server=$!
port=""
for _ in $(seq 1 600); do
  port="$(sed -n 's/^sluice serve: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/serve.log" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || fail "sluice serve exited: $(cat "$work/serve.log")"
  sleep 0.1
done
[ -n "$port" ] || fail "sluice serve did not say where it listens within 60 s: $(cat "$work/serve.log")"
health="$(curl -fsS "http://127.0.0.1:$port/health")" || fail "GET /health failed: $(cat "$work/serve.log")"
grep -q '"service":"UP"' <<<"$health" || fail "/health is not UP: $health"
grep -q "\"version\":\"$version\"" <<<"$health" || fail "/health does not report version $version: $health"
grep -q '"isolation":"processes"' <<<"$health" || fail "/health: user code does not run in worker processes: $health"
request='[{"message":{"type":"identify","messageId":"m1","traits":{"email":"ann@example.com"}},"metadata":{"messageId":"m1","sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"mask-pii"}]}}]'
response="$(curl -fsS "http://127.0.0.1:$port/customTransform" -H 'X-Feature-Filter-Code: ?1' -d "$request")" \
  || fail "POST /customTransform failed: $(cat "$work/serve.log")"
grep -q '"statusCode":200' <<<"$response" && grep -q emailSha256 <<<"$response" || fail "/customTransform: $response"
# Studio (on by default on loopback) ships inside the binary: the page and its modules, no files beside it.
page="$(curl -fsS "http://127.0.0.1:$port/")" || fail "GET / (Studio) failed: $(cat "$work/serve.log")"
grep -q '<title>Sluice Studio</title>' <<<"$page" || fail "GET / is not Studio's page: $page"
script="$(curl -fsS "http://127.0.0.1:$port/studio/assets/studio.js")" || fail "GET /studio/assets/studio.js failed"
grep -q 'studio/api/catalog' <<<"$script" || fail "Studio's script is not the one built in: ${script:0:200}"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || fail "sluice serve exited with status $status after SIGTERM: $(cat "$work/serve.log")"

step "sluice bench: the workload shipped with it"
SLUICE_BENCH_DIR="" ./sluice bench --events 200 --seconds 0.05 --rounds 1 --no-peers > "$work/bench.txt" 2> "$work/bench.log" \
  || fail "sluice bench: $(cat "$work/bench.log")"
grep -q "sluice bench: workload $folder/Benchmarks/workload (Sluice's own small workload" "$work/bench.log" \
  || fail "sluice bench did not name its own workload: $(cat "$work/bench.log")"

echo "test-package: $name passed"
