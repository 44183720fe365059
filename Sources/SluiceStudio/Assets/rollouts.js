// Shadow runs and canary rollouts of an API transformation with two versions or more, from the
// page: start a shadow run of a candidate version and watch its report; start a canary rollout,
// watch its state and counts, promote or abort it. Through Studio's own guarded routes, which call
// the same code as /v1's (docs/studio.md).

import * as api from "./api.js";
import { element } from "./dom.js";

const POLL_MILLISECONDS = 2000;
let box = null;
let current = null;   // { name, detail, reopen }
let timer = null;
let refreshes = 0;
const stoppedReports = new Map();   // name → the final report of the shadow run stopped from this page

const path = (name, rest) => `/studio/api/transformations/${encodeURIComponent(name)}/${rest}`;

/** Shows the shadow and canary controls for `detail` (a transformation as the page opened it),
 *  or hides them (`detail` null, a folder transformation, fewer than two versions). `reopen(name)`
 *  reloads the transformation after its live version changed (a promoted canary). */
export function showFleet(container, detail, reopen) {
  box = container;
  clearTimeout(timer);
  refreshes += 1;
  const versions = detail && detail.source === "api" ? detail.versions.filter((version) => version.id) : [];
  if (!detail || detail.source !== "api") {
    current = null;
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  current = { name: detail.name, detail, reopen };
  box.hidden = false;
  const candidates = versions.filter((version) => !version.live);
  if (candidates.length === 0) {
    box.replaceChildren(element("h3", { text: "Shadow and canary" }),
      element("p", { class: "muted", id: "fleet-none", text: "Publish a second version to try it beside the live one (a shadow run) or on a share of the traffic (a canary)." }));
    return;
  }
  box.replaceChildren(
    element("h3", { text: "Shadow and canary" }),
    element("div", { class: "fleet-controls" },
      element("label", {}, "candidate ",
        element("select", { id: "fleet-candidate" }, candidates.map((version) =>
          element("option", { value: version.id, text: `${version.id}${version.createdAt ? ` (${version.createdAt})` : ""}` })))),
      element("span", { class: "muted small", text: ` live: ${detail.liveVersion || "?"}` })),
    element("div", { class: "fleet-columns" },
      element("div", { class: "fleet-box" },
        element("h4", { text: "Shadow run" }),
        element("p", { class: "muted small", text: "The candidate also runs on a share of the live batches, on spare capacity; its results are compared per event, and the live answer never changes." }),
        element("div", { class: "fleet-actions" },
          element("label", {}, "sample ", element("input", { id: "shadow-rate", type: "number", min: "1", max: "100", step: "1", value: "100" }), " % of batches"),
          element("button", { type: "button", id: "shadow-start", onclick: startShadow, text: "Start shadow" }),
          element("button", { type: "button", id: "shadow-stop", onclick: stopShadow, text: "Stop", disabled: true })),
        element("div", { id: "shadow-report", class: "fleet-report", "data-state": "none" })),
      element("div", { class: "fleet-box" },
        element("h4", { text: "Canary rollout" }),
        element("p", { class: "muted small", text: "A share of /customTransform's events (by user) goes to the candidate; it is rolled back on its own if it fails more than the live version." }),
        element("div", { class: "fleet-actions" },
          element("label", {}, "", element("input", { id: "canary-percent", type: "number", min: "0.1", max: "100", step: "0.1", value: "10" }), " % of events"),
          element("button", { type: "button", id: "canary-start", onclick: startCanary, text: "Start canary" }),
          element("button", { type: "button", id: "canary-promote", onclick: promoteCanary, text: "Promote", disabled: true }),
          element("button", { type: "button", id: "canary-abort", onclick: abortCanary, text: "Abort", disabled: true })),
        element("div", { id: "canary-state", class: "fleet-report", "data-state": "none" }))),
    element("p", { id: "fleet-message", class: "error-text", role: "status" }));
  refresh();
}

function say(message) {
  const line = box.querySelector("#fleet-message");
  if (line) line.textContent = message || "";
}

/** Reads the shadow report and the rollout, and again every two seconds while this transformation is open. */
async function refresh() {
  clearTimeout(timer);
  const name = current && current.name;
  if (!name) return;
  const generation = ++refreshes;
  let shadow = null, rollout = null;
  try {
    ({ shadow, rollout } = await api.get(path(name, "fleet")));
  } catch (error) {
    say(error.message);
  }
  // A newer refresh (or another transformation) is in charge: one polling chain at a time.
  if (generation !== refreshes || !current || current.name !== name) return;
  renderShadow(shadow || stoppedReports.get(name) || null);
  renderRollout(rollout);
  timer = setTimeout(refresh, POLL_MILLISECONDS);
}

async function change(action, work) {
  const name = current.name;
  say("");
  try {
    const answer = await work(name);
    return answer;
  } catch (error) {
    say(`${action}: ${error.message}`);
    return null;
  } finally {
    if (current && current.name === name) refresh();
  }
}

function startShadow() {
  stoppedReports.delete(current.name);
  const rate = parseFloat(box.querySelector("#shadow-rate").value);
  const candidate = box.querySelector("#fleet-candidate").value;
  return change("start shadow", (name) => api.post(path(name, "shadow"), { candidate, sampleRate: Math.min(1, Math.max(0.01, (rate || 100) / 100)) }));
}

function stopShadow() {
  return change("stop shadow", async (name) => {
    const report = await api.remove(path(name, "shadow"));
    stoppedReports.set(name, report);
    return report;
  });
}

function startCanary() {
  const percent = parseFloat(box.querySelector("#canary-percent").value);
  const candidate = box.querySelector("#fleet-candidate").value;
  return change("start canary", (name) => api.post(path(name, "rollout"), { candidate, percent }));
}

async function promoteCanary() {
  const answer = await change("promote", (name) => api.post(path(name, "rollout/promote"), {}));
  if (answer && current) await current.reopen(current.name);
}

function abortCanary() {
  return change("abort", (name) => api.remove(path(name, "rollout")));
}

function counts(object) {
  return Object.entries(object).map(([key, value]) => `${value} ${key.replace(/[A-Z]/g, (letter) => " " + letter.toLowerCase())}`).join(", ");
}

function renderShadow(report) {
  const target = box.querySelector("#shadow-report");
  const running = !!report && report.state === "running";
  box.querySelector("#shadow-start").disabled = running;
  box.querySelector("#shadow-stop").disabled = !running;
  if (!report) {
    target.dataset.state = "none";
    target.replaceChildren(element("p", { class: "muted", text: "No shadow run." }));
    return;
  }
  target.dataset.state = report.state;
  target.dataset.compared = report.events.compared;
  target.dataset.differing = report.events.compared - report.events.unchanged;
  target.dataset.failed = report.batches.failed;
  const differing = report.events.compared - report.events.unchanged;
  target.replaceChildren(...[
    element("p", {}, element("strong", { text: report.state }), ` candidate ${report.candidate} beside ${report.liveVersion}, since ${report.since}`),
    element("p", { class: "shadow-summary" },
      element("strong", { text: `${report.events.compared} compared` }), ", ",
      element("strong", { class: differing ? "error-text" : "", text: `${differing} differing` }), ", ",
      element("strong", { class: report.batches.failed ? "error-text" : "", text: `${report.batches.failed} failed batches` })),
    element("p", { class: "small" }, `events: ${counts(report.events)}`),
    element("p", { class: "small" }, `batches: ${counts(report.batches)}; skipped: ${counts(report.skipped)}`),
    report.lastFailure ? element("p", { class: "small error-text", text: `last failure: ${report.lastFailure}` }) : null,
    report.paths.length ? element("ul", { class: "small shadow-paths" }, report.paths.map((item) => element("li", {}, element("code", { text: item.path }), ` ${item.count}`))) : null,
    report.examples.length ? element("table", { class: "differences shadow-examples" },
      element("thead", {}, element("tr", {}, ["event", "kind", "path", "live", "", "candidate"].map((name) => element("th", { text: name })))),
      element("tbody", {}, report.examples.flatMap((example) => example.differences.map((difference, index) => element("tr", { class: "difference" },
        element("td", { text: index === 0 ? [example.location, example.messageId].filter(Boolean).join(", ") : "" }),
        element("td", { text: index === 0 ? example.kind : "" }),
        element("td", {}, element("code", { text: difference.path })),
        element("td", { class: "old" }, element("code", { text: "live" in difference ? JSON.stringify(difference.live) : "(missing)" })),
        element("td", { text: "→" }),
        element("td", { class: "new" }, element("code", { text: "candidate" in difference ? JSON.stringify(difference.candidate) : "(missing)" }))))))) : null,
  ].filter(Boolean));
}

function renderRollout(rollout) {
  const target = box.querySelector("#canary-state");
  const active = !!rollout && rollout.state === "active";
  box.querySelector("#canary-start").disabled = active;
  box.querySelector("#canary-promote").disabled = !active;
  box.querySelector("#canary-abort").disabled = !active;
  if (!rollout) {
    target.dataset.state = "none";
    target.replaceChildren(element("p", { class: "muted", text: "No canary rollout." }));
    return;
  }
  target.dataset.state = rollout.state;
  target.dataset.candidate = rollout.candidate;
  const live = rollout.counts.live ? rollout.counts.live.events : 0, candidate = rollout.counts.candidate ? rollout.counts.candidate.events : 0;
  target.dataset.events = live + candidate;
  target.dataset.candidateEvents = candidate;
  const side = (label, numbers) => numbers
    ? element("li", {}, `${label} ${numbers.version}: ${numbers.events} events, ${numbers.errors} errors, ${numbers.limitHits} limit hits`)
    : element("li", { class: "muted" }, `${label}: no events yet`);
  target.replaceChildren(...[
    element("p", {}, element("strong", { text: active ? `${rollout.percent} % to ${rollout.candidate}` : rollout.state.replace("_", " ") }),
      active ? ` (live ${rollout.live}), started by ${rollout.startedBy} at ${rollout.startedAt}`
        : ` candidate ${rollout.candidate}, ended by ${rollout.endedBy || "?"} at ${rollout.endedAt || "?"}${rollout.reason ? `: ${rollout.reason}` : ""}`),
    element("ul", { class: "small" }, side("live", rollout.counts.live), side("candidate", rollout.counts.candidate)),
    active && rollout.nextStep ? element("p", { class: "small muted", text: `next: ${rollout.nextStep.percent} % at ${rollout.nextStep.dueAt}` }) : null,
  ].filter(Boolean));
}
