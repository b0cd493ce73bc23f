/* thresher report: the data, the numbers and their formatting. */

const DOC = JSON.parse(document.getElementById("thresher-data").textContent);
const COST = DOC.cost;
const CONF = `${Math.round(DOC.confidence * 100)}%`;

const INK = "#1f2937";
const CURVE = "#2f5bd3";
const SERIES = {precision: "#2f5bd3", recall: "#e0662b", f1: "#15935b", alert_rate: "#8a5cd6",
                cost: "#0f766e", positives: "#e0662b", negatives: "#4b7bd8"};
const OBJECTIVE_COLORS = ["#c026d3", "#0e95b5", "#c48a06", "#dc2626", "#4f46e5"];
const POLICY_COLORS = ["#334155", "#64748b", "#94a3b8", "#475569"];

// ---- numbers: the same formulas, in the same order, as thresher.metrics.rates -------------
const ratio = (a, b) => (b !== 0 ? a / b : NaN);

function metricsAt(tp, fp, P, N) {
  const tn = N - fp, fn = P - tp;
  const m = {tp, fp, tn, fn};
  m.precision = ratio(tp, tp + fp);
  m.recall = ratio(tp, tp + fn);
  m.f1 = ratio(2 * tp, 2 * tp + 1 * fn + fp);
  m.specificity = ratio(tn, tn + fp);
  m.fpr = ratio(fp, tn + fp);
  m.npv = ratio(tn, tn + fn);
  m.accuracy = ratio(tp + tn, (tp + fp) + (tn + fn));
  m.mcc = ratio(tp * tn - fp * fn, Math.sqrt(tp + fp) * Math.sqrt(tp + fn) * Math.sqrt(tn + fp) * Math.sqrt(tn + fn));
  m.alerts = tp + fp;
  m.alert_rate = ratio(tp + fp, (tp + fp) + (tn + fn));
  // as MinCost.cost: fn and fp cost per error, tp and tn gain per correct call
  m.cost = COST ? COST.fn * fn + COST.fp * fp - COST.tp * tp - COST.tn * tn : NaN;
  return m;
}

// ---- formatting ----------------------------------------------------------------------------
const UNDEFINED = "undefined";
const fmtCount = (v) => (!Number.isFinite(v) ? UNDEFINED : Number.isInteger(v)
  ? v.toLocaleString("en-US") : v.toLocaleString("en-US", {maximumFractionDigits: 2}));
const fmtRatio = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : UNDEFINED);
const fmtPct = (v, d = 2) => (Number.isFinite(v) ? `${(100 * v).toFixed(d)}%` : UNDEFINED);
function fmtThreshold(t) {
  if (!Number.isFinite(t)) return UNDEFINED;
  const a = Math.abs(t);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return t.toExponential(4);
  return String(parseFloat(t.toPrecision(6)));
}
function fmtCost(v) {
  if (!Number.isFinite(v)) return UNDEFINED;
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en-US") : String(parseFloat(v.toPrecision(4)));
}
const fmtInterval = (iv, d = 3) => (iv && iv[0] !== null && iv[1] !== null
  ? `[${iv[0].toFixed(d)}, ${iv[1].toFixed(d)}]` : "");
const num = (v) => (v === null || v === undefined ? NaN : v);

// ---- one view: derived arrays over its display curve ------------------------------------
function derive(view) {
  const c = view.curve;
  const n = c.threshold.length;
  const d = {n, T: c.threshold, TP: c.tp, FP: c.fp, P: view.positives, N: view.negatives};
  for (const k of ["precision", "recall", "f1", "fpr", "alert_rate", "cost"]) d[k] = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = metricsAt(c.tp[i], c.fp[i], d.P, d.N);
    for (const k of ["precision", "recall", "f1", "fpr", "alert_rate", "cost"]) d[k][i] = m[k];
  }
  d.total = d.P + d.N;
  d.costPerCase = d.cost.map((v) => v / d.total);
  let lo = Infinity, hi = -Infinity;
  for (const t of d.T) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
  // one distinct score (or a span below float resolution): widen as the histogram's bins are
  if (!(hi - lo > 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi)))) { lo -= 0.5; hi += 0.5; }
  d.tDomain = [lo, hi];
  return d;
}

/** Index of the curve point that applies at threshold t: the smallest threshold >= t (thresholds decrease). */
function indexAt(T, t) {
  let lo = 0, hi = T.length - 1, found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (T[mid] >= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function markIndex(d, mark) {
  if (mark.at === null || mark.at === undefined) return -1;
  const exact = d.T.indexOf(mark.at);
  return exact >= 0 ? exact : indexAt(d.T, mark.at);
}

function markStyle(mark, ordinal) {
  if (mark.kind === "objective") return {color: OBJECTIVE_COLORS[ordinal % OBJECTIVE_COLORS.length], shape: "circle"};
  if (mark.kind === "policy") return {color: POLICY_COLORS[ordinal % POLICY_COLORS.length], shape: "diamond"};
  return {color: "#8b95a5", shape: "square", hollow: true};
}

function markTitle(mark) {
  const who = mark.kind === "objective" ? mark.label
    : `${mark.kind === "policy" ? "policy" : "old policy"} ${mark.policy}: ${mark.label}`;
  return who;
}
