// The csi-edge web view: one WebSocket (/ws) pushes everything; this file keeps the page's
// state and updates the DOM; draw.js paints the canvases. No polling, no third-party code.
import { activityColor, drawColorbar, drawHeatmap, drawSegments, drawTopView, valueRange } from "./draw.js";

const $ = (id) => document.getElementById(id);
const now = () => performance.now() / 1000;
const STALE_S = 2.0;          // no packet for this long: "stream stopped"
const TRAIL_S = 5.0;          // position trail length
const BOARD_KEYS = ["captured", "sent", "dropped_queue", "dropped_write", "seq_gaps", "tx_send_errors"];
const BOARD_LOSSES = ["dropped_queue", "dropped_write", "tx_send_errors"];  // the board lost packets itself
const DISPLAY_LAG_S = 0.25;   // draw "now" this far back: rows arrive in 0.1 s pushes
const LOCK = { 0: "off", 1: "collecting", 2: "locked", 3: "skipped (AGC too low)", "-1": "unknown" };

const S = {
  ws: null, bootId: null, hello: null, card: null, classes: [], health: null, connected: false,
  rows: [], band: [], timeline: [], trail: [], range: null, rangeAt: 0, streamStopped: null,
  retry: 0, timer: null, lastTimelineAt: 0, clockOffset: null,
};

// -- events and banners ------------------------------------------------------------------------
function logEvent(text, cls) {
  const li = document.createElement("li");
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, text);
  if (cls) li.className = cls;
  $("events").prepend(li);
  while ($("events").children.length > 40) $("events").lastChild.remove();
}

function banner() {
  const b = $("banner");
  let text = null, warn = false;
  if (!S.connected) text = "disconnected from the daemon: reconnecting…";
  else if (S.health && S.health.source && S.health.source.connected === false) text = "the board is disconnected: the daemon is reopening the port";
  else if (S.streamStopped) { text = "stream stopped: no CSI packets for " + S.streamStopped; warn = true; }
  b.hidden = !text;
  b.textContent = text || "";
  b.className = warn ? "warn" : "";
}

function setConn(state) {
  const c = $("conn");
  c.textContent = state;
  c.className = "badge " + (state === "connected" ? "good" : "bad");
  S.connected = state === "connected";
  banner();
}

// -- connection ---------------------------------------------------------------------------------
async function session() {
  const r = await fetch("/api/session", { credentials: "same-origin" });
  return r.json();
}

async function connect() {
  clearTimeout(S.timer);
  setConn(S.bootId ? "reconnecting" : "connecting");
  try {
    const s = await session();
    if (s.token_required && !s.authorized) { showLogin(); return; }
  } catch (e) { retryLater(); return; }
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  S.ws = ws;
  ws.onopen = () => { S.retry = 0; setConn("connected"); };
  ws.onmessage = (ev) => (typeof ev.data === "string" ? onMessage(JSON.parse(ev.data)) : onFrame(ev.data));
  ws.onclose = () => {
    if (S.ws !== ws) return;
    if (S.connected) logEvent("disconnected from the daemon", "bad");
    setConn("disconnected");
    $("stream").textContent = "unknown"; $("stream").className = "badge";
    $("rate").textContent = "–"; $("packets").textContent = "";
    retryLater();
  };
}

function retryLater() {
  setConn("disconnected");
  S.retry = Math.min(S.retry + 1, 4);
  S.timer = setTimeout(connect, 500 * 2 ** (S.retry - 1));  // 0.5, 1, 2, 4 s
}

function showLogin() {
  setConn("token needed");
  $("login").hidden = false;
  $("token").focus();
}

