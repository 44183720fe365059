#!/usr/bin/env node
// node-vm-run.mjs — Node.js benchmark peer for `sluice run`.
//
// This does the same job as `sluice run` with only Node's standard library, so that the two can
// be timed against each other: it loads a RudderStack-style transformation (an ES module exporting
// `transformEvent(event, metadata)` — possibly async — or `transformBatch(events, metadata)`),
// plus the libraries it imports, into one `vm.createContext()` context, streams an NDJSON file of
// `{"message": {...}, "metadata": {...}}` envelopes through it and writes one NDJSON result line
// per output, in input order (for transformBatch: in the order the function returned them, each
// with the metadata of the input it came from, matched by identity or messageId):
//
//     {"output": <event>, "metadata": <metadata>}      one per returned object (arrays: one per element)
//     {"dropped": true, "metadata": <metadata>}        the function returned null/undefined
//     {"error": "<ErrorName>: <message>", "metadata": <metadata>}   it threw (or hit the time limit)
//
// Usage:
//     node Benchmarks/node-vm-run.mjs <transformation.js> <events.ndjson> \
//         [--libraries DIR] [--timeout-ms 4000] [--stats] > out.ndjson
//
//     python3 /work/shared/bench/gen_events.py --count 100000 --seed 1 > /tmp/ev.ndjson
//     time node Benchmarks/node-vm-run.mjs /work/shared/bench/workloads/enrich.js /tmp/ev.ndjson \
//         --libraries /work/shared/bench/libraries > /tmp/out.ndjson
//
//   --libraries DIR   where `import { a } from "name"` finds its module: DIR/name.js (default: none)
//   --timeout-ms N    wall-clock limit per call, armed for every event (every batch of 200 for
//                     transformBatch), as a production runtime would. Default 4000. 0 disables the
//                     limit, which is only useful to measure what arming it costs.
//   --stats           print events, seconds and events/second to stderr.
//   --direct          instead of the run: the direct-call peer of `sluice bench` (issue 17). The
//                     events are read into memory first; then, timed in rounds of at least
//                     --seconds each (--rounds of them, median reported), each event's text is
//                     JSON.parse-d, the function called and the result JSON.stringify-ed inside the
//                     context — nothing else (no timeout, no result lines). Prints one JSON line:
//                     {"mode":"direct","events":N,"eventsPerSecond":…,"min":…,"max":…}.
//   --floor           like --direct, but only JSON.parse + JSON.stringify of each event (V8's own
//                     JSON floor for the same events).
//   --rounds N, --seconds S   rounds and minimum seconds per round for --direct/--floor (5, 1).
//
// How it works, and where it differs from a real ES-module runtime:
//  * `vm.SourceTextModule` needs --experimental-vm-modules, so modules are turned into scripts by
//    a deliberately SIMPLE regex rewrite that covers what the benchmark files use:
//    `import { a, b as c } from "x";` (also `import * as ns`, `import d from`), `export function`,
//    `export async function`, `export const|let|var|class`, `export default`, `export { a, b as c }`.
//    Each module body is wrapped in a strict-mode function that returns its exports, evaluated in
//    dependency order (libraries first, then the transformation), all in the same context. No live
//    bindings, no top-level await, no destructuring exports.
//  * Each event line is handed to the context as a string; it is JSON.parse-d inside the context,
//    the function is called, and the result lines are JSON.stringify-ed inside the context. The
//    call is made by running the tiny precompiled script `__run(__line)` with
//    `script.runInContext(ctx, { timeout })`, so the timeout is armed per event. (Node implements
//    that timeout with a watchdog thread started for each runInContext call, which is a large part
//    of the per-event cost; compare with --timeout-ms 0.)
//  * The metadata reported with a result is the input's metadata as it was before the call.
//  * Async functions: the promise is awaited OUTSIDE the vm timeout — vm timeouts do not cover
//    microtasks (promise continuations run after runInContext has returned). A wall-clock timer of
//    --timeout-ms is raced against the promise so a promise that never settles still fails the
//    event, but CPU-bound work inside an async continuation is not interrupted. (A context created
//    with `microtaskMode: "afterEvaluate"` would drain microtasks inside the timeout, but promises
//    crossing between contexts can then hang, so it is not used here.)
//  * Input is read in 1 MiB chunks and split on "\n" (faster than readline); the file is never
//    loaded whole. Output is collected into ~1 MiB strings and written with process.stdout.write,
//    waiting for 'drain' when the stream asks for it.

