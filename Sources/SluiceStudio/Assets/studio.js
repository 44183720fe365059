// Studio's page: browse the transformations and libraries, edit, run on the snapshot cases or on
// pasted events through the service, and see each event's outcome and the differences from the
// expected results. Talks only to the service's own /studio/api routes (api.js).

import * as api from "./api.js";
import { Editor } from "./editor.js";
import { element, json, setStatus, short } from "./dom.js";
import { startLiveCharts, focusLiveChart } from "./charts.js";
import { showFleet } from "./rollouts.js";
import * as recordings from "./recordings.js";

const $ = (selector) => document.querySelector(selector);
const state = { session: null, catalog: null, current: null, running: false };
let editor;

// MARK: - Browse

async function loadCatalog() {
  state.catalog = await api.get("/studio/api/catalog");
  renderCatalog();
}

function renderCatalog() {
  const filter = $("#filter").value.trim().toLowerCase();
  const list = $("#transformations");
  list.replaceChildren(...state.catalog.transformations
    .filter((item) => !filter || item.name.toLowerCase().includes(filter))
    .map((item) => element("li", { class: "item", dataset: { name: item.name, kind: "transformation" } },
      element("button", { type: "button", onclick: () => openTransformation(item.name) },
        element("span", { class: "name", text: item.name }),
        element("span", { class: `badge lang-${item.language}`, text: item.language === "javascript" ? "JS" : "PY" }),
        item.cases.length ? element("span", { class: "muted small", text: `${item.cases.length} case${item.cases.length === 1 ? "" : "s"}` }) : null,
        element("span", { class: "muted small", text: item.source })))));
  $("#libraries").replaceChildren(...state.catalog.libraries
    .filter((item) => !filter || item.name.toLowerCase().includes(filter))
    .map((item) => element("li", { class: "item", dataset: { name: item.name, language: item.language, kind: "library" } },
      element("button", { type: "button", onclick: () => openLibrary(item.name, item.language) },
        element("span", { class: "name", text: item.name }),
        element("span", { class: `badge lang-${item.language}`, text: item.language === "javascript" ? "JS" : "PY" }),
        element("span", { class: "muted small", text: `${item.importedBy.length} importer${item.importedBy.length === 1 ? "" : "s"}` })))));
}

function highlightSelection(kind, name, language) {
  document.querySelectorAll(".items li").forEach((node) => {
    const selected = node.dataset.kind === kind && node.dataset.name === name && (!language || node.dataset.language === language);
    node.classList.toggle("selected", selected);
  });
}

function fillList(selector, items, render) {
  const list = $(selector);
  list.replaceChildren(...(items.length ? items.map(render) : [element("li", { class: "muted", text: "none" })]));
}

async function openTransformation(name) {
  setStatus(`opening ${name}…`);
  const detail = await api.get(`/studio/api/transformations/${encodeURIComponent(name)}`);
  state.current = { kind: "transformation", ...detail };
  highlightSelection("transformation", name);
  $("#title").textContent = name;
  $("#language").textContent = detail.language;
  $("#source").textContent = `${detail.source}: ${detail.origin}`;
  $("#description").textContent = detail.description || "";
  fillList("#versions", detail.versions, (version) => element("li", { class: version.live ? "live" : "", title: version.origin, dataset: { version: version.id || "" } },
    element("code", { text: version.id || "(folder file)" }), version.live ? " live" : "",
    version.createdAt ? element("span", { class: "muted small", text: ` ${version.createdAt}` }) : null,
    element("span", { class: "muted small", text: ` from ${version.origin}` }),
    detail.source === "api" && !version.live ? element("button", { type: "button", class: "link rollback", dataset: { version: version.id },
      onclick: () => rollback(detail.name, version.id), text: " roll back to this" }) : null));
  $("#publish-name").hidden = true;
  $("#publish").disabled = detail.source !== "api";
  $("#publish").title = detail.source === "api" ? "" : "folder transformations change in the folder";
  $("#publish-result").textContent = "";
  fillList("#imports", detail.imports, (name) => element("li", {}, element("code", { text: name })));
  fillList("#imported-by", [], () => null);
  fillList("#credentials", detail.credentials, (credential) => element("li", { title: `set by case ${credential.case}` },
    element("code", { text: credential.name }), element("span", { class: "muted small", text: ` (${credential.case})` })));
  editor.setReadOnly(false);
  editor.setLanguage(detail.language);
  editor.value = detail.code;
  $("#compile-error").hidden = true;
  $("#time-limit").value = detail.limits.timeMilliseconds;
  $("#memory-limit").value = detail.limits.memoryMegabytes;
  $("#limit-maxima").textContent = `at most ${detail.limits.timeMilliseconds} ms / ${detail.limits.memoryMegabytes} MB (the service's limits for it)`;
  fillList("#cases", detail.cases, (snapshot) => element("li", {},
    element("label", {}, element("input", { type: "checkbox", value: snapshot.name, checked: true, class: "case-choice" }),
      ` ${snapshot.name}`, snapshot.hasExpected ? "" : element("span", { class: "muted small", text: " (no expected.ndjson)" }))));
  const hasCases = detail.cases.length > 0;
  $("#input-cases").disabled = !hasCases;
  chooseInput(hasCases ? "cases" : "events");
  if (!hasCases && !$("#events").value.trim()) $("#events").value = '[{"type": "track", "event": "Example", "messageId": "m-1"}]';
  $("#results").replaceChildren();
  $("#run").disabled = false;
  showFleet($("#fleet"), detail, openTransformation);
  focusLiveChart(name);
  recordings.prefer(name);
  setStatus(`${name} opened`, "ok");
}

