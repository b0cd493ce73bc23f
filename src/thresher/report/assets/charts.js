/* thresher report: a small SVG chart kit in plain JavaScript (no library, no network). */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

/** An HTML element with attributes (class via "class") and optional text, appended to parent. */
function h(tag, attrs, parent, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (parent) parent.appendChild(node);
  return node;
}

/** An SVG element with attributes, appended to parent. */
function s(tag, attrs, parent, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
  }
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (parent) parent.appendChild(node);
  return node;
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const r = raw / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

function ticks(lo, hi, count) {
  if (!(hi > lo) || !Number.isFinite(hi - lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const start = Math.ceil(lo / step - 1e-9);
  const out = [];
  for (let k = 0; k <= 4 * count + 4; k++) {  // bounded: a step below the float resolution cannot loop forever
    const v = (start + k) * step;
    if (v > hi + step * 1e-9) break;
    out.push(Math.abs(v) < step * 1e-9 ? 0 : parseFloat(v.toPrecision(12)));
  }
  return out;
}

function tickLabel(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
  if (a >= 1000) return v.toLocaleString("en-US", {maximumFractionDigits: 0});
  return String(parseFloat(v.toPrecision(4)));
}

const LOGIT_EPS = 1e-6;

/** Log-odds, clamped so that scores of exactly 0 or 1 stay on the axis. */
function logit(p) {
  const q = Math.min(Math.max(p, LOGIT_EPS), 1 - LOGIT_EPS);
  return Math.log(q / (1 - q));
}

function logitTicks(lo, hi) {
  const all = [1e-5, 1e-4, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999];
  let inside = all.filter((v) => v >= lo && v <= hi);
  if (inside.length > 8) inside = inside.filter((v) => ![0.05, 0.25, 0.75, 0.95].includes(v));
  return inside;
}

let chartCounter = 0;

/**
 * One chart: an SVG in a fixed coordinate system (viewBox) that scales with its card.
 * Layers, bottom to top: grid, data (clipped to the plot), marks, cursor, hover.
 */
class Chart {
  constructor(parent, opts) {
    this.opts = opts;
    this.W = opts.width || 540;
    this.H = opts.height || 320;
    const m = {l: 56, r: 16, t: 14, b: 44};
    this.px = [m.l, this.W - m.r];
    this.py = [this.H - m.b, m.t];
    this.xd = opts.x.domain;
    this.yd = opts.y.domain;
    this.fx = opts.x.transform === "logit" ? logit : (v) => v;
    this.fx0 = this.fx(this.xd[0]);
    this.fx1 = this.fx(this.xd[1]);
    this.wrap = h("div", {class: "chart-wrap"}, parent);
    this.svg = s("svg", {viewBox: `0 0 ${this.W} ${this.H}`, class: "chart", role: "img",
                         "aria-label": opts.title || ""}, this.wrap);
    const id = `clip${++chartCounter}`;
    const defs = s("defs", {}, this.svg);
    const clip = s("clipPath", {id}, defs);
    s("rect", {x: this.px[0], y: this.py[1], width: this.px[1] - this.px[0], height: this.py[0] - this.py[1]}, clip);
    this.grid = s("g", {class: "grid"}, this.svg);
    this.data = s("g", {class: "data", "clip-path": `url(#${id})`}, this.svg);
    this.marks = s("g", {class: "marks"}, this.svg);
    this.cursor = s("g", {class: "cursor"}, this.svg);
    this.hover = s("g", {class: "hover"}, this.svg);
    this.overlay = s("rect", {class: "overlay", x: this.px[0], y: this.py[1], width: this.px[1] - this.px[0],
                              height: this.py[0] - this.py[1]}, this.svg);
    this.tip = h("div", {class: "tip", hidden: true}, this.wrap);
    this.axes();
  }

  X(v) { return this.px[0] + (this.fx(v) - this.fx0) / (this.fx1 - this.fx0) * (this.px[1] - this.px[0]); }
  Y(v) { return this.py[0] + (v - this.yd[0]) / (this.yd[1] - this.yd[0]) * (this.py[1] - this.py[0]); }
  inX(v) { return v >= this.xd[0] && v <= this.xd[1]; }

  axes() {
    const o = this.opts;
    const g = this.grid;
    const xt = o.x.ticks || (o.x.transform === "logit" ? logitTicks(this.xd[0], this.xd[1])
      : ticks(this.xd[0], this.xd[1], 6));
    const yt = o.y.ticks || ticks(this.yd[0], this.yd[1], 5);
    for (const v of yt) {
      const y = this.Y(v);
      s("line", {x1: this.px[0], x2: this.px[1], y1: y, y2: y, class: v === 0 ? "axis-line" : "grid-line"}, g);
      s("text", {x: this.px[0] - 8, y: y + 4, class: "tick", "text-anchor": "end"}, g, (o.y.format || tickLabel)(v));
    }
    for (const v of xt) {
      const x = this.X(v);
      s("line", {x1: x, x2: x, y1: this.py[0], y2: this.py[1], class: "grid-line"}, g);
      s("text", {x, y: this.py[0] + 18, class: "tick", "text-anchor": "middle"}, g, (o.x.format || tickLabel)(v));
    }
    s("line", {x1: this.px[0], x2: this.px[1], y1: this.py[0], y2: this.py[0], class: "axis-line"}, g);
    s("text", {x: (this.px[0] + this.px[1]) / 2, y: this.H - 6, class: "axis-label", "text-anchor": "middle"}, g,
      o.x.label || "");
    const yl = s("text", {x: 0, y: 0, class: "axis-label", "text-anchor": "middle",
                          transform: `translate(14 ${(this.py[0] + this.py[1]) / 2}) rotate(-90)`}, g);
    yl.textContent = o.y.label || "";
  }

  /** A polyline through finite points; a non-finite value starts a new segment. */
  pathData(xs, ys, step) {
    let d = "";
    let open = false;
    let lastY = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i], y = ys[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) { open = false; continue; }
      const X = this.X(x).toFixed(2), Y = this.Y(y).toFixed(2);
      if (!open) d += `M${X},${Y}`;
      else if (step) d += `H${X}V${Y}`;
      else d += `L${X},${Y}`;
      open = true;
      lastY = Y;
    }
    return d;
  }

  line(xs, ys, attrs, layer) {
    return s("path", Object.assign({d: this.pathData(xs, ys, attrs && attrs.step), fill: "none"}, attrs || {}),
             layer || this.data);
  }

  /** The area between the line and y = base (default the bottom of the y domain). */
  area(xs, ys, attrs, base) {
    const b = this.Y(base === undefined ? this.yd[0] : base).toFixed(2);
    const pts = [];
    for (let i = 0; i < xs.length; i++) {
      if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push([this.X(xs[i]).toFixed(2), this.Y(ys[i]).toFixed(2)]);
    }
    if (!pts.length) return null;
    let d = `M${pts[0][0]},${b}`;
    for (const [x, y] of pts) d += `L${x},${y}`;
    d += `L${pts[pts.length - 1][0]},${b}Z`;
    return s("path", Object.assign({d}, attrs || {}), this.data);
  }

  /** A step histogram as one closed path: bars from edges[i] to edges[i+1] at heights[i]. */
  histogram(edges, heights, attrs) {
    const b = this.Y(this.yd[0]).toFixed(2);
    let d = `M${this.X(edges[0]).toFixed(2)},${b}`;
    for (let i = 0; i < heights.length; i++) {
      const y = this.Y(heights[i]).toFixed(2);
      d += `V${y}H${this.X(edges[i + 1]).toFixed(2)}`;
    }
    d += `V${b}Z`;
    return s("path", Object.assign({d}, attrs || {}), this.data);
  }

  vline(x, attrs, layer) {
    return s("line", Object.assign({x1: this.X(x), x2: this.X(x), y1: this.py[0], y2: this.py[1]}, attrs || {}),
             layer || this.data);
  }

  hline(y, attrs, layer) {
    return s("line", Object.assign({x1: this.px[0], x2: this.px[1], y1: this.Y(y), y2: this.Y(y)}, attrs || {}),
             layer || this.data);
  }

  /** A marked point with optional x and y intervals (error bars with caps). */
  markPoint(x, y, xInt, yInt, style, title) {
    const g = s("g", {class: `mark mark-${style.shape || "circle"}`}, this.marks);
    const X = this.X(x), Y = this.Y(y);
    const cap = 4;
    const bar = (x1, y1, x2, y2) => s("line", {x1, y1, x2, y2, stroke: style.color, class: "errbar"}, g);
    if (yInt && Number.isFinite(yInt[0]) && Number.isFinite(yInt[1])) {
      const a = this.Y(yInt[0]), b = this.Y(yInt[1]);
      bar(X, a, X, b); bar(X - cap, a, X + cap, a); bar(X - cap, b, X + cap, b);
    }
    if (xInt && Number.isFinite(xInt[0]) && Number.isFinite(xInt[1])) {
      const a = this.X(xInt[0]), b = this.X(xInt[1]);
      bar(a, Y, b, Y); bar(a, Y - cap, a, Y + cap); bar(b, Y - cap, b, Y + cap);
    }
    this.symbol(g, X, Y, style);
    if (title) s("title", {}, g, title);
    return g;
  }

  symbol(parent, X, Y, style) {
    const size = style.size || 5.5;
    const fill = style.hollow ? "#fff" : style.color;
    if (style.shape === "diamond") {
      const r = size * 1.25;
      return s("path", {d: `M${X},${Y - r}L${X + r},${Y}L${X},${Y + r}L${X - r},${Y}Z`, fill, stroke: style.color,
                        "stroke-width": 1.6, class: "symbol"}, parent);
    }
    if (style.shape === "square") {
      return s("rect", {x: X - size, y: Y - size, width: 2 * size, height: 2 * size, fill, stroke: style.color,
                        "stroke-width": 1.6, class: "symbol"}, parent);
    }
    return s("circle", {cx: X, cy: Y, r: size, fill, stroke: style.hollow ? style.color : "#fff",
                        "stroke-width": style.hollow ? 1.6 : 1.5, class: "symbol"}, parent);
  }

  /** A vertical marker for a threshold, with a small flag at the top. */
  markThreshold(x, style, title) {
    if (!this.inX(x)) return null;
    const g = s("g", {class: "mark mark-threshold"}, this.marks);
    const X = this.X(x);
    s("line", {x1: X, x2: X, y1: this.py[0], y2: this.py[1] + 6, stroke: style.color, class: "mark-rule"}, g);
    this.symbol(g, X, this.py[1] + 4, Object.assign({}, style, {size: 4.2}));
    if (title) s("title", {}, g, title);
    return g;
  }

  /** Map a pointer event to plot coordinates (viewBox units). */
  pointer(event) {
    const pt = this.svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    return pt.matrixTransform(this.svg.getScreenCTM().inverse());
  }

  /**
   * Interactivity: ``pick(x, y)`` returns the curve index nearest a plot position (or -1);
   * hovering shows ``describe(index)`` in a tooltip; pressing or dragging calls ``choose(index)``.
   */
  interactive(pick, describe, choose, locate) {
    let dragging = false;
    const ring = s("circle", {r: 6, class: "hover-ring", visibility: "hidden"}, this.hover);
    const show = (event) => {
      const p = this.pointer(event);
      const i = pick(p.x, p.y);
      if (i < 0) { hide(); return -1; }
      const at = locate(i);
      ring.setAttribute("cx", at[0]);
      ring.setAttribute("cy", at[1]);
      ring.setAttribute("visibility", "visible");
      this.tip.hidden = false;
      this.tip.textContent = "";
      for (const [k, v] of describe(i)) {
        const row = h("div", {class: "tip-row"}, this.tip);
        h("span", {class: "tip-k"}, row, k);
        h("span", {class: "tip-v"}, row, v);
      }
      const box = this.svg.getBoundingClientRect();
      const scale = box.width / this.W;
      const left = at[0] * scale, top = at[1] * scale;
      this.tip.style.left = `${Math.min(left + 14, box.width - this.tip.offsetWidth - 4)}px`;
      this.tip.style.top = `${Math.max(4, top - this.tip.offsetHeight - 10)}px`;
      return i;
    };
    const hide = () => { ring.setAttribute("visibility", "hidden"); this.tip.hidden = true; };
    this.overlay.addEventListener("pointermove", (e) => {
      const i = show(e);
      if (dragging && i >= 0) choose(i);
    });
    this.overlay.addEventListener("pointerdown", (e) => {
      dragging = true;
      this.overlay.setPointerCapture(e.pointerId);
      const i = show(e);
      if (i >= 0) choose(i);
    });
    const stop = (e) => {
      dragging = false;
      if (this.overlay.hasPointerCapture(e.pointerId)) this.overlay.releasePointerCapture(e.pointerId);
    };
    this.overlay.addEventListener("pointerup", stop);
    this.overlay.addEventListener("pointercancel", stop);
    this.overlay.addEventListener("pointerleave", () => { if (!dragging) hide(); });
  }
}

/** Index of the point nearest (x, y) in plot units among the finite ones, or -1. */
function nearest(chart, xs, ys, x, y, onlyX) {
  let best = -1, bestD = Infinity;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || (!onlyX && !Number.isFinite(ys[i]))) continue;
    const dx = chart.X(xs[i]) - x;
    const dy = onlyX ? 0 : chart.Y(ys[i]) - y;
    const d = dx * dx + dy * dy;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}