import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { once } from "node:events";

const BATCH_SIZE = 200;

/** A problem with the transformation or its libraries (reported without a stack trace). */
class LoadError extends Error {}
const READ_CHUNK = 1 << 20;
const FLUSH_AT = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(message) {
  if (message) process.stderr.write(`node-vm-run: ${message}\n`);
  process.stderr.write(
    "usage: node node-vm-run.mjs <transformation.js> <events.ndjson> " +
      "[--libraries DIR] [--timeout-ms 4000] [--stats] > out.ndjson\n",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { transformation: null, events: null, libraries: null, timeoutMs: 4000, stats: false, measure: null, rounds: 5, seconds: 1 };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--libraries") opts.libraries = value();
    else if (a.startsWith("--libraries=")) opts.libraries = a.slice(12);
    else if (a === "--timeout-ms") opts.timeoutMs = Number(value());
    else if (a.startsWith("--timeout-ms=")) opts.timeoutMs = Number(a.slice(13));
    else if (a === "--stats") opts.stats = true;
    else if (a === "--direct") opts.measure = "direct";
    else if (a === "--floor") opts.measure = "floor";
    else if (a === "--rounds") opts.rounds = Number(value());
    else if (a === "--seconds") opts.seconds = Number(value());
    else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("--")) usage(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) usage("expected <transformation.js> and <events.ndjson>");
  [opts.transformation, opts.events] = positional;
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 0) usage("--timeout-ms must be an integer >= 0");
  return opts;
}

// ---------------------------------------------------------------------------------------------
// ES module -> script rewrite (simple, regex based)

