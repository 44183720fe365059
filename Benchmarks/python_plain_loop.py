#!/usr/bin/env python3
"""The baseline for Sluice's Python overhead: the same work done by a plain CPython loop.

    python3 Benchmarks/python_plain_loop.py WORKLOAD.py EVENTS.ndjson [LIBRARIES_DIR] [--seconds S]

Reads {"message", "metadata"} envelopes (made by ../shared/bench/gen_events.py), then for each
event does json.loads -> transformEvent(event, metadata) -> json.dumps (transformBatch: per batch
of 200), with no limits, no sandbox and no isolation, and prints events per second. `sluice bench
--language python` runs it beside the embedded engine.
"""
import json
import sys
import time
import types


def load(path, libraries):
    if libraries:
        sys.path.insert(0, libraries)
    module = types.ModuleType("workload")
    with open(path) as handle:
        exec(compile(handle.read(), path, "exec"), module.__dict__)
    return module


def main():
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = 2.0
    if "--seconds" in sys.argv:
        seconds = float(sys.argv[sys.argv.index("--seconds") + 1])
        arguments = [a for a in arguments if a != sys.argv[sys.argv.index("--seconds") + 1]]
    workload, events_path = arguments[0], arguments[1]
    libraries = arguments[2] if len(arguments) > 2 else None
    module = load(workload, libraries)
    with open(events_path) as handle:
        lines = [line for line in handle.read().split("\n") if line]
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def metadata_of(items):
        table = {item["message"].get("messageId"): item["metadata"] for item in items}
        return lambda event: table.get(event.get("messageId"), {})

    def one_pass():
        if hasattr(module, "transformBatch"):
            for start in range(0, len(lines), 200):
                items = [json.loads(line) for line in lines[start:start + 200]]
                result = module.transformBatch([item["message"] for item in items], metadata_of(items))
                for event in result:
                    encode(event)
        else:
            for line in lines:
                item = json.loads(line)
                metadata = item["metadata"]
                result = module.transformEvent(item["message"], lambda event: metadata)
                if isinstance(result, list):
                    for event in result:
                        encode(event)
                elif result is not None:
                    encode(result)
                    encode(metadata)

    one_pass()
    processed, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        one_pass()
        processed += len(lines)
    print(f"{processed / (time.perf_counter() - start):.0f}")


if __name__ == "__main__":
    main()
