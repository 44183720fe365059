#!/usr/bin/env python3
"""How fast a publish on one replica is served by another (issue 16's target: p99 <= 100 ms).

    scripts/bench-propagation.py [--sluice .build/release/sluice] [--store postgres://...] [--publishes 50]

Starts two `sluice serve` replicas on one PostgreSQL store (--store, else $SLUICE_TEST_POSTGRES_URL,
else scripts/start-test-postgres.sh's), waits until both listen for the store's changes (/health),
creates a transformation through replica 1, then publishes a new version of it through replica 1
(PUT /v1/transformations/NAME/code) --publishes times. After each publish it runs one event
through replica 2 (POST /customTransform, VersionID = the name: the live version, as
rudder-server asks) on a kept-alive connection, again and again, until the answer comes from the
new version, and records the time from replica 1's answer to the publish (the change committed)
to replica 2's first answer from it — and from the publish's start (which adds compiling the code
on replica 1). Prints p50 / p99 / max of both, and replica 2's store state, notification count and
live digest beside replica 1's. Publishes are 50-150 ms apart (random) so each is measured alone.
A benchmark, not a test: nothing fails on a slow figure.
"""
import argparse, http.client, json, os, pathlib, random, shutil, statistics, subprocess, sys, tempfile, time, uuid

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--sluice", default=str(root / ".build/release/sluice"))
parser.add_argument("--store", default=os.environ.get("SLUICE_TEST_POSTGRES_URL"))
parser.add_argument("--publishes", type=int, default=50)
parser.add_argument("--ports", default="19101,19102")
args = parser.parse_args()
if not os.path.exists(args.sluice):
    sys.exit(f"no sluice binary at {args.sluice} (swift build -c release, or --sluice .build/debug/sluice)")
store = args.store or subprocess.run(["bash", str(root / "scripts/start-test-postgres.sh")], check=True,
                                     capture_output=True, text=True).stdout.strip()
ports = [int(port) for port in args.ports.split(",")]

work = pathlib.Path(tempfile.mkdtemp())
replicas = []
try:
    (work / "transformations").mkdir()
    for index, port in enumerate(ports):
        log = open(work / f"replica{index + 1}.log", "w")
        replicas.append(subprocess.Popen(
            [args.sluice, "serve", "--host", "127.0.0.1", "--port", str(port), "--transformations", str(work / "transformations"),
             "--libraries", str(work / "libraries"), "--store", store, "--workers", "1"], stderr=log, stdout=log))

    def request(port, method, path, body=None, headers=None, connection=None):
        own = connection is None
        connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=headers or {})
        response = connection.getresponse()
        data = response.read().decode()
        if own:
            connection.close()
        return response.status, data

    def store_status(port):
        status, body = request(port, "GET", "/health")
        return json.loads(body).get("store", {})

    deadline = time.monotonic() + 60
    while True:
        try:
            if all(store_status(port).get("state") == "listening" for port in ports):
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the replicas did not both listen for the store's changes within 60 s; logs in " + str(work))
        time.sleep(0.1)

    name = f"propagation-{uuid.uuid4().hex[:8]}"
    code = "export function transformEvent(e) { e.v = %d; return e; }"
    status, body = request(ports[0], "POST", "/v1/transformations",
                           json.dumps({"name": name, "language": "javascript", "code": code % 0}), {"Content-Type": "application/json"})
    assert status == 201, body
    event = json.dumps([{"message": {"n": 1}, "metadata": {"messageId": "m1", "sourceId": "s", "destinationId": "d"},
                         "destination": {"Transformations": [{"VersionID": name}]}}])
    reader = http.client.HTTPConnection("127.0.0.1", ports[1], timeout=10)

    def served(version):
        status, body = request(ports[1], "POST", "/customTransform", event, {"Content-Type": "application/json"}, reader)
        return status == 200 and f'"v":{version}' in body

    assert served(0), "replica 2 does not serve the first version"
    committed, started, polls = [], [], 0
    for version in range(1, args.publishes + 1):
        time.sleep(random.uniform(0.05, 0.15))
        start = time.monotonic()
        status, body = request(ports[0], "PUT", f"/v1/transformations/{name}/code", code % version, {"Content-Type": "text/plain"})
        answered = time.monotonic()
        assert status == 201, body
        while not served(version):
            polls += 1
            if time.monotonic() - answered > 10:
                sys.exit(f"replica 2 did not serve version {version} within 10 s")
        seen = time.monotonic()
        committed.append((seen - answered) * 1000)
        started.append((seen - start) * 1000)

    def figures(values):
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
        return f"p50 {statistics.median(ordered):6.1f} ms   p99 {p99:6.1f} ms   max {ordered[-1]:6.1f} ms"

    first, second = store_status(ports[0]), store_status(ports[1])
    print(f"{args.publishes} publishes through replica 1, each served by replica 2 ({polls} runs through replica 2 saw the old version)")
    print(f"  from the publish's answer (committed):  {figures(committed)}")
    print(f"  from the publish's start (+ compiling): {figures(started)}")
    print(f"replica 2's store: {second.get('state')}, {second.get('notifications')} notifications heard; "
          f"live digest {second.get('liveDigest')} (replica 1: {first.get('liveDigest')})")
finally:
    for replica in replicas:
        replica.terminate()
    for replica in replicas:
        try:
            replica.wait(timeout=30)
        except subprocess.TimeoutExpired:
            replica.kill()
    shutil.rmtree(work, ignore_errors=True)