const IMPORT_NAMED = /^([ \t]*)import\s*\{([^}]*)\}\s*from\s*(["'])([^"']+)\3[ \t]*;?/gm;
const IMPORT_NS = /^([ \t]*)import\s*\*\s*as\s+([\w$]+)\s+from\s*(["'])([^"']+)\3[ \t]*;?/gm;
const IMPORT_DEFAULT = /^([ \t]*)import\s+([\w$]+)\s+from\s*(["'])([^"']+)\3[ \t]*;?/gm;
const IMPORT_BARE = /^([ \t]*)import\s*(["'])([^"']+)\2[ \t]*;?/gm;
const EXPORT_DECL = /^([ \t]*)export\s+((?:async\s+)?function\s*\*?\s*([\w$]+)|(?:const|let|var)\s+([\w$]+)|class\s+([\w$]+))/gm;
const EXPORT_DEFAULT = /^([ \t]*)export\s+default\s+/gm;
const EXPORT_LIST = /^([ \t]*)export\s*\{([^}]*)\}[ \t]*;?/gm;

/** Rewrites module source to a script body; returns it with the imported names and exported names. */
function rewriteModule(source) {
  const imports = [];
  const exportsList = []; // [exportedName, localExpression]
  const importCall = (name) => {
    imports.push(name);
    return `__import(${JSON.stringify(name)})`;
  };
  let s = source;
  s = s.replace(IMPORT_NAMED, (_, ind, names, _q, from) => {
    const bindings = names.replace(/([\w$]+)\s+as\s+([\w$]+)/g, "$1: $2");
    return `${ind}const {${bindings}} = ${importCall(from)};`;
  });
  s = s.replace(IMPORT_NS, (_, ind, ns, _q, from) => `${ind}const ${ns} = ${importCall(from)};`);
  s = s.replace(IMPORT_DEFAULT, (_, ind, d, _q, from) => `${ind}const ${d} = ${importCall(from)}.default;`);
  s = s.replace(IMPORT_BARE, (_, ind, _q, from) => `${ind}${importCall(from)};`);
  s = s.replace(EXPORT_DECL, (_, ind, decl, fnName, varName, className) => {
    const name = fnName || varName || className;
    exportsList.push([name, name]);
    return ind + decl;
  });
  s = s.replace(EXPORT_LIST, (_, ind, names) => {
    for (const part of names.split(",")) {
      const m = part.trim().match(/^([\w$]+)(?:\s+as\s+([\w$]+))?$/);
      if (m) exportsList.push([m[2] || m[1], m[1]]);
    }
    return ind;
  });
  let hasDefault = false;
  s = s.replace(EXPORT_DEFAULT, (_, ind) => {
    hasDefault = true;
    return `${ind}const __default = `;
  });
  if (hasDefault) exportsList.push(["default", "__default"]);
  if (/^[ \t]*(import|export)\b[^(.]/m.test(s)) {
    const line = s.slice(0, s.search(/^[ \t]*(import|export)\b[^(.]/m)).split("\n").length;
    throw new LoadError(`unsupported import/export form at line ${line}`);
  }
  const exportObject = exportsList.map(([name, local]) => `${JSON.stringify(name)}: ${local}`).join(", ");
  return { body: s, imports, exportObject };
}

/** Wraps a rewritten module so evaluating it registers its exports under `name`. Keeps line numbers. */
function wrapModule(name, { body, exportObject }) {
  return (
    `__modules[${JSON.stringify(name)}] = (function () { "use strict"; ${body}\n` +
    `;return Object.freeze({ ${exportObject} }); })();\n`
  );
}

/** Loads the transformation and every library it (transitively) imports; returns scripts in evaluation order. */
function loadModules(transformationPath, librariesDir) {
  const ordered = []; // { name, filename, code }
  const state = new Map(); // name -> "loading" | "done"
  function visit(name, filename, source, importedFrom) {
    if (state.get(name) === "done") return;
    if (state.get(name) === "loading") throw new LoadError(`import cycle through "${name}" (from ${importedFrom})`);
    state.set(name, "loading");
    let mod;
    try {
      mod = rewriteModule(source);
    } catch (e) {
      throw new LoadError(`${filename}: ${e.message}`);
    }
    for (const dep of mod.imports) {
      if (state.get(dep) === "done") continue;
      if (!librariesDir) throw new LoadError(`${filename}: imports "${dep}" but no --libraries DIR was given`);
      const depFile = path.join(librariesDir, `${dep}.js`);
      let depSource;
      try {
        depSource = fs.readFileSync(depFile, "utf8");
      } catch {
        throw new LoadError(`${filename}: cannot find library "${dep}" (looked for ${depFile})`);
      }
      visit(dep, depFile, depSource, filename);
    }
    ordered.push({ name, filename, code: wrapModule(name, mod) });
    state.set(name, "done");
  }
  visit("\0transformation", transformationPath, fs.readFileSync(transformationPath, "utf8"), null);
  return ordered;
}

// ---------------------------------------------------------------------------------------------
// The in-context runtime: parses inputs, calls the user function, serialises results.

const RUNTIME = String.raw`
"use strict";
globalThis.__modules = Object.create(null);
globalThis.__import = function (name) {
  const m = __modules[name];
  if (m === undefined) throw new Error("library " + JSON.stringify(name) + " is not loaded");
  return m;
};
(function (g) {
  const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
  let fn = null;
  let lastMetas = ["{}"]; // metadata JSON of the call in progress, for time-limit errors

  function errText(e) {
    try {
      if (e !== null && typeof e === "object" && typeof e.message === "string")
        return String(e.name || "Error") + ": " + e.message;
      return "Error: " + String(e);
    } catch (_) {
      return "Error: (unprintable exception)";
    }
  }
  function errLine(text, metaJSON) { return '{"error":' + stringify(text) + ',"metadata":' + metaJSON + "}\n"; }
  function dropLine(metaJSON) { return '{"dropped":true,"metadata":' + metaJSON + "}\n"; }
  function isThenable(r) {
    return r !== null && (typeof r === "object" || typeof r === "function") && typeof r.then === "function";
  }
  function isEventObject(x) { return x !== null && typeof x === "object" && !isArray(x); }
  function outLine(x, metaJSON) {
    if (x === null || x === undefined) return dropLine(metaJSON);
    if (!isEventObject(x)) return errLine("TypeError: result is not an object (got " + (isArray(x) ? "array" : typeof x) + ")", metaJSON);
    try {
      return '{"output":' + stringify(x) + ',"metadata":' + metaJSON + "}\n";
    } catch (e) {
      return errLine(errText(e), metaJSON);
    }
  }

  // Splits a parsed input line into [message, metadata]; envelopes and bare messages both work.
  function unwrap(v) {
    if (isEventObject(v) && isEventObject(v.message)) return [v.message, isEventObject(v.metadata) ? v.metadata : {}];
    return [v, {}];
  }

  g.__setEntry = function (mod) {
    const ev = typeof mod.transformEvent === "function", ba = typeof mod.transformBatch === "function";
    if (ev && ba) throw new Error("the transformation exports both transformEvent and transformBatch");
    if (!ev && !ba) throw new Error("the transformation exports neither transformEvent nor transformBatch");
    fn = ev ? mod.transformEvent : mod.transformBatch;
    return ev ? "event" : "batch";
  };

  // transformEvent: one input line in, a string of result lines (or a promise of one) out.
  function finishEvent(r, metaJSON) {
    if (isArray(r)) {
      let s = "";
      for (let i = 0; i < r.length; i++) s += outLine(r[i], metaJSON);
      return s;
    }
    return outLine(r, metaJSON);
  }
  g.__run = function (line) {
    let v;
    try { v = parse(line); } catch (e) { lastMetas = ["{}"]; return errLine(errText(e), "{}"); }
    const [msg, meta] = unwrap(v);
    const metaJSON = stringify(meta);
    lastMetas = [metaJSON];
    if (!isEventObject(msg)) return errLine("TypeError: input is not a JSON object", metaJSON);
    let r;
    try {
      r = fn(msg, function metadata() { return meta; });
    } catch (e) {
      return errLine(errText(e), metaJSON);
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then((v) => finishEvent(v, metaJSON), (e) => errLine(errText(e), metaJSON));
    }
    return finishEvent(r, metaJSON);
  };

  // transformBatch: an array of input lines in, a string of result lines (or a promise of one) out.
  g.__runBatch = function (lines) {
    let s = "";
    const events = [], metas = [], metaJSONs = [];
    const byObject = new Map(), byId = new Map();
    for (let i = 0; i < lines.length; i++) {
      let v;
      try { v = parse(lines[i]); } catch (e) { s += errLine(errText(e), "{}"); continue; }
      const [msg, meta] = unwrap(v);
      const metaJSON = stringify(meta);
      if (!isEventObject(msg)) { s += errLine("TypeError: input is not a JSON object", metaJSON); continue; }
      const k = events.length;
      events.push(msg); metas.push(meta); metaJSONs.push(metaJSON);
      byObject.set(msg, k);
      if (msg.messageId !== undefined && !byId.has(msg.messageId)) byId.set(msg.messageId, k);
    }
    lastMetas = metaJSONs;
    if (events.length === 0) return s;
    const indexOf = (e) => {
      let k = byObject.get(e);
      if (k === undefined && isEventObject(e)) k = byId.get(e.messageId);
      return k;
    };
    const metadata = function metadata(e) { const k = indexOf(e); return k === undefined ? {} : metas[k]; };
    const failAll = (text) => { let f = ""; for (const m of metaJSONs) f += errLine(text, m); return f; };
    const finish = (r) => {
      if (!isArray(r)) return failAll("TypeError: transformBatch must return an array (got " + (r === null ? "null" : typeof r) + ")");
      let o = "";
      for (let i = 0; i < r.length; i++) {
        const x = r[i];
        if (x === null || x === undefined) continue;
        const k = indexOf(x);
        o += outLine(x, k === undefined ? "{}" : metaJSONs[k]);
      }
      return o;
    };
    let r;
    try {
      r = fn(events, metadata);
    } catch (e) {
      return s + failAll(errText(e));
    }
    if (isThenable(r)) return Promise.resolve(r).then((v) => s + finish(v), (e) => s + failAll(errText(e)));
    return s + finish(r);
  };

  // The direct-call peer (--direct / --floor): the work a runtime cannot avoid, nothing else.
  g.__measure = function (lines, mode, minimumMs) {
    const n = lines.length;
    let done = 0;
    const start = Date.now();
    let elapsed = 0;
    do {
      if (mode === "floor") {
        for (let i = 0; i < n; i++) stringify(parse(lines[i]));
      } else {
        for (let i = 0; i < n; i++) {
          const [msg, meta] = unwrap(parse(lines[i]));
          const r = fn(msg, function metadata() { return meta; });
          if (r !== undefined) stringify(r);
        }
      }
      done += n;
      elapsed = Date.now() - start;
    } while (elapsed < minimumMs);
    return done / (elapsed / 1000);
  };

  // Error lines for the call in progress, used after it hit the time limit.
  g.__timeoutLines = function (text) {
    let s = "";
    for (const m of lastMetas) s += errLine(text, m);
    return s;
  };
})(globalThis);
`;

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const timeoutText = `TimeoutError: time limit of ${opts.timeoutMs} ms exceeded`;

  // Build the context: runtime, libraries (dependency order), then the transformation.
  const sandbox = { __line: "", __lines: null };
  const ctx = vm.createContext(sandbox, { name: "sluice-bench" });
  let mode;
  try {
    new vm.Script(RUNTIME, { filename: "node-vm-run:runtime" }).runInContext(ctx);
    for (const m of loadModules(opts.transformation, opts.libraries)) {
      new vm.Script(m.code, { filename: m.filename }).runInContext(ctx);
    }
    mode = vm.runInContext('__setEntry(__modules["\\0transformation"])', ctx);
  } catch (e) {
    const detail = e instanceof LoadError ? e.message : e && e.stack ? e.stack : String(e);
    process.stderr.write(`node-vm-run: cannot load ${opts.transformation}: ${detail}\n`);
    process.exit(1);
  }

  if (opts.measure) {
    if (mode !== "event") {
      process.stderr.write("node-vm-run: --direct and --floor measure transformEvent only\n");
      process.exit(2);
    }
    sandbox.__lines = fs.readFileSync(opts.events, "utf8").split("\n").filter((line) => line.length > 0);
    const measureScript = new vm.Script(`__measure(__lines, ${JSON.stringify(opts.measure)}, ${Math.round(opts.seconds * 1000)})`);
    measureScript.runInContext(ctx); // warm-up round
    const rates = [];
    for (let round = 0; round < Math.max(1, opts.rounds); round++) rates.push(measureScript.runInContext(ctx));
    rates.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
      mode: opts.measure, events: sandbox.__lines.length, eventsPerSecond: Math.round(rates[rates.length >> 1]),
      min: Math.round(rates[0]), max: Math.round(rates[rates.length - 1]),
    }) + "\n");
    return;
  }

  const callScript = new vm.Script(mode === "event" ? "__run(__line)" : "__runBatch(__lines)", {
    filename: "node-vm-run:call",
  });
  const timeoutLinesScript = new vm.Script("__timeoutLines(__line)");
  const runOptions = opts.timeoutMs > 0 ? { timeout: opts.timeoutMs, displayErrors: false } : { displayErrors: false };

  // Error lines for the call that just hit the time limit.
  function timeoutLines() {
    sandbox.__line = timeoutText;
    return timeoutLinesScript.runInContext(ctx);
  }

  // Runs one call — the event line in sandbox.__line, or the batch in sandbox.__lines — with the
  // time limit armed. Returns the result lines, or a promise of them for an async function.
  function callOnce() {
    try {
      return callScript.runInContext(ctx, runOptions);
    } catch (e) {
      if (e && e.code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return timeoutLines();
      throw e; // a bug in this script, not in the transformation (those are caught in the context)
    }
  }

  // Async results are awaited outside the vm timeout (see the header); a timer bounds the wait.
  async function awaitResult(r) {
    if (opts.timeoutMs === 0) return await r;
    let timer;
    const expired = new Promise((resolve) => {
      timer = setTimeout(resolve, opts.timeoutMs, null);
    });
    try {
      const v = await Promise.race([r, expired]);
      return v === null ? timeoutLines() : v;
    } finally {
      clearTimeout(timer);
    }
  }

  // Output buffering with backpressure.
  const stdout = process.stdout;
  let buf = "";
  async function flush() {
    if (buf.length === 0) return;
    const ok = stdout.write(buf);
    buf = "";
    if (!ok) await once(stdout, "drain");
  }

  let events = 0;
  let pending = []; // batch mode: lines waiting for a full batch

  async function runBatch() {
    if (pending.length === 0) return;
    sandbox.__lines = pending;
    pending = [];
    const r = callOnce();
    buf += typeof r === "string" ? r : await awaitResult(r);
  }

  // One input line. Synchronous results take no await (and so no microtask hop) per event.
  async function handleLine(line) {
    events++;
    if (mode === "event") {
      sandbox.__line = line;
      const r = callOnce();
      buf += typeof r === "string" ? r : await awaitResult(r);
    } else {
      pending.push(line);
      if (pending.length === BATCH_SIZE) await runBatch();
    }
  }

  const started = process.hrtime.bigint();
  const input = fs.createReadStream(opts.events, { encoding: "utf8", highWaterMark: READ_CHUNK });
  let rest = "";
  try {
    for await (const chunk of input) {
      const text = rest.length ? rest + chunk : chunk;
      let start = 0;
      let nl;
      while ((nl = text.indexOf("\n", start)) !== -1) {
        let end = nl;
        if (end > start && text.charCodeAt(end - 1) === 13) end--; // tolerate CRLF
        if (end > start) {
          // Inlined fast path of handleLine for synchronous transformEvent.
          if (mode === "event") {
            events++;
            sandbox.__line = text.slice(start, end);
            const r = callOnce();
            buf += typeof r === "string" ? r : await awaitResult(r);
          } else {
            await handleLine(text.slice(start, end));
          }
          if (buf.length >= FLUSH_AT) await flush();
        }
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (e) {
    if (e && (e.code === "ENOENT" || e.code === "EISDIR" || e.code === "EACCES")) {
      process.stderr.write(`node-vm-run: cannot read ${opts.events}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (rest.trim().length) await handleLine(rest.replace(/\r$/, ""));
  if (mode === "batch") await runBatch();
  await flush();

  if (opts.stats) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stderr.write(
      `node-vm-run: ${events} events, ${seconds.toFixed(3)} s, ` +
        `${Math.round(events / seconds)} events/s (mode ${mode}, timeout ${opts.timeoutMs ? opts.timeoutMs + " ms" : "off"})\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`node-vm-run: ${e && e.stack ? e.stack : e}\n`);
  process.exitCode = 1;
});