async function openLibrary(name, language) {
  setStatus(`opening library ${name}…`);
  const detail = await api.get(`/studio/api/libraries/${encodeURIComponent(name)}?language=${encodeURIComponent(language)}`);
  state.current = { kind: "library", ...detail };
  highlightSelection("library", name, language);
  $("#title").textContent = `library ${name}`;
  $("#language").textContent = detail.language;
  $("#source").textContent = `${detail.source}: ${detail.origin}`;
  $("#description").textContent = "Libraries are shown read-only here; a run links the folder's or the API's live version.";
  fillList("#versions", detail.versions, (version) => element("li", { class: version.live ? "live" : "" },
    element("code", { text: version.id || "(folder file)" }), version.live ? " live" : "",
    element("span", { class: "muted small", text: ` from ${version.origin}` })));
  fillList("#imports", [], () => null);
  fillList("#imported-by", detail.importedBy, (user) => element("li", {},
    element("button", { type: "button", class: "link", onclick: () => openTransformation(user), text: user })));
  fillList("#credentials", [], () => null);
  editor.setLanguage(detail.language);
  editor.value = detail.code;
  editor.setReadOnly(true);
  $("#run").disabled = true;
  $("#publish").disabled = true;
  $("#publish-name").hidden = true;
  $("#results").replaceChildren();
  showFleet($("#fleet"), null);
  setStatus(`library ${name} opened`, "ok");
}

function newScratch() {
  state.current = { kind: "scratch", name: null, language: "javascript", cases: [] };
  highlightSelection("none", "");
  $("#title").textContent = "scratch transformation";
  $("#language").textContent = "javascript";
  $("#source").textContent = "not saved";
  $("#description").textContent = "Runs on pasted events only.";
  for (const list of ["#versions", "#imports", "#imported-by", "#credentials", "#cases"]) fillList(list, [], () => null);
  editor.setReadOnly(false);
  editor.setLanguage("javascript");
  editor.value = "export function transformEvent(event, metadata) {\n  return event;\n}\n";
  const limits = state.session.limits;
  $("#time-limit").value = limits.timeMilliseconds;
  $("#memory-limit").value = limits.memoryMegabytes;
  $("#limit-maxima").textContent = `at most ${limits.timeMilliseconds} ms / ${limits.memoryMegabytes} MB (the service's limits)`;
  $("#input-cases").disabled = true;
  chooseInput("events");
  $("#run").disabled = false;
  $("#publish").disabled = false;
  $("#publish-name").hidden = false;
  $("#publish-result").textContent = "";
  $("#results").replaceChildren();
  showFleet($("#fleet"), null);
}

// MARK: - Publish, roll back, accept

async function publish() {
  const current = state.current;
  if (!current || current.kind === "library") return;
  const name = current.name || $("#publish-name").value.trim();
  if (!name) { $("#publish-result").textContent = "name it first"; return; }
  setStatus(`publishing ${name}…`, "busy");
  try {
    const answer = await api.post("/studio/api/publish", { name, language: current.language, code: editor.value });
    const version = answer.version || answer.liveVersion;
    await loadCatalog();
    await openTransformation(name);
    $("#publish-result").textContent = `published ${version}`;
    setStatus(`${name}: ${version} is live`, "ok");
  } catch (error) {
    $("#publish-result").textContent = error.message;
    setStatus(error.message, "bad");
  }
}

