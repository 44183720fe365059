#!/usr/bin/env python3
"""Open-loop latency benchmark for `sluice serve`'s /customTransform.

Sends the same request body at a fixed rate, whatever the server's pace (requests are scheduled
on a clock, not after the previous answer, so a slow answer cannot hide the queueing it causes:
no coordinated omission). Latency is measured from each request's scheduled time to the end of
its response. Connections are kept alive and opened as needed (all busy → a new one).

Also reads the service's own timings from each response: X-Response-Time (time in the service,
from the request's arrival at the router to the response, receiving the body included),
X-Handling-Time (from the whole body's arrival to the response) and X-Engine-Time (time in the
engines), so the service's overhead over the engine can be reported both ways.

    python3 scripts/bench-http-latency.py --body req.json --rate 100 --seconds 20 [--port 9090]
Standard library only.
"""
import argparse
import asyncio
import json
import statistics
import sys
import time


class Connection:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    async def request(self, head, body):
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        payload = await self.reader.readexactly(length) if length else b""
        return status, headers, payload


def milliseconds(header):
    # "3.42ms" (X-Response-Time) or "3.420 ms" (X-Engine-Time, X-Handling-Time)
    try:
        return float(header.strip().removesuffix("ms").strip())
    except (AttributeError, IndexError, ValueError):
        return None


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--path", default="/customTransform")
    parser.add_argument("--body", required=True, help="request body file (e.g. from gen_events.py --format customTransform)")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2, help="seconds sent first and not measured")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()

    body = open(args.body, "rb").read()
    events = len(json.loads(body))
    head = (f"POST {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    idle = []
    opened = 0
    latencies, service, engine, handling, statuses = [], [], [], [], {}
    late = 0

    async def one(scheduled, measured):
        nonlocal opened, late
        if idle:
            connection = idle.pop()
        else:
            reader, writer = await asyncio.open_connection(args.host, args.port)
            connection = Connection(reader, writer)
            opened += 1
        if time.perf_counter() - scheduled > 0.001:
            late += 1
        status, headers, _ = await connection.request(head, body)
        done = time.perf_counter()
        idle.append(connection)
        if measured:
            latencies.append((done - scheduled) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            service_time = milliseconds(headers.get("x-response-time"))
            engine_time = milliseconds(headers.get("x-engine-time"))
            if service_time is not None:
                service.append(service_time)
            if engine_time is not None:
                engine.append(engine_time)
            handling_time = milliseconds(headers.get("x-handling-time"))
            if handling_time is not None:
                handling.append(handling_time)

    interval = 1.0 / args.rate
    total = int((args.warmup + args.seconds) * args.rate)
    warmup = int(args.warmup * args.rate)
    start = time.perf_counter() + 0.05
    tasks = []
    for index in range(total):
        scheduled = start + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, index >= warmup)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start

    latencies.sort()

    def percentile(values, fraction):
        if not values:
            return None
        return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]

    report = {
        "rate_requests_per_second": args.rate,
        "events_per_request": events,
        "offered_events_per_second": args.rate * events,
        "achieved_requests_per_second": round(total / elapsed, 1),
        "measured_requests": len(latencies),
        "connections": opened,
        "statuses": statuses,
        "sends_later_than_1ms": late,
        "latency_ms": {
            "p50": percentile(latencies, 0.50), "p90": percentile(latencies, 0.90), "p99": percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
        },
    }
    if service and engine:
        service_total, engine_total = sum(service), sum(engine)
        report["service_ms_mean"] = round(statistics.mean(service), 3)
        report["engine_ms_mean"] = round(statistics.mean(engine), 3)
        report["service_overhead_over_engine"] = round((service_total - engine_total) / engine_total, 3)
        if handling:
            report["handling_ms_mean"] = round(statistics.mean(handling), 3)
            report["handling_overhead_over_engine"] = round((sum(handling) - engine_total) / engine_total, 3)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        lat = report["latency_ms"]
        print(f"offered {args.rate:g} req/s × {events} events = {args.rate * events:,.0f} events/s for {args.seconds:g} s "
              f"(achieved {report['achieved_requests_per_second']} req/s, {opened} connections, statuses {statuses})")
        print(f"latency ms: p50 {lat['p50']:.2f}  p90 {lat['p90']:.2f}  p99 {lat['p99']:.2f}  max {lat['max']:.2f}")
        if "service_overhead_over_engine" in report:
            print(f"in the service: {report['service_ms_mean']} ms per request, of which engine {report['engine_ms_mean']} ms; "
                  f"overhead over the engine {report['service_overhead_over_engine'] * 100:.1f}%")
        if "handling_overhead_over_engine" in report:
            print(f"from the whole body's arrival: {report['handling_ms_mean']} ms per request; "
                  f"overhead over the engine {report['handling_overhead_over_engine'] * 100:.1f}% (receiving the body excluded)")
        if late:
            print(f"note: {late} sends were more than 1 ms late (the client could not keep the schedule)", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
