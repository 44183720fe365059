#!/usr/bin/env python3
"""What a poison event costs the other events of its batch, in the service (issue 11's target: at
most one worker replacement plus the guilty event's own limit).

    scripts/bench-poison.py [--sluice .build/release/sluice] [--requests 9] [--time-limit-ms 200]

Starts `sluice serve --workers 1` on the reference cleanup workload (../shared/bench) and a copy
of it that, for an event with "poison": true, leaves a loop of promise jobs running (which no
engine can interrupt in-process: the worker has to be ended). Posts the same 200-event request,
alternately clean and with event 100 poisoned, and prints the median time of each, their
difference, and that difference less the time limit: the cost of the poison beyond its own limit
(the monitor's grace, ending the worker, a spare taking its place, re-sending the unfinished
events). Every response is checked: 200, every event accounted for, and in the poisoned one exactly
one error, event 100's time-limit error.
"""
import argparse, json, os, pathlib, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

root = pathlib.Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser()
parser.add_argument("--sluice", default=str(root / ".build/release/sluice"))
parser.add_argument("--bench", default=os.environ.get("SLUICE_BENCH_DIR", str(root.parent / "shared/bench")))
parser.add_argument("--requests", type=int, default=9)
parser.add_argument("--time-limit-ms", type=int, default=200)
parser.add_argument("--port", type=int, default=19094)
args = parser.parse_args()

work = pathlib.Path(tempfile.mkdtemp())
try:
    bench = pathlib.Path(args.bench)
    cleanup = (bench / "workloads/cleanup.js").read_text()
    poisoned = re.sub(r"export\s+function\s+transformEvent", "function cleanEvent", cleanup, count=1)
    assert poisoned != cleanup, "cleanup.js no longer exports transformEvent as expected"
    poisoned += "\nexport function transformEvent(event, metadata) {\n" \
                "  if (event.poison) { (async () => { for (;;) { await 0; } })(); }\n" \
                "  return cleanEvent(event, metadata);\n}\n"
    (work / "transformations/poisoned").mkdir(parents=True)
    (work / "transformations/poisoned/transform.js").write_text(poisoned)
    request = json.loads(subprocess.run([sys.executable, str(bench / "gen_events.py"), "--count", "200", "--seed", "1",
                                         "--format", "customTransform", "--version-id", "poisoned"],
                                        check=True, capture_output=True, text=True).stdout)
    clean_body = json.dumps(request).encode()
    request[100]["message"]["poison"] = True
    poison_body = json.dumps(request).encode()

    log = open(work / "serve.log", "w")
    server = subprocess.Popen([args.sluice, "serve", "--host", "127.0.0.1", "--port", str(args.port), "--workers", "1",
                               "--time-limit-ms", str(args.time_limit_ms), "--breaker", "off",
                               "--transformations", str(work / "transformations"), "--libraries", str(bench / "libraries"),
                               "--store", str(work / "store.sqlite")], stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(300):
        if "listening on" in (work / "serve.log").read_text():
            break
        time.sleep(0.1)
    else:
        sys.exit("the service did not start:\n" + (work / "serve.log").read_text())

    def post(body):
        started = time.monotonic()
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{args.port}/customTransform", data=body, method="POST",
                                                           headers={"X-Feature-Filter-Code": "?1"}), timeout=60) as response:
            items = json.loads(response.read())
            status = response.status
        return time.monotonic() - started, status, items

    def health_ready():
        for _ in range(200):
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=10) as response:
                if '"spares":1' in response.read().decode():
                    return
            time.sleep(0.05)

    for _ in range(5):
        post(clean_body)  # warm-up: compile, JIT
    clean, poison = [], []
    for _ in range(args.requests):
        seconds, status, items = post(clean_body)
        # None failed (cleanup splits some events and drops others: 298 items).
        assert status == 200 and all(item["statusCode"] in (200, 298) for item in items), "clean request"
        clean.append(seconds)
        health_ready()  # the spare is back: each poison finds the pool as a steady service has it
        seconds, status, items = post(poison_body)
        errors = [item for item in items if item["statusCode"] == 400]
        assert status == 200 and len(errors) == 1, f"poisoned request: {status} {len(items)} {errors[:1]}"
        assert errors[0]["error"] == f"time limit of {args.time_limit_ms} ms exceeded", errors[0]
        poison.append(seconds)
    c, p = statistics.median(clean) * 1000, statistics.median(poison) * 1000
    print(f"200-event cleanup request, {args.requests} of each, time limit {args.time_limit_ms} ms, 1 worker + 1 spare")
    print(f"  clean:    median {c:8.1f} ms  (min {min(clean) * 1000:.1f}, max {max(clean) * 1000:.1f})")
    print(f"  poisoned: median {p:8.1f} ms  (min {min(poison) * 1000:.1f}, max {max(poison) * 1000:.1f})")
    print(f"  the poison cost the other 199 events {p - c:.1f} ms: its limit ({args.time_limit_ms} ms) "
          f"+ {p - c - args.time_limit_ms:.1f} ms (the monitor's 50 ms CPU grace and 10 ms sampling, ending the worker, the spare, re-sending)")
finally:
    if "server" in globals():
        server.terminate()
        server.wait(timeout=60)
    shutil.rmtree(work, ignore_errors=True)