async function rollback(name, version) {
  setStatus(`rolling ${name} back to ${version}…`, "busy");
  try {
    await api.post("/studio/api/rollback", { name, version });
    await openTransformation(name);
    $("#publish-result").textContent = `rolled back to ${version}`;
    setStatus(`${name}: ${version} is live`, "ok");
  } catch (error) {
    setStatus(error.message, "bad");
  }
}

async function accept(caseName) {
  const current = state.current;
  setStatus(`accepting ${caseName}…`, "busy");
  try {
    const answer = await api.post("/studio/api/accept", { name: current.name, language: current.language, code: editor.value, cases: [caseName] });
    setStatus(`${caseName}: wrote ${answer.lines} lines to ${answer.written}`, "ok");
    await run();
  } catch (error) {
    setStatus(error.message, "bad");
  }
}

function chooseInput(mode) {
  $(`#input-${mode}`).checked = true;
  $("#events").hidden = mode !== "events";
  $("#cases-box").hidden = mode !== "cases";
  $("#recording-box").hidden = mode !== "recording";
}

// MARK: - Run

async function run() {
  if (!state.current || state.current.kind === "library" || state.running) return;
  const mode = $("#input-events").checked ? "events" : $("#input-recording").checked ? "recording" : "cases";
  const body = { code: editor.value, language: state.current.language, limits: {} };
  if (state.current.name) body.name = state.current.name;
  if (mode === "events") body.events = $("#events").value;
  else if (mode === "cases") body.cases = [...document.querySelectorAll(".case-choice:checked")].map((box) => box.value);
  else {
    try {
      Object.assign(body, recordings.sliceRequest());
    } catch (error) {
      $("#results").replaceChildren(element("p", { class: "error-text", id: "run-error", text: error.message }));
      setStatus(error.message, "bad");
      return;
    }
  }
  const time = parseInt($("#time-limit").value, 10);
  const memory = parseInt($("#memory-limit").value, 10);
  if (Number.isInteger(time)) body.limits.timeMilliseconds = time;
  if (Number.isInteger(memory)) body.limits.memoryMegabytes = memory;
  state.running = true;
  $("#run").disabled = true;
  $("#run").textContent = "Running…";
  $("#compile-error").hidden = true;
  setStatus("running…", "busy");
  const started = performance.now();
  try {
    const answer = await api.post(mode === "recording" ? "/studio/api/recordings/run" : "/studio/api/run", body);
    renderAnswer(answer);
    setStatus(`ran in ${Math.round(performance.now() - started)} ms`, "ok");
  } catch (error) {
    $("#results").replaceChildren(element("p", { class: "error-text", id: "run-error", text: error.message }));
    setStatus(error.message, "bad");
  } finally {
    state.running = false;
    $("#run").disabled = false;
    $("#run").textContent = "Run";
  }
}

function renderAnswer(answer) {
  editor.clearMarkers();
  if (answer.compile) {
    const problem = answer.compile;
    const box = $("#compile-error");
    box.hidden = false;
    box.replaceChildren(element("strong", { text: "Does not compile" }),
      problem.line ? element("button", { type: "button", class: "link location", onclick: () => editor.reveal(problem.line),
        text: ` line ${problem.line}${problem.column ? ":" + problem.column : ""}` }) : null,
      element("pre", { text: problem.message }));
    if (problem.line) {
      editor.mark(problem.line, problem.column, problem.message, "error");
      editor.scrollToLine(problem.line);
    } else {
      editor.render();
    }
    $("#results").replaceChildren(element("p", { class: "error-text", id: "compile-summary", text: "The code does not compile: nothing ran." }));
    return;
  }
  const sections = answer.runs.map(renderRun);
  // Runtime errors in the user's file: a marker at each line a stack frame points to.
  for (const result of answer.runs) {
    for (const event of result.events || []) {
      if (event.error && event.error.line) editor.mark(event.error.line, event.error.column, `${event.error.kind}: ${event.error.message}`, "warning");
    }
  }
  editor.render();
  const firstError = answer.runs.flatMap((result) => result.events || []).find((event) => event.error && event.error.line);
  if (firstError) editor.scrollToLine(firstError.error.line);
  $("#results").replaceChildren(...sections);
}

