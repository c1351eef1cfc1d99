// Canvas drawing for the csi-edge web view: heatmap, activity band, timeline, top view.
// Times are the page's own clock in seconds (performance.now() / 1000).

const FIXED_COLORS = { empty: "#64748b", walking: "#f59e0b", sitting: "#3b82f6", lying: "#10b981", unknown: "#d946ef" };
const PALETTE = ["#f97316", "#06b6d4", "#a3e635", "#eab308", "#ec4899", "#8b5cf6", "#14b8a6"];

export function activityColor(name, classes) {
  if (name in FIXED_COLORS) return FIXED_COLORS[name];
  const i = Math.max(0, classes.indexOf(name));
  return PALETTE[i % PALETTE.length];
}

// A perceptual dark-to-bright map (anchors close to viridis), as a 256-entry RGB table.
const ANCHORS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export const LUT = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (ANCHORS.length - 1);
    const k = Math.min(ANCHORS.length - 2, Math.floor(x));
    const f = x - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = ANCHORS[k][c] + (ANCHORS[k + 1][c] - ANCHORS[k][c]) * f;
  }
  return lut;
})();

export function drawColorbar(canvas) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let y = 0; y < canvas.height; y++) {
    const i = Math.round(255 * (1 - y / (canvas.height - 1)));
    for (let x = 0; x < canvas.width; x++) {
      const o = (y * canvas.width + x) * 4;
      img.data[o] = LUT[i * 3]; img.data[o + 1] = LUT[i * 3 + 1]; img.data[o + 2] = LUT[i * 3 + 2]; img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// The colour range: 2nd and 98th percentile of the visible values (uint8), recomputed by the caller.
export function valueRange(rows) {
  const hist = new Uint32Array(256);
  let n = 0;
  for (const r of rows) { for (let i = 0; i < r.values.length; i++) hist[r.values[i]]++; n += r.values.length; }
  if (!n) return null;
  const pick = (q) => { let acc = 0; for (let v = 0; v < 256; v++) { acc += hist[v]; if (acc >= q * n) return v; } return 255; };
  const lo = pick(0.02), hi = Math.max(pick(0.98), lo + 1);
  return { lo, hi };
}

// Heatmap: x = time (last `span` s, now at the right), y = subcarrier (+26 at the top).
const MAX_ROW_S = 0.25;  // a row fills the time to the next one, up to this: a longer gap stays dark

export function drawHeatmap(canvas, rows, now, span, range) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, s = 52;
  if (!drawHeatmap.buf) { drawHeatmap.buf = document.createElement("canvas"); }
  const buf = drawHeatmap.buf;
  if (buf.width !== w) { buf.width = w; buf.height = s; }
  const bctx = buf.getContext("2d");
  const img = bctx.createImageData(w, s);
  const d = img.data;
  if (range) {
    const scale = 255 / (range.hi - range.lo);
    for (let r = 0; r < rows.length; r++) {
      const x0 = Math.floor(w - ((now - rows[r].t) / span) * w);
      const x1 = r + 1 < rows.length ? Math.floor(w - ((now - rows[r + 1].t) / span) * w) : x0 + 1;
      const a = Math.max(0, x0), b = Math.min(w, Math.max(x1, x0 + 1), x0 + Math.ceil((MAX_ROW_S / span) * w));
      if (b <= a) continue;
      const v = rows[r].values;
      for (let k = 0; k < s; k++) {
        const i = Math.max(0, Math.min(255, Math.round((v[k] - range.lo) * scale)));
        const y = s - 1 - k;
        for (let x = a; x < b; x++) {
          const o = (y * w + x) * 4;
          d[o] = LUT[i * 3]; d[o + 1] = LUT[i * 3 + 1]; d[o + 2] = LUT[i * 3 + 2]; d[o + 3] = 255;
        }
      }
    }
  }
  bctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = "#0c0f13";
  ctx.fillRect(0, 0, w, canvas.height);
  ctx.drawImage(buf, 0, 0, w, canvas.height);
}

// Segments [{t, activity}] as coloured spans from each entry to the next (the last one to `now`).
export function drawSegments(canvas, items, now, span, classes) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = "#0c0f13";
  ctx.fillRect(0, 0, w, h);
  for (let i = 0; i < items.length; i++) {
    const t0 = items[i].t, t1 = i + 1 < items.length ? items[i + 1].t : now;
    if (t1 - t0 > 3 * (items[i].step || 0.5)) continue;  // no result for a while: leave a gap
    const x0 = Math.max(0, Math.floor(w - ((now - t0) / span) * w)), x1 = Math.ceil(w - ((now - t1) / span) * w);
    if (x1 < 0 || !items[i].activity) continue;
    ctx.fillStyle = activityColor(items[i].activity, classes);
    ctx.fillRect(x0, 0, Math.max(1, x1 - x0), h);
  }
}

function extent(points, baseline) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const p of points.concat(baseline ? [{ x: baseline[0], y: baseline[1] }] : [])) {
    x0 = Math.min(x0, p.x); x1 = Math.max(x1, p.x); y0 = Math.min(y0, p.y); y1 = Math.max(y1, p.y);
  }
  if (!isFinite(x0)) { x0 = 0; x1 = 4; y0 = 0; y1 = 4; }
  const size = Math.max(4, x1 - x0 + 1, y1 - y0 + 1);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return { x0: cx - size / 2, y0: cy - size / 2, size };
}

// Top view: metre grid, the trail (oldest faint), the newest position as a dot.
export function drawTopView(canvas, trail, baseline, note) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 18;
  const e = extent(trail, baseline);
  const px = (x) => pad + ((x - e.x0) / e.size) * (w - 2 * pad);
  const py = (y) => h - pad - ((y - e.y0) / e.size) * (h - 2 * pad);
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#2c333d"; ctx.fillStyle = "#8b95a3"; ctx.font = "10px sans-serif"; ctx.lineWidth = 1;
  for (let m = Math.ceil(e.x0); m <= e.x0 + e.size; m++) {
    ctx.beginPath(); ctx.moveTo(px(m), pad); ctx.lineTo(px(m), h - pad); ctx.stroke(); ctx.fillText(`${m}`, px(m) - 3, h - 5);
  }
  for (let m = Math.ceil(e.y0); m <= e.y0 + e.size; m++) {
    ctx.beginPath(); ctx.moveTo(pad, py(m)); ctx.lineTo(w - pad, py(m)); ctx.stroke(); ctx.fillText(`${m}`, 2, py(m) + 3);
  }
  for (let i = 1; i < trail.length; i++) {
    ctx.strokeStyle = `rgba(56, 189, 248, ${0.15 + 0.85 * (i / trail.length)})`;
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(px(trail[i - 1].x), py(trail[i - 1].y)); ctx.lineTo(px(trail[i].x), py(trail[i].y)); ctx.stroke();
  }
  if (trail.length) {
    const p = trail[trail.length - 1];
    ctx.fillStyle = "#38bdf8";
    ctx.beginPath(); ctx.arc(px(p.x), py(p.y), 7, 0, 2 * Math.PI); ctx.fill();
  } else if (note) {  // say why there is no dot, on the plot itself
    const lines = note.split(": ");
    ctx.fillStyle = "rgba(12, 15, 19, 0.85)"; ctx.fillRect(pad, h / 2 - 22, w - 2 * pad, 16 * lines.length + 12);
    ctx.fillStyle = "#cbd5e1"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
    lines.forEach((line, i) => ctx.fillText(line, w / 2, h / 2 - 4 + 16 * i));
    ctx.textAlign = "start";
  }
}
