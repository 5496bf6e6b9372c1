// The Roam cluster dashboard: draws the state its host pushes over /live once
// a second (src/web/cluster-feed.ts). Plain DOM and hand-drawn SVG: two line
// plots do not need a charting library. Every text goes in as textContent.
"use strict";

const WINDOW_MS = 180_000; // the plots' longest time span (the host keeps 180 one-second samples)
const MIN_WINDOW_MS = 30_000;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const SVG = "http://www.w3.org/2000/svg";
const token = new URLSearchParams(location.search).get("token");
let updates = 0;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/live${token ? `?token=${encodeURIComponent(token)}` : ""}`);
  const status = document.getElementById("connection");
  ws.onopen = () => { status.textContent = "live"; status.className = "up"; };
  ws.onmessage = (event) => render(JSON.parse(event.data));
  ws.onclose = () => {
    status.textContent = "disconnected: retrying"; status.className = "down";
    setTimeout(connect, 2000);
  };
}

function render(state) {
  const names = [...new Set([...state.members.map((m) => m.name), ...Object.values(state.history).map((h) => h.name)])].sort();
  const color = (name) => COLORS[Math.max(0, names.indexOf(name)) % COLORS.length];
  document.getElementById("seen-from").textContent = `as host ${state.self} sees it, ${new Date(state.at).toLocaleTimeString()}`
    + (state.unreachable.length ? ` (no report this second from ${state.unreachable.join(", ")})` : "");
  hosts(state, color);
  plots(state, color);
  guests(state, color);
  migrations(state);
  decisions(state);
  updates++;
  document.body.dataset.updates = String(updates);
}

// ---- Tables ------------------------------------------------------------------------------

/** Replaces `tbody`'s rows: one per item, cells from `cells(item)` (text, or [text, class], or a node). */
function fill(id, items, cells, rowClass = () => "", empty = "none yet") {
  const tbody = document.querySelector(`#${id} tbody`);
  const columns = document.querySelectorAll(`#${id} thead th`).length;
  tbody.replaceChildren();
  if (!items.length) {
    const td = cell(empty, "empty");
    td.colSpan = columns;
    tbody.append(row([td]));
    return;
  }
  for (const item of items) {
    const tr = row(cells(item).map((c) => (c instanceof Node ? wrap(c) : Array.isArray(c) ? cell(c[0], c[1]) : cell(c))));
    tr.className = rowClass(item);
    tbody.append(tr);
  }
}

function row(tds) { const tr = document.createElement("tr"); tr.append(...tds); return tr; }
function cell(text, className = "") { const td = document.createElement("td"); td.textContent = String(text); td.className = className; return td; }
function wrap(node) { const td = document.createElement("td"); td.append(node); return td; }

function swatched(name, color) {
  const span = document.createElement("span");
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = color;
  span.append(swatch, document.createTextNode(name));
  return span;
}

const mips = (ips) => `${(ips / 1e6).toFixed(ips < 1e7 ? 1 : 0)}M`;
const mib = (bytes) => (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0);
const time = (iso) => new Date(iso).toLocaleTimeString();

function hosts(state, color) {
  fill("hosts", state.members, (m) => [
    swatched(m.name, color(m.name)), m.state === "self" ? "up (this page's host)" : m.state,
    m.capacity === null ? "-" : mips(m.capacity), m.speed === null || m.speed === undefined ? "-" : [mips(m.speed), "num"],
    [m.load.toFixed(2), "num"], `${m.runnable}/${m.guests}`,
    [mips(m.ipsGiven), "num"], [mips(m.ipsWanted), "num"], `${mib(m.memoryUsed)} / ${mib(m.memoryUsed + m.memoryFree)}`,
    [m.messagesPerSecond, "num"], [((m.crossingBytesPerSecond ?? 0) / 1024).toFixed(1), "num"], m.labels.join(",") || "-", state.policy[m.name] ?? "-",
  ], (m) => (m.state === "down" ? "down" : ""));
}

function guests(state, color) {
  const list = [...state.guests].sort((a, b) => a.id.localeCompare(b.id));
  fill("guests", list, (g) => {
    const path = document.createElement("span");
    g.path.forEach((name, i) => { if (i) path.append(" → "); path.append(swatched(name, color(name))); });
    return [g.id, g.program, swatched(g.host, color(g.host)), g.status, [mib(g.ramBytes), "num"], [g.instret.toLocaleString("en"), "num"], path];
  }, () => "", "no guest runs in the cluster");
}