function outcomeBadge(event) {
  const label = event.outcome === "split" ? `split into ${event.count}`
    : event.outcome === "error" ? event.error.kind
    : event.outcome;
  return element("span", { class: `outcome outcome-${event.outcome}`, text: label });
}

function renderRun(result) {
  const status = result.status;
  const section = element("section", { class: `run run-${status}`, dataset: { name: result.name, status } });
  section.append(element("h3", {}, element("span", { class: `run-status status-${status}`, text: status }), ` ${result.name}`,
    result.milliseconds !== undefined ? element("span", { class: "muted small", text: ` ${result.milliseconds.toFixed(1)} ms` }) : null));
  const folderCase = state.current && state.current.source === "folder" && (state.current.cases || []).some((c) => c.name === result.name);
  if (folderCase && (status === "failed" || status === "ran") && !state.session.ci) {
    section.querySelector("h3").append(" ", element("button", { type: "button", class: "accept", dataset: { case: result.name },
      title: "write this run's results to the case's expected.ndjson (the code must be saved in the folder)",
      onclick: () => accept(result.name), text: "Accept as expected" }));
  }
  if (result.message) section.append(element("pre", { class: "error-text", text: result.message }));
  if (!result.events) return section;
  const summary = result.summary;
  section.append(element("p", { class: "summary" },
    `${summary.events} event${summary.events === 1 ? "" : "s"}: ${summary.outputs} output${summary.outputs === 1 ? "" : "s"}, `,
    `${summary.dropped} dropped, ${summary.split} split, ${summary.errors} error${summary.errors === 1 ? "" : "s"}`,
    summary.limitHits ? element("strong", { class: "limit", text: `, ${summary.limitHits} limit hit${summary.limitHits === 1 ? "" : "s"}` }) : "",
    ` (limits ${result.limits.timeMilliseconds} ms / ${result.limits.memoryMegabytes} MB)`));
  if (result.replay) section.append(recordings.renderReplay(result));
  const histogram = renderHistogram(result.events);
  if (histogram) section.append(histogram);
  const table = element("table", { class: "events" },
    element("thead", {}, element("tr", {}, ["#", "input line", "messageId", "outcome", "time", "logs", "details"].map((name) => element("th", { text: name })))));
  const body = element("tbody");
  for (const event of result.events) {
    const details = element("td", { class: "details" });
    if (event.error) {
      details.append(element("pre", { class: "error-text", text: event.error.message }));
      if (event.error.line) details.append(element("button", { type: "button", class: "link location", onclick: () => editor.reveal(event.error.line),
        text: `line ${event.error.line}${event.error.column ? ":" + event.error.column : ""}` }));
    }
    if (event.outputs && event.outputs.length) {
      details.append(element("details", {}, element("summary", { text: `output${event.outputs.length === 1 ? "" : "s"}` }),
        element("pre", { text: json(event.outputs.length === 1 ? event.outputs[0] : event.outputs) })));
    }
    if (event.differences) details.append(element("ul", { class: "event-differences" }, event.differences.map((text) => element("li", { text }))));
    body.append(element("tr", { class: `event event-${event.outcome}`, dataset: { outcome: event.outcome, index: event.index, kind: event.error ? event.error.kind : "" } },
      element("td", { text: event.index }),
      element("td", { text: event.line ?? "" }),
      element("td", { text: event.messageId ?? "" }),
      element("td", {}, outcomeBadge(event), event.limitHit ? element("span", { class: "limit", text: ` limit hit (${event.limit})` }) : null),
      element("td", { class: "time", title: event.timing, text: event.milliseconds !== undefined ? `${event.milliseconds.toFixed(2)} ms` : "" }),
      element("td", { class: "logs" }, (event.logs || []).map((line) => element("div", { text: line }))),
      details));
  }
  table.append(body);
  section.append(table);
  if (result.batchLogs && result.batchLogs.length) {
    section.append(element("details", {}, element("summary", { text: "logs outside any event" }), element("pre", { text: result.batchLogs.join("\n") })));
  }
  if (result.differences) section.append(renderDiff(result));
  return section;
}

/** A histogram of the run's per-event times: ten buckets from the fastest to the slowest call,
 *  drawn as SVG (attributes only: the page's policy allows no inline style). */
