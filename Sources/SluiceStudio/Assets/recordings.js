// Studio: run the editor's code on a slice of a recording (`sluice record` / `serve --record`
// files) and compare each event's results with the recorded ones, as `sluice replay` does. Lists
// the recordings the service can see (GET /studio/api/recordings); the run itself goes through
// POST /studio/api/recordings/run, and its answer is a run like any other (studio.js draws the
// events table) plus the comparison drawn here.

import * as api from "./api.js";
import { element, short } from "./dom.js";

const $ = (selector) => document.querySelector(selector);
let listing = { recordings: [], folders: [], maximumSlice: 1000 };

/** Loads the list of recordings into the picker. */
export async function load() {
  listing = await api.get("/studio/api/recordings");
  const select = $("#recording");
  const previous = select.value;
  if (!listing.recordings.length) {
    const folders = listing.folders.map((folder) => folder.path).join(", ") || "no recordings folder configured";
    select.replaceChildren(element("option", { value: "", text: `no recordings (${folders})` }));
    select.disabled = true;
  } else {
    select.disabled = false;
    select.replaceChildren(...listing.recordings.map((recording) => element("option", { value: recording.id,
      text: `${recording.name} — ${recording.events} event${recording.events === 1 ? "" : "s"}${recording.transformation ? ` of ${recording.transformation}` : ""}` })));
    if (listing.recordings.some((recording) => recording.id === previous)) select.value = previous;
  }
  $("#slice-count").max = String(listing.maximumSlice);
  describe();
  return listing;
}

/** Picks the first recording of the transformation `name`, if there is one. */
export function prefer(name) {
  const found = listing.recordings.find((recording) => recording.transformation === name);
  if (found) {
    $("#recording").value = found.id;
    describe();
  }
  return Boolean(found);
}

function describe() {
  const recording = listing.recordings.find((item) => item.id === $("#recording").value);
  const info = $("#recording-info");
  if (!recording) {
    info.textContent = listing.folders.length ? `folders: ${listing.folders.map((folder) => folder.path + (folder.exists ? "" : " (missing)")).join(", ")}` : "";
    return;
  }
  const first = recording.firstTimestamp, last = recording.lastTimestamp;
  const range = first && last ? `, events from ${first} to ${last}` : first ? `, the first event at ${first}` : last ? `, the last event at ${last}` : "";
  info.textContent = `${recording.transformation ? `transformation ${recording.transformation}` : "transformation not known here"}: `
    + `${recording.events} events in ${recording.files.length} file${recording.files.length === 1 ? "" : "s"} (${recording.files.map((file) => file.name).join(", ")})`
    + `${range}${recording.modified ? `; last written ${recording.modified}` : ""}. At most ${listing.maximumSlice} events per run.`;
}

/** The slice the page asks for, merged into a run's body. */
export function sliceRequest() {
  const recording = $("#recording").value;
  if (!recording) throw new Error("no recording to run on: record one with sluice record or serve --record");
  const body = { recording, offset: parseInt($("#slice-offset").value, 10) || 0, count: parseInt($("#slice-count").value, 10) || 20 };
  // The service refuses it too; said here without a round trip.
  if (body.count > listing.maximumSlice) {
    throw new Error(`${body.count} events is above Studio's slice limit of ${listing.maximumSlice} events: run a smaller slice, or the whole recording with sluice replay`);
  }
  const type = $("#slice-type").value.trim();
  if (type) body.type = type;
  return body;
}

export function setup() {
  $("#recording").addEventListener("change", describe);
  return load();
}

const kinds = [["unchanged", "unchanged"], ["changed", "changed"], ["newlyFailing", "newly failing"], ["newlyPassing", "newly passing"],
  ["newlyDropped", "newly dropped"], ["newlyProduced", "newly produced"]];

/** The comparison with the recording: the counts `sluice replay` gives, lines of the slice that are
 *  not recordings, the paths that changed most, and every differing event with its differences
 *  (path, recorded (old) → this run (new)) and its recorded and new result lines side by side. */
export function renderReplay(result) {
  const replay = result.replay;
  const slice = result.recording;
  const box = element("div", { class: "replay", dataset: { changed: String(replay.events - replay.unchanged) } });
  const where = slice.from ? ` (${slice.from.file}:${slice.from.line} to ${slice.to.file}:${slice.to.line})` : "";
  box.append(element("h4", { text: `Compared with the recording ${slice.name}: ${replay.events} event${replay.events === 1 ? "" : "s"}`
    + `${slice.type ? ` of type ${slice.type}` : ""} from offset ${slice.offset}${where}` }));
  box.append(element("ul", { class: "replay-counts" }, kinds.map(([key, label]) =>
    element("li", { class: `count-${label.replace(" ", "-")}`, dataset: { kind: label } }, element("strong", { text: String(replay[key]) }), ` ${label}`))));
  if (result.unreadable && result.unreadable.length) {
    box.append(element("ul", { class: "unreadable" }, result.unreadable.map((line) =>
      element("li", { dataset: { line: String(line.line) }, text: `${line.file} line ${line.line}: ${line.message} (not run)` }))));
  }
  const paths = Object.entries(replay.paths || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  if (paths.length) {
    box.append(element("p", { class: "small" }, "paths that changed most: ",
      paths.flatMap(([path, count], index) => [index ? ", " : "", element("code", { text: path }), ` (${count})`])));
  }
  for (const event of result.events.filter((item) => item.comparison && item.comparison !== "unchanged")) {
    const label = `${event.file}:${event.line}${event.messageId ? `, messageId ${event.messageId}` : ""}`;
    const table = element("table", { class: "differences" },
      element("thead", {}, element("tr", {}, ["path", "recorded (old)", "", "this run (new)"].map((name) => element("th", { text: name })))),
      element("tbody", {}, (event.changes || []).map((difference) => element("tr", { class: "difference" },
        element("td", {}, element("code", { text: difference.path })),
        element("td", { class: "old" }, element("code", { text: "expected" in difference ? short(difference.expected) : "(missing)" })),
        element("td", { text: "→" }),
        element("td", { class: "new" }, element("code", { text: "actual" in difference ? short(difference.actual) : "(missing)" }))))));
    box.append(element("div", { class: "replay-event", dataset: { comparison: event.comparison, line: String(event.line) } },
      element("h5", {}, element("span", { class: `comparison comparison-${event.comparison.replace(" ", "-")}`, text: event.comparison }), ` ${label}`),
      table,
      element("details", {}, element("summary", { text: "recorded and new results" }),
        element("div", { class: "side-by-side" },
          element("div", {}, element("h5", { text: "recorded" }), element("pre", { text: event.recorded.map((line) => JSON.stringify(line)).join("\n") })),
          element("div", {}, element("h5", { text: "this run" }), element("pre", { text: event.fresh.map((line) => JSON.stringify(line)).join("\n") }))))));
  }
  if (replay.events === replay.unchanged) box.append(element("p", { class: "ok-text", text: "Every event's results are the recorded ones." }));
  return box;
}