function migrations(state) {
  const list = [...state.migrations].reverse().slice(0, 30);
  fill("migrations", list, (m) => [
    time(m.startedAt), m.guest, `${m.from} → ${m.toName}`, m.strategy, m.status + (m.error ? `: ${m.error}` : ""),
    [m.downtimeMs.toFixed(2), "num"], [mib(m.bytes), "num"], [m.rounds, "num"], [m.totalMs.toFixed(0), "num"],
  ], (m) => (m.status === "failed" ? "failed" : m.status === "completed" ? "" : "active"));
  for (const [i, tr] of [...document.querySelectorAll("#migrations tbody tr")].entries()) if (list[i]) tr.dataset.guest = list[i].guest;
}

function decisions(state) {
  const list = [...state.decisions].reverse().slice(0, 30);
  fill("decisions", list, (d) => [time(d.at), d.host, d.policy, d.action, d.guest ?? "-", `${d.from} → ${d.to}`, [d.reason, "reason"]],
    (d) => (d.action === "failed" ? "failed" : ""));
}

// ---- Plots -------------------------------------------------------------------------------

function plots(state, color) {
  const series = Object.values(state.history).sort((a, b) => a.name.localeCompare(b.name));
  // The span grows with the history, up to WINDOW_MS: a page opened on a new cluster fills its width.
  const first = Math.min(state.at, ...series.map((h) => h.samples[0]?.[0] ?? state.at));
  const span = Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, Math.ceil((state.at - first) / 10_000) * 10_000));
  const marks = state.migrations.map((m) => Date.parse(m.startedAt));
  plot("plot-ips", state.at, span, series.map((h) => ({
    name: h.name, color: color(h.name), points: h.samples.map((s) => [s[0], s[1] / 1e6]), level: h.capacity === null ? undefined : h.capacity / 1e6,
  })), marks, (v) => `${v.toFixed(v < 10 ? 1 : 0)}M`);
  plot("plot-load", state.at, span, series.map((h) => ({
    name: h.name, color: color(h.name), points: h.samples.map((s) => [s[0], s[6]]),
  })), marks, (v) => v.toFixed(2), 1);
}

/** A line per series over the `span` ms up to `now`; dashed levels, vertical marks at `marks` (ms). */
function plot(id, now, span, series, marks, format, floorMax = 0) {
  const W = 600, H = 220, L = 44, R = 8, T = 8, B = 20;
  const from = now - span;
  const values = series.flatMap((s) => [...s.points.filter((p) => p[0] >= from).map((p) => p[1]), s.level ?? 0]);
  const max = niceCeiling(Math.max(floorMax, ...values, 1e-9));
  const x = (t) => L + ((t - from) / span) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const svg = element("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(element("line", { class: i ? "grid" : "axis", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    svg.append(text(format(v), L - 4, y(v) + 3, "end"));
  }
  const step = [5000, 10_000, 15_000, 30_000, 60_000].find((s) => span / s <= 7) ?? 60_000;
  for (let ago = 0; ago <= span; ago += step) svg.append(text(ago ? `-${ago / 1000}s` : "now", x(now - ago), H - 6, ago ? "middle" : "end"));
  for (const t of marks) if (t >= from) svg.append(element("line", { class: "migration", x1: x(t), x2: x(t), y1: T, y2: H - B }));
  for (const s of series) {
    if (s.level !== undefined) svg.append(element("line", { class: "capacity", stroke: s.color, x1: L, x2: W - R, y1: y(s.level), y2: y(s.level) }));
    const d = pathOf(s.points.filter((p) => p[0] >= from), x, y);
    if (d) svg.append(element("path", { class: "series", stroke: s.color, d, "data-host": s.name }));
  }
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const s of series) legend.append(swatched(s.name, s.color));
  document.getElementById(id).replaceChildren(svg, legend);
}

/** An SVG path through the points; a gap of more than 3 s (a host down) starts a new piece. */
function pathOf(points, x, y) {
  let d = "";
  let last = -Infinity;
  for (const [t, v] of points) {
    d += `${t - last > 3000 ? "M" : "L"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    last = t;
  }
  return d;
}

function niceCeiling(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * step).find((c) => c >= v * 1.05) ?? 10 * step;
}

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  return node;
}

function text(content, x, y, anchor) {
  const node = element("text", { x, y, "text-anchor": anchor });
  node.textContent = content;
  return node;
}

connect();
