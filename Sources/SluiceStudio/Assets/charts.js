// Live charts ("look, don't read"): a small chart per transformation of its events per second,
// errors, limit hits and p99 time per event over the last minutes, from the service's own metrics
// (GET /studio/api/traffic, polled). Drawn as SVG by attributes and classes only: the page's
// Content-Security-Policy allows no inline style.

import * as api from "./api.js";

const POLL_MILLISECONDS = 3000;
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 360, RATE_TOP = 4, RATE_HEIGHT = 46, P99_TOP = 62, P99_HEIGHT = 26, HEIGHT = 92;

let box = null;
let focus = null;
let latest = null;

/** Starts polling the service's traffic into `element`. */
export function startLiveCharts(element) {
  box = element;
  poll();
}

/** The transformation open in the editor: its chart comes first, and shows even without traffic. */
export function focusLiveChart(name) {
  focus = name;
  if (latest) render(latest);
}

async function poll() {
  try {
    latest = await api.get("/studio/api/traffic");
    render(latest);
  } catch (error) {
    box.dataset.error = error.message;
  } finally {
    setTimeout(poll, POLL_MILLISECONDS);
  }
}

function node(tag, attributes = {}, text) {
  const made = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") made.setAttribute("class", value);
    else made.setAttribute(key, String(value));
  }
  if (text !== undefined) made.textContent = text;
  return made;
}

function minutes(seconds) {
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}

function render(traffic) {
  const period = minutes(traffic.windowSeconds);
  const series = new Map(traffic.transformations.map((item) => [item.name, item.samples]));
  const names = [...series.keys()];
  if (focus && !series.has(focus)) names.unshift(focus);
  else if (focus) names.sort((a, b) => (a === focus ? -1 : b === focus ? 1 : 0));
  const heading = node("h3", {}, `Live traffic, last ${period}`);
  heading.append(node("span", { class: "muted small" }, ` (one sample every ${traffic.intervalSeconds} s, from the service's metrics: `),
    node("span", { class: "key rate" }, "events/s"), node("span", { class: "key errors" }, "errors/s"),
    node("span", { class: "key limit-hits" }, "limit hits/s"), node("span", { class: "key p99" }, "p99 per event"),
    node("span", { class: "muted small" }, ")"));
  const charts = names.map((name) => chart(name, series.get(name) || [], traffic));
  const children = [heading];
  if (charts.length === 0) children.push(node("p", { class: "live-empty muted", id: "live-empty" }, `No traffic in the last ${period}.`));
  else children.push(node("div", { class: "live-charts" }));
  box.replaceChildren(...children);
  if (charts.length) box.querySelector(".live-charts").append(...charts);
}

/** One transformation's card: totals and the latest interval in words, and the chart. */
function chart(name, samples, traffic) {
  const total = (key) => samples.reduce((sum, sample) => sum + sample[key], 0);
  const events = total("events"), errors = total("errors"), limitHits = total("limitHits");
  const figure = node("figure", { class: `live-chart${name === focus ? " focus" : ""}`, "data-name": name, "data-events": events,
    "data-errors": errors, "data-limit-hits": limitHits });
  const caption = node("figcaption");
  caption.append(node("strong", {}, name));
  if (events === 0) {
    caption.append(node("span", { class: "muted small live-empty" }, ` no traffic in the last ${minutes(traffic.windowSeconds)}`));
    figure.append(caption);
    return figure;
  }
  const last = samples[samples.length - 1];
  const recent = traffic.now - last.at < traffic.intervalSeconds * 2;
  const p99s = samples.map((sample) => sample.p99Milliseconds).filter((value) => typeof value === "number");
  caption.append(node("span", { class: "small" },
    ` ${recent ? `${last.eventsPerSecond.toFixed(1)} events/s now` : "idle now"} · ${events} event${events === 1 ? "" : "s"}, ` +
    `${errors} error${errors === 1 ? "" : "s"}, ${limitHits} limit hit${limitHits === 1 ? "" : "s"}` +
    (p99s.length ? ` · p99 ${Math.max(...p99s).toFixed(2)} ms at most` : "")));
  figure.append(caption, drawing(name, samples, traffic));
  return figure;
}