function renderHistogram(events) {
  const times = events.map((event) => event.milliseconds).filter((value) => typeof value === "number");
  if (times.length < 2) return null;
  const low = Math.min(...times), high = Math.max(...times);
  const buckets = new Array(10).fill(0);
  const width = high - low || 1;
  for (const time of times) buckets[Math.min(9, Math.floor(((time - low) / width) * 10))] += 1;
  const most = Math.max(...buckets);
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 200 44");
  svg.setAttribute("class", "histogram-chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `per-event time: ${low.toFixed(2)} to ${high.toFixed(2)} ms`);
  buckets.forEach((count, index) => {
    const bar = document.createElementNS(svgNS, "rect");
    const height = count === 0 ? 0 : Math.max(2, (count / most) * 40);
    bar.setAttribute("x", String(index * 20 + 1));
    bar.setAttribute("y", String(42 - height));
    bar.setAttribute("width", "18");
    bar.setAttribute("height", String(height));
    bar.setAttribute("class", "bar");
    const title = document.createElementNS(svgNS, "title");
    title.textContent = `${count} event${count === 1 ? "" : "s"}: ${(low + (width * index) / 10).toFixed(2)}–${(low + (width * (index + 1)) / 10).toFixed(2)} ms`;
    bar.append(title);
    svg.append(bar);
  });
  const sorted = [...times].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
  return element("figure", { class: "histogram", dataset: { events: times.length } }, svg,
    element("figcaption", { class: "muted small",
      text: `time per event: ${low.toFixed(2)}–${high.toFixed(2)} ms, median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} ms, p99 ${p99.toFixed(2)} ms` }));
}

/** The differences from expected.ndjson, by input event: path, old (expected) → new (actual),
 *  and the expected and actual result lines side by side. */
function renderDiff(result) {
  const box = element("div", { class: "diff", dataset: { count: result.differences.length } });
  if (result.differences.length === 0) {
    box.append(element("p", { class: "ok-text", text: "Matches expected.ndjson." }));
    return box;
  }
  box.append(element("h4", { text: `${result.differences.length} difference${result.differences.length === 1 ? "" : "s"} from expected.ndjson` }));
  const table = element("table", { class: "differences" },
    element("thead", {}, element("tr", {}, ["event", "path", "expected (old)", "", "actual (new)"].map((name) => element("th", { text: name })))));
  const body = element("tbody");
  for (const difference of result.differences) {
    const event = difference.event ? [difference.event.line ? `line ${difference.event.line}` : "", difference.event.messageId || ""].filter(Boolean).join(", ") : "";
    body.append(element("tr", { class: "difference" },
      element("td", { text: event }),
      element("td", {}, element("code", { text: difference.path })),
      element("td", { class: "old" }, element("code", { text: "expected" in difference ? short(difference.expected) : "(missing)" })),
      element("td", { text: "→" }),
      element("td", { class: "new" }, element("code", { text: "actual" in difference ? short(difference.actual) : "(missing)" }))));
  }
  table.append(body);
  box.append(table);
  box.append(element("div", { class: "side-by-side" },
    element("div", {}, element("h5", { text: "expected.ndjson" }), element("pre", { text: result.expected })),
    element("div", {}, element("h5", { text: "this run" }), element("pre", { text: result.lines }))));
  return box;
}

// MARK: - Start

async function main() {
  editor = new Editor($("#editor"));
  $("#run").disabled = true;
  $("#run").addEventListener("click", run);
  $("#filter").addEventListener("input", renderCatalog);
  $("#new-transformation").addEventListener("click", newScratch);
  $("#publish").addEventListener("click", publish);
  $("#input-cases").addEventListener("change", () => chooseInput("cases"));
  $("#input-events").addEventListener("change", () => chooseInput("events"));
  $("#input-recording").addEventListener("change", () => {
    chooseInput("recording");
    // A `serve --record` folder grows while the service runs: list it afresh.
    recordings.load().catch((error) => setStatus(`recordings: ${error.message}`, "bad"));
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); run(); }
  });
  try {
    state.session = await api.start();
    $("#service").textContent = `sluice ${state.session.version} · ${state.session.transformationsFolder}`;
    await loadCatalog();
    startLiveCharts($("#live"));
    await recordings.setup();
    setStatus(`${state.catalog.transformations.length} transformations, ${state.catalog.libraries.length} libraries`, "ok");
    document.body.dataset.ready = "true";
  } catch (error) {
    setStatus(`cannot load: ${error.message}`, "bad");
  }
}

main();