async function login(token) {
  let r;
  try {
    r = await fetch("/api/login", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch (e) { showLogin(); $("login-error").textContent = "the daemon does not answer"; return; }
  if (r.status === 204) { $("login").hidden = true; $("login-error").textContent = ""; connect(); }
  else { showLogin(); $("login-error").textContent = r.status === 401 ? "wrong token" : `error ${r.status}`; }
}

// -- messages -----------------------------------------------------------------------------------
const HANDLERS = {
  hello: onHello, card: onCard, state: onState, health: onHealth, label: onLabel, timeline: onTimeline, live: onLive,
};

function onMessage(msg) {
  const handler = HANDLERS[msg.type];
  if (handler) handler(msg.data);
}

function onHello(h) {
  if (S.bootId && S.bootId !== h.boot_id) logEvent(`the daemon restarted (started ${h.started})`, "warn");
  else if (S.bootId) logEvent("reconnected to the daemon", "ok");
  else logEvent(`connected to ${h.mode === "capture" ? "the capture" : "the daemon"} on ${h.node}`, "ok");
  S.bootId = h.boot_id;
  S.hello = h;
  S.rows = []; S.band = []; S.trail = []; S.clockOffset = null;
  $("node").textContent = h.node;
  const capture = h.mode === "capture";  // a capture has no model: the signal, the link and the label
  $("mode").hidden = !capture;
  $("mode").textContent = "capture";
  for (const id of ["position-card", "model-card", "activity", "activity-details", "probs"]) $(id).hidden = capture;
  $("activity-title").firstChild.textContent = capture ? "Recording " : "Activity ";
  $("band-name").textContent = capture ? "label" : "activity";
  $("heat-seconds").textContent = h.heatmap.seconds;
  $("heat-start").textContent = `−${h.heatmap.seconds} s`;
  $("timeline-minutes").textContent = Math.round(h.timeline_s / 60);
  updateDrift();
}

function row(table, label, value, cls) {
  const tr = table.insertRow();
  tr.insertCell().textContent = label;
  const td = tr.insertCell();
  td.textContent = value === null || value === undefined ? "–" : value;
  if (cls) td.className = cls;
}

function fmt(v, digits = 1, unit = "") {
  return typeof v === "number" ? `${v.toFixed(digits)}${unit}` : v === null || v === undefined ? "–" : String(v);
}

function onCard(c) {
  S.card = c;
  S.classes = c.classes || [];
  const t = $("model");
  t.innerHTML = "";
  row(t, "model", c.model_id);
  if (c.architecture) row(t, "architecture", c.architecture);
  row(t, "classes", S.classes.join(", "));
  if (c.window) row(t, "window / hop", `${c.window} / ${c.hop} packets (${fmt(c.window / c.rate_Hz, 2, " s")} at ${c.rate_Hz} Hz)`);
  if (c.feature) row(t, "feature", c.feature);
  row(t, "positions", c.position_published ? "published (measured skill)" : "not published (no measured position skill)");
  const tr = c.training || {};
  for (const part of ["train", "val", "test"]) {
    const p = (tr.parts || {})[part];
    const spec = tr[part];
    if (spec || p) row(t, `${part} data`, [spec, p && p.windows ? `${p.windows} windows` : null, p && p.recordings ? `${p.recordings} recordings` : null].filter(Boolean).join("; "));
  }
  if (c.created) row(t, "created", c.created);
  const m = $("metrics");
  m.innerHTML = "";
  const parts = Object.entries(c.metrics || {});
  if (parts.length) {
    m.createTHead().innerHTML = "<tr><th>data</th><th>windows</th><th>accuracy</th><th>macro F1</th><th>position RMSE</th></tr>";
    for (const [name, v] of parts) {
      const r = m.insertRow();
      for (const cell of [name, v.n ?? "–", pct(v.accuracy), pct(v.f1_macro), fmt(v.rmse_m, 2, " m")]) r.insertCell().textContent = cell;
    }
  }
  const legend = $("timeline-legend");
  legend.innerHTML = "";
  for (const name of S.classes.concat(["unknown"])) {
    const span = document.createElement("span");
    const i = document.createElement("i");
    i.style.background = activityColor(name, S.classes);
    span.append(i, name);
    legend.append(span);
  }
}

function pct(v) { return typeof v === "number" ? `${(100 * v).toFixed(1)} %` : "–"; }

function onState(st) {
  const t = now();
  const act = $("activity");
  act.textContent = st.activity;
  act.className = "big" + (st.activity === "unknown" ? " unknown" : "");
  $("result").textContent = `result ${st.seq} at ${st.time.slice(11, 23)} · latency ${fmt(st.latency_ms, 1, " ms")}`;
  $("confidence").textContent = pct(st.confidence);
  $("presence").textContent = st.presence === null ? "– (model has no empty class)" : st.presence ? "yes" : "no (room empty)";
  const hasNovelty = "novelty" in st;
  $("novelty-dt").hidden = $("novelty").hidden = !hasNovelty;
  if (hasNovelty) $("novelty").textContent = st.novelty === null ? "–" : `${fmt(st.novelty, 2)}${st.activity === "unknown" ? " (unlike any trained activity)" : ""}`;
  renderProbabilities(st.probabilities || {});
  S.band.push({ t, activity: st.activity, step: 0.5 });
  if (t - S.lastTimelineAt >= 1) { S.timeline.push({ t, activity: st.activity, step: 1 }); S.lastTimelineAt = t; }
  onPosition(st.position, st.presence, t);
}

function renderProbabilities(probs) {
  const box = $("probs");
  const names = Object.keys(probs);
  if (box.childElementCount !== names.length) {
    box.innerHTML = "";
    for (const name of names) {
      const d = document.createElement("div");
      d.className = "prob";
      d.innerHTML = `<span></span><div class="bar"><div></div></div><span class="v"></span>`;
      d.children[0].textContent = name;
      d.children[1].firstChild.style.background = activityColor(name, S.classes);
      box.append(d);
    }
  }
  names.forEach((name, i) => {
    const d = box.children[i];
    d.children[1].firstChild.style.width = `${(100 * probs[name]).toFixed(1)}%`;
    d.children[2].textContent = pct(probs[name]);
  });
}

function onPosition(pos, presence, t) {
  if (pos) {
    S.trail.push({ x: pos.x, y: pos.y, t });
    $("position-text").textContent = `x ${fmt(pos.x, 2)} m, y ${fmt(pos.y, 2)} m, z ${fmt(pos.z, 2)} m`;
  } else {
    S.trail = [];
    $("position-text").textContent = S.card && !S.card.position_published
      ? "no position: this model has no measured position skill"
      : presence === false ? "no position: the room is empty" : "no position";
  }
  while (S.trail.length && t - S.trail[0].t > TRAIL_S) S.trail.shift();
}

function onHealth(h) {
  const prev = S.health;
  S.health = h;
  if (prev) noticeChanges(prev, h);
  $("health-time").textContent = `as of ${h.time.slice(11, 19)} UTC`;
  const t = $("health");
  t.innerHTML = "";
  const src = h.source || {};
  row(t, "source", `${src.name || "–"} (${src.connected === false ? "disconnected" : "connected"}; lost ${src.losses ?? 0}×, reconnected ${src.reconnects ?? 0}×)`, src.connected === false ? "bad" : "");
  row(t, "packet rate", fmt(h.packet_rate_Hz, 1, " Hz"));
  row(t, "packets received / lost", `${fmt(h.packets_received, 0)} / ${fmt(h.packets_lost, 0)} (${fmt(h.loss_percent, 2, " %")})`, h.loss_percent > 5 ? "warn" : "");
  if (h.board) {
    const b = h.board;
    const shown = BOARD_KEYS.filter((k) => typeof b[k] === "number").map((k) => `${k.replaceAll("_", " ")} ${b[k]}`);
    row(t, "board counters", shown.join(", "), BOARD_LOSSES.some((k) => b[k] > 0) ? "warn" : "");
  }
  if ("packets_reordered" in h) row(t, "reordered / TX restarts", `${fmt(h.packets_reordered, 0)} / ${fmt(h.seq_restarts, 0)}`);
  if ("rssi_dBm" in h) row(t, "RSSI / noise floor", `${fmt(h.rssi_dBm, 1, " dBm")} / ${fmt(h.noise_floor_dBm, 1, " dBm")}`);
  if ("agc_gain" in h) row(t, "AGC / FFT gain", `${fmt(h.agc_gain, 0)} / ${fmt(h.fft_gain, 0)}`);
  if ("gain_lock" in h) row(t, "gain lock", LOCK[h.gain_lock] ?? h.gain_lock, h.gain_lock === 2 ? "ok" : "");
  if (h.firmware) row(t, "receiver firmware", h.firmware);
  if ("window_fill_percent" in h) row(t, "window fill / resets", `${fmt(h.window_fill_percent, 0, " %")} / ${fmt(h.window_resets, 0)}`);
  if ("inference_p50_ms" in h) row(t, "inference p50 / p99", `${fmt(h.inference_p50_ms, 2, " ms")} / ${fmt(h.inference_p99_ms, 2, " ms")}`);
  const broker = h.broker_connected;
  if ("broker_connected" in h) row(t, "MQTT broker", broker === null || broker === undefined ? "off" : broker ? "connected" : "not connected", broker === false ? "bad" : broker ? "ok" : "");
  if ("publish_queue_depth" in h) row(t, "MQTT queue / dropped / delivered", `${fmt(h.publish_queue_depth, 0)} / ${fmt(h.publish_dropped, 0)} / ${fmt(h.publish_delivered, 0)}`);
  if ("web_clients" in h) row(t, "web pages / dropped messages", `${fmt(h.web_clients, 0)} / ${fmt(h.web_dropped, 0)}`);
  if (h.commands) row(t, "commands", Object.entries(h.commands).map(([k, v]) => `${k} ${v}`).join(", "));
  const e = $("errors");
  e.innerHTML = "";
  const errs = Object.entries(h.decode_errors || {}).filter(([, v]) => v);
  if (!errs.length) row(e, "none", "");
  for (const [reason, n] of errs) row(e, reason, n, "warn");
  updateDrift();
  banner();
}

function noticeChanges(a, b) {
  const sa = a.source || {}, sb = b.source || {};
  if (sa.connected !== false && sb.connected === false) logEvent("the board disconnected", "bad");
  if ((sb.reconnects ?? 0) > (sa.reconnects ?? 0)) logEvent("the board reconnected", "ok");
  if ((b.seq_restarts ?? 0) > (a.seq_restarts ?? 0)) logEvent("the transmitter restarted (sequence started again)", "warn");
  if (a.firmware && b.firmware && a.firmware !== b.firmware) logEvent(`receiver firmware is now ${b.firmware}`, "warn");
  if (a.model && b.model && a.model !== b.model) logEvent(`model reloaded: ${b.model}`, "warn");
  if (!a.recalibrate && b.recalibrate) logEvent("recalibration recommended (drift)", "warn");
}

function updateDrift() {
  const h = S.health || {};
  const has = "drift" in h || "recalibrate" in h;
  if (has) {
    const state = h.recalibrate ? "recalibration recommended" : "calibration fits";
    $("drift").textContent = `drift score ${h.drift === null || h.drift === undefined ? "– (not measured yet)" : fmt(h.drift, 3)} · ${state}`;
    $("drift").className = h.recalibrate ? "warn" : "";
  }
  $("recalibrate").hidden = !(has && S.hello && S.hello.control);
}

function onLabel(l) {
  const t = now();
  $("capture-label").hidden = false;
  $("label").textContent = l.paused ? `${l.label} (paused)` : l.label;
  $("label-detail").textContent = [`${l.packets} packets`, l.marks ? `${l.marks} marks` : null, l.protocol].filter(Boolean).join(" · ");
  const item = { t, activity: l.paused ? null : l.label, step: 1 };
  S.band.push(item);
  S.timeline.push(item);
}

function onTimeline(tl) {
  const t = now();
  S.timeline = tl.items.map(([age, activity]) => ({ t: t - age, activity, step: 1 }));
  S.band = S.timeline.filter((i) => t - i.t <= (S.hello ? S.hello.heatmap.seconds : 10) + 1);
  S.lastTimelineAt = S.timeline.length ? S.timeline[S.timeline.length - 1].t : 0;
}

function onLive(l) {
  $("rate").textContent = l.rate_Hz === null ? "–" : `${l.rate_Hz.toFixed(1)} Hz`;
  $("packets").textContent = `${l.packets} packets`;
  const stale = l.packet_age_s === null || l.packet_age_s > STALE_S;
  const was = S.streamStopped;
  S.streamStopped = stale ? (l.packet_age_s === null ? "ever" : `${Math.round(l.packet_age_s)} s`) : null;
  $("stream").textContent = stale ? "stream stopped" : "live";
  $("stream").className = "badge " + (stale ? "warn" : "good");
  if (stale && !was && l.packet_age_s !== null) logEvent("the stream stopped", "warn");
  if (!stale && was && was !== "ever") logEvent("the stream resumed", "ok");
  banner();
}

// Rows are placed on the server's clock, mapped to the page's by the smallest delay seen so far
// (it creeps up slowly, so a clock drift or a one-off fast frame does not stick): frames that
// arrive late do not leave dark stripes.
function onFrame(buf) {
  const dv = new DataView(buf);
  if (dv.getUint8(0) !== 0x48 || dv.getUint8(1) !== 1) return;
  const s = dv.getUint16(2, true), n = dv.getUint16(4, true), sent = dv.getFloat64(12, true);
  const ages = new Uint16Array(buf, 20, n);
  const offset = now() - sent;
  S.clockOffset = S.clockOffset === null ? offset : Math.min(offset, S.clockOffset + 0.001);
  for (let i = 0; i < n; i++) {
    S.rows.push({ t: sent + S.clockOffset - ages[i] / 1000, values: new Uint8Array(buf, 20 + 2 * n + i * s, s) });
  }
}

// -- painting -------------------------------------------------------------------------------------
function paint() {
  const t = now() - DISPLAY_LAG_S;
  const span = S.hello ? S.hello.heatmap.seconds : 10;
  while (S.rows.length && t - S.rows[0].t > span) S.rows.shift();
  while (S.band.length > 1 && t - S.band[1].t > span) S.band.shift();
  const tspan = S.hello ? S.hello.timeline_s : 600;
  while (S.timeline.length > 1 && t - S.timeline[1].t > tspan) S.timeline.shift();
  if (t - S.rangeAt > 1 || !S.range) {
    S.range = valueRange(S.rows) || S.range;
    S.rangeAt = t;
    if (S.range && S.hello) {
      $("amp-hi").textContent = `${(S.range.hi / S.hello.heatmap.scale).toFixed(1)} dB`;
      $("amp-lo").textContent = `${(S.range.lo / S.hello.heatmap.scale).toFixed(1)} dB`;
    }
  }
  drawHeatmap($("heatmap"), S.rows, t, span, S.range);
  drawSegments($("band"), S.band, t, span, S.classes);
  drawSegments($("timeline"), S.timeline, t, tspan, S.classes);
  const head = S.card && (S.card.heads || []).find((h) => h.name === "position");
  drawTopView($("topview"), S.trail, head && head.baseline, $("position-text").textContent);
}

function paintLoop() {
  paint();
  setTimeout(() => requestAnimationFrame(paintLoop), 66);  // about 15 frames/s
}

// -- start ------------------------------------------------------------------------------------------
$("login").addEventListener("submit", (ev) => { ev.preventDefault(); login($("token").value); });
$("recalibrate").addEventListener("click", async () => {
  $("recalibrate").disabled = true;
  const r = await fetch("/api/recalibrate", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}" });
  const body = await r.json().catch(() => ({}));
  $("recalibrate-result").textContent = r.status === 202 ? "requested" : body.error || `error ${r.status}`;
  if (r.status === 202) logEvent("recalibration requested", "ok");
  $("recalibrate").disabled = false;
});
drawColorbar($("colorbar"));
const hashToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (hashToken) { history.replaceState(null, "", location.pathname); login(hashToken); } else connect();
paintLoop();