/** Bars of events/s (errors and limit hits on top of them, same scale) over the window, and the
 *  p99 per event as a line below; the newest interval on the right. */
function drawing(name, samples, traffic) {
  const slots = traffic.windowSeconds / traffic.intervalSeconds;
  const slot = WIDTH / slots;
  const newest = Math.floor(traffic.now / traffic.intervalSeconds) * traffic.intervalSeconds;
  const x = (at) => WIDTH - ((newest - at) / traffic.intervalSeconds + 1) * slot;
  const topRate = Math.max(...samples.map((sample) => sample.eventsPerSecond), 0.001);
  const p99s = samples.filter((sample) => typeof sample.p99Milliseconds === "number");
  const topP99 = Math.max(...p99s.map((sample) => sample.p99Milliseconds), 0.001);
  const svg = node("svg:svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "live-svg", role: "img",
    "aria-label": `${name}: up to ${topRate.toFixed(1)} events/s, p99 up to ${topP99.toFixed(2)} ms` });
  svg.append(node("svg:rect", { x: 0, y: RATE_TOP, width: WIDTH, height: RATE_HEIGHT, class: "panel" }),
    node("svg:rect", { x: 0, y: P99_TOP, width: WIDTH, height: P99_HEIGHT, class: "panel" }));
  const bar = (at, perSecond, className, tip) => {
    const height = Math.max(1, (perSecond / topRate) * RATE_HEIGHT);
    const shape = node("svg:rect", { x: x(at).toFixed(2), y: (RATE_TOP + RATE_HEIGHT - height).toFixed(2),
      width: Math.max(1, slot - 0.4).toFixed(2), height: height.toFixed(2), class: className });
    shape.append(node("svg:title", {}, tip));
    return shape;
  };
  for (const sample of samples) {
    const when = new Date(sample.at * 1000).toLocaleTimeString();
    const seconds = traffic.intervalSeconds;
    svg.append(bar(sample.at, sample.eventsPerSecond, "rate",
      `${when}: ${sample.eventsPerSecond.toFixed(1)} events/s (${sample.events} events), ${sample.errors} errors, ${sample.limitHits} limit hits` +
      (typeof sample.p99Milliseconds === "number" ? `, p99 ${sample.p99Milliseconds.toFixed(2)} ms` : "")));
    if (sample.errors) svg.append(bar(sample.at, sample.errors / seconds, "errors", `${when}: ${sample.errors} errors`));
    if (sample.limitHits) svg.append(bar(sample.at, sample.limitHits / seconds, "limit-hits", `${when}: ${sample.limitHits} limit hits`));
  }
  if (p99s.length) {
    const points = p99s.map((sample) => {
      const px = x(sample.at) + slot / 2;
      const py = P99_TOP + P99_HEIGHT - (sample.p99Milliseconds / topP99) * (P99_HEIGHT - 2) - 1;
      return `${px.toFixed(2)},${py.toFixed(2)}`;
    });
    if (points.length === 1) points.push(points[0].replace(/^([\d.]+)/, (match) => (parseFloat(match) + 2).toFixed(2)));
    svg.append(node("svg:polyline", { points: points.join(" "), class: "p99" }));
  }
  svg.append(node("svg:text", { x: 3, y: RATE_TOP + 10, class: "label" }, `${topRate.toFixed(1)} events/s`),
    node("svg:text", { x: 3, y: P99_TOP + 10, class: "label" }, `p99 ${topP99.toFixed(2)} ms`),
    node("svg:text", { x: WIDTH - 3, y: HEIGHT - 1, class: "label end" }, "now"));
  return svg;
}
