/* thresher report: the page. Reads the JSON document embedded in the page; makes no request. */

// ---- page skeleton -----------------------------------------------------------------------
const app = document.getElementById("app");
app.textContent = "";
const state = {view: null, d: null, i: 0, charts: [], marks: []};
const LOGIT_OK = DOC.views.every((v) => v.distribution.logit);
state.axis = LOGIT_OK ? DOC.views[0].distribution.axis : "linear";

const header = h("header", {class: "top"}, app);
const brandRow = h("div", {class: "brand-row"}, header);
const brand = h("div", {class: "brand"}, brandRow);
const logo = s("svg", {viewBox: "0 0 24 24", class: "logo", "aria-hidden": "true"}, brand);
s("path", {d: "M3 20 C 8 20, 10 4, 21 4", fill: "none", stroke: "currentColor", "stroke-width": 2.4,
           "stroke-linecap": "round"}, logo);
s("line", {x1: 13, x2: 13, y1: 2.5, y2: 21.5, stroke: "#e0662b", "stroke-width": 2, "stroke-dasharray": "2.5 2"}, logo);
h("span", {class: "brand-name"}, brand, "thresher");
h("span", {class: "brand-sub"}, brand, "decision report");
h("h1", {}, header, DOC.title);
const meta = h("p", {class: "meta"}, header);
const metaItems = [["label", DOC.label], ["score", DOC.score]];
if (DOC.source && DOC.source !== DOC.title) metaItems.unshift(["data", DOC.source]);
if (DOC.by.length) metaItems.push(["by", DOC.by.join(", ")]);
if (DOC.weighted) metaItems.push(["weighted", "yes"]);
if (DOC.policy) metaItems.push(["policy", DOC.policy]);
if (COST) metaItems.push(["costs", costText()]);
metaItems.push(["generated", DOC.generated.replace("T", " ").replace("+00:00", " UTC")]);
metaItems.push(["thresher", DOC.thresher_version]);
for (const [k, v] of metaItems) {
  const item = h("span", {class: "meta-item"}, meta);
  h("span", {class: "meta-k"}, item, k);
  h("span", {class: "meta-v"}, item, v);
}

const viewBar = h("nav", {class: "views", "aria-label": "rows shown"}, app);
if (DOC.views.length > 1) {
  h("span", {class: "views-label"}, viewBar, DOC.by.length ? `Segment (${DOC.by.join(", ")})` : "Rows");
  for (const v of DOC.views) {
    const b = h("button", {class: "pill", type: "button", "data-view": v.key}, viewBar, v.name);
    b.addEventListener("click", () => selectView(v.key));
  }
}
if (LOGIT_OK) {
  const axisBox = h("div", {class: "axis-toggle", role: "group", "aria-label": "threshold axis"}, viewBar);
  h("span", {class: "views-label"}, axisBox, "Threshold axis");
  for (const axis of ["linear", "logit"]) {
    const b = h("button", {class: "pill small-pill", type: "button", "data-axis": axis}, axisBox, axis);
    b.addEventListener("click", () => { state.axis = axis; renderCharts(); });
  }
}
if (DOC.views.length < 2 && !LOGIT_OK) viewBar.hidden = true;

const kpis = h("section", {class: "kpis"}, app);
const layout = h("main", {class: "layout"}, app);
const panel = h("aside", {class: "panel card", "aria-label": "operating point"}, layout);
const chartsBox = h("section", {class: "charts"}, layout);
const marksCard = h("section", {class: "card wide"}, app);
const segmentsCard = h("section", {class: "card wide"}, app);
const diffCard = h("section", {class: "card wide diff"}, app);
const footer = h("footer", {}, app);

function costText() {
  const parts = [`fn ${COST.fn}`, `fp ${COST.fp}`];
  if (COST.tp) parts.push(`tp gain ${COST.tp}`);
  if (COST.tn) parts.push(`tn gain ${COST.tn}`);
  return parts.join(" · ");
}

// ---- the operating point panel ------------------------------------------------------------
const ph = h("div", {class: "panel-head"}, panel);
h("h2", {}, ph, "Operating point");
const panelView = h("span", {class: "badge"}, ph);

const tRow = h("div", {class: "threshold-row"}, panel);
const tBox = h("div", {class: "threshold-box"}, tRow);
h("div", {class: "k"}, tBox, "Threshold");
const tValue = h("div", {class: "threshold-value", "data-metric": "threshold"}, tBox);
const tHint = h("div", {class: "hint"}, tBox);
const goBox = h("form", {class: "goto"}, tRow);
const goInput = h("input", {type: "number", step: "any", placeholder: "go to…", "aria-label": "go to threshold",
                            id: "threshold-input"}, goBox);
goBox.addEventListener("submit", (e) => {
  e.preventDefault();
  const t = parseFloat(goInput.value);
  if (Number.isFinite(t)) setIndex(t > state.d.T[0] ? 0 : indexAt(state.d.T, t));
});

const sRow = h("div", {class: "slider-row"}, panel);
const prev = h("button", {class: "step", type: "button", "aria-label": "lower threshold"}, sRow, "\u2039");
const slider = h("input", {type: "range", id: "threshold-slider", min: 0, step: 1,
                           "aria-label": "threshold (moves over the curve points)"}, sRow);
const next = h("button", {class: "step", type: "button", "aria-label": "higher threshold"}, sRow, "\u203a");
const scale = h("div", {class: "slider-scale"}, panel);
h("span", {}, scale, "more alerts");
const pos = h("span", {class: "slider-pos"}, scale);
h("span", {}, scale, "fewer alerts");
slider.addEventListener("input", () => setIndex(state.d.n - 1 - Number(slider.value)));
prev.addEventListener("click", () => setIndex(Math.min(state.d.n - 1, state.i + 1)));
next.addEventListener("click", () => setIndex(Math.max(0, state.i - 1)));

const chips = h("div", {class: "chips"}, panel);

const cm = h("div", {class: "cm"}, panel);
const cmCells = {};
h("div", {class: "cm-corner"}, cm);
h("div", {class: "cm-head"}, cm, "Flagged");
h("div", {class: "cm-head"}, cm, "Not flagged");
for (const [row, cells] of [["Positive", ["tp", "fn"]], ["Negative", ["fp", "tn"]]]) {
  h("div", {class: "cm-row"}, cm, row);
  for (const k of cells) {
    const cell = h("div", {class: `cm-cell cm-${k}`}, cm);
    h("div", {class: "cm-tag"}, cell, {tp: "true positive", fn: "missed (FN)", fp: "false alarm (FP)",
                                       tn: "true negative"}[k]);
    const v = h("div", {class: "cm-v", "data-metric": k}, cell);
    const share = h("div", {class: "cm-share"}, cell);
    cmCells[k] = {v, share};
  }
}

const tiles = h("div", {class: "tiles"}, panel);
const tileDefs = [
  ["precision", "Precision", "tp / flagged"], ["recall", "Recall", "tp / positives"],
  ["f1", "F1", ""], ["specificity", "Specificity", ""],
  ["alerts", "Alert volume", "flagged cases"],
];
if (COST) tileDefs.push(["cost", "Expected cost", "total"]);
const tileEls = {};
for (const [k, label] of tileDefs) {
  const t = h("div", {class: `tile tile-${k}`}, tiles);
  h("div", {class: "k"}, t, label);
  const v = h("div", {class: "v", "data-metric": k}, t);
  const sub = h("div", {class: "sub"}, t);
  tileEls[k] = {v, sub};
}
const story = h("p", {class: "story", "aria-live": "polite"}, panel);
const more = h("dl", {class: "more"}, panel);
const moreEls = {};
for (const [k, label] of [["fpr", "FPR"], ["npv", "NPV"], ["accuracy", "accuracy"], ["mcc", "MCC"]]) {
  const box = h("div", {}, more);
  h("dt", {}, box, label);
  moreEls[k] = h("dd", {"data-metric": k}, box);
}

// ---- KPIs --------------------------------------------------------------------------------
function renderKpis(view) {
  kpis.textContent = "";
  const kpi = (k, v, sub, cls) => {
    const box = h("div", {class: `kpi ${cls || ""}`}, kpis);
    h("div", {class: "k"}, box, k);
    h("div", {class: "v"}, box, v);
    if (sub) h("div", {class: "sub"}, box, sub);
  };
  const total = view.positives + view.negatives;
  kpi("Rows", fmtCount(view.n), view.key === "all" ? "all rows" : `segment ${view.name}`);
  kpi("Positives", fmtCount(view.positives), `prevalence ${fmtPct(ratio(view.positives, total))}`);
  const iv = view.auc_interval;
  kpi("ROC AUC", fmtRatio(num(view.roc_auc), 4),
      iv ? `${CONF} CI ${iv.low.toFixed(4)} \u2013 ${iv.high.toFixed(4)} (DeLong)` : "no interval (weighted or one class)",
      "kpi-auc");
  kpi("Average precision", fmtRatio(num(view.average_precision), 4),
      `no-skill baseline ${fmtRatio(ratio(view.positives, total), 4)}`);
  kpi("Curve points", fmtCount(view.curve.threshold.length),
      view.curve.threshold.length < view.distinct_scores + 1
        ? `of ${fmtCount(view.distinct_scores)} distinct scores, each exact` : "every distinct score");
}

// ---- marks list, tables ------------------------------------------------------------------
function renderChips() {
  chips.textContent = "";
  const onCurve = state.marks.filter(({mark}) => mark.at !== null && mark.at !== undefined);
  if (!onCurve.length) { chips.hidden = true; return; }
  chips.hidden = false;
  h("div", {class: "chips-label"}, chips, "Jump to");
  for (const {mark, style} of onCurve) {
    const b = h("button", {class: "chip", type: "button", title: markLabel(mark)}, chips);
    const sw = h("span", {class: `chip-swatch chip-${style.shape}${style.hollow ? " hollow" : ""}`}, b);
    sw.style.borderColor = style.color;
    if (!style.hollow) sw.style.background = style.color;
    h("span", {}, b, mark.kind === "objective" ? mark.label : `${mark.kind === "policy" ? "" : "old "}${mark.label}`);
    b.addEventListener("click", () => setIndex(markIndex(state.d, mark)));
    b.dataset.at = String(mark.at);
  }
}

function renderMarksTable(view) {
  marksCard.textContent = "";
  const head = h("div", {class: "card-head"}, marksCard);
  const left = h("div", {}, head);
  h("h3", {}, left, "Marked operating points");
  h("div", {class: "card-sub"}, left, `${view.name}: chosen by objective${DOC.policy ? " and policy tiers" : ""}; ` +
    `${CONF} Wilson intervals`);
  if (!state.marks.length) {
    h("p", {class: "empty"}, marksCard, "No operating points marked. Add --objective (e.g. 'min-cost fn=10 fp=1') " +
      "or --policy to mark them.");
    return;
  }
  const table = h("table", {class: "data-table"}, marksCard);
  const cols = ["", "point", "threshold", "precision", "recall", "specificity", "alerts"];
  if (COST) cols.push("cost");
  cols.push("");
  const tr = h("tr", {}, h("thead", {}, table));
  cols.forEach((c, j) => h("th", {class: j >= 2 && j < cols.length - 1 ? "num" : ""}, tr, c));
  const body = h("tbody", {}, table);
  for (const {mark, style} of state.marks) {
    const row = h("tr", {}, body);
    const sw = h("span", {class: `chip-swatch chip-${style.shape}${style.hollow ? " hollow" : ""}`}, h("td", {}, row));
    sw.style.borderColor = style.color;
    if (!style.hollow) sw.style.background = style.color;
    const name = h("td", {class: "mark-name"}, row);
    h("div", {}, name, mark.kind === "objective" ? mark.label : `${mark.label}`);
    const notes = [];
    if (mark.kind !== "objective") {
      notes.push(`${mark.kind === "policy" ? "policy" : "old policy"} ${mark.policy}, rule ${mark.rule}`);
    }
    if (mark.fallback) notes.push(`uses the ${mark.fallback} threshold`);
    if (mark.infeasible) notes.push(mark.infeasible);
    else if (mark.notes && mark.notes.length) notes.push(...mark.notes);
    if (notes.length) h("div", {class: "note"}, name, notes.join("; "));
    if (mark.infeasible) {
      h("td", {class: "num muted", colspan: cols.length - 3}, row, "infeasible");
      h("td", {}, row);
      continue;
    }
    const m = metricsAt(mark.tp, mark.fp, mark.tp + mark.fn, mark.fp + mark.tn);
    const iv = mark.intervals || {};
    h("td", {class: "num"}, row, mark.threshold === null ? "per rule" : fmtThreshold(mark.threshold));
    for (const k of ["precision", "recall", "specificity"]) {
      const td = h("td", {class: "num"}, row);
      h("span", {}, td, fmtRatio(m[k]));
      h("span", {class: "ci"}, td, ` ${fmtInterval(iv[k])}`);
    }
    h("td", {class: "num"}, row, `${fmtCount(m.alerts)} (${fmtPct(m.alert_rate, 1)})`);
    if (COST) h("td", {class: "num"}, row, fmtCost(m.cost));
    const act = h("td", {}, row);
    const k = markIndex(state.d, mark);
    if (k >= 0) {
      const b = h("button", {class: "link", type: "button"}, act, "show");
      b.addEventListener("click", () => { setIndex(k); panel.scrollIntoView({behavior: "smooth", block: "nearest"}); });
    } else {
      h("span", {class: "muted small"}, act, "not on one curve");
    }
  }
}

function renderSegments() {
  segmentsCard.textContent = "";
  if (DOC.views.length < 2) { segmentsCard.hidden = true; return; }
  const head = h("div", {class: "card-head"}, segmentsCard);
  const left = h("div", {}, head);
  h("h3", {}, left, "Segments");
  h("div", {class: "card-sub"}, left, `by ${DOC.by.join(", ")}; click a row to show it above`);
  const table = h("table", {class: "data-table clickable"}, segmentsCard);
  const tr = h("tr", {}, h("thead", {}, table));
  const cols = ["segment", "rows", "positives", "prevalence", "ROC AUC", "average precision"];
  cols.forEach((c, j) => h("th", {class: j ? "num" : ""}, tr, c));
  for (const spec of DOC.objectives) h("th", {class: "num obj-head"}, tr, spec);
  const body = h("tbody", {}, table);
  for (const v of DOC.views) {
    const row = h("tr", {"data-view": v.key}, body);
    row.addEventListener("click", () => { selectView(v.key); window.scrollTo({top: 0, behavior: "smooth"}); });
    h("td", {class: "seg-name"}, row, v.name);
    h("td", {class: "num"}, row, fmtCount(v.n));
    h("td", {class: "num"}, row, fmtCount(v.positives));
    h("td", {class: "num"}, row, fmtPct(ratio(v.positives, v.positives + v.negatives)));
    const auc = h("td", {class: "num"}, row);
    h("span", {}, auc, fmtRatio(num(v.roc_auc)));
    if (v.auc_interval) h("span", {class: "ci"}, auc, ` [${v.auc_interval.low.toFixed(3)}, ${v.auc_interval.high.toFixed(3)}]`);
    h("td", {class: "num"}, row, fmtRatio(num(v.average_precision)));
    const objectives = v.marks.filter((m) => m.kind === "objective");
    for (const m of objectives) {
      const td = h("td", {class: "num"}, row);
      if (m.infeasible) { h("span", {class: "muted"}, td, "infeasible"); continue; }
      const c = metricsAt(m.tp, m.fp, m.tp + m.fn, m.fp + m.tn);
      h("div", {}, td, `t ${fmtThreshold(m.threshold)}`);
      h("div", {class: "ci"}, td, `P ${fmtRatio(c.precision)} \u00b7 R ${fmtRatio(c.recall)}` +
        (m.fallback ? ` \u00b7 from ${m.fallback}` : ""));
    }
  }
}

function forest(interval, delta, span) {
  const W = 170, H = 22;
  const svg = s("svg", {viewBox: `0 0 ${W} ${H}`, class: "forest", "aria-hidden": "true"});
  const X = (v) => W / 2 + (v / span) * (W / 2 - 8);
  s("line", {x1: W / 2, x2: W / 2, y1: 2, y2: H - 2, class: "forest-zero"}, svg);
  if (interval && interval[0] !== null && interval[1] !== null) {
    s("line", {x1: X(interval[0]), x2: X(interval[1]), y1: H / 2, y2: H / 2, class: "forest-bar"}, svg);
  }
  s("circle", {cx: X(delta), cy: H / 2, r: 4, class: "forest-dot"}, svg);
  return svg;
}

function renderDiff() {
  const diff = DOC.diff;
  diffCard.textContent = "";
  if (!diff) { diffCard.hidden = true; return; }
  const head = h("div", {class: "card-head"}, diffCard);
  const left = h("div", {}, head);
  h("h3", {}, left, "Policy change");
  const sub = h("div", {class: "card-sub"}, left);
  h("span", {class: "from"}, sub, diff.old);
  h("span", {}, sub, "  \u2192  ");
  h("span", {class: "to"}, sub, diff.new);
  const grid = h("div", {class: "diff-grid"}, diffCard);
  const changes = h("div", {class: "diff-changes"}, grid);
  h("h4", {}, changes, "What changed");
  if (!diff.changes.length) h("p", {class: "empty"}, changes, "No structural changes.");
  const list = h("ul", {class: "changes"}, changes);
  for (const c of diff.changes) {
    const li = h("li", {}, list);
    h("span", {class: "rule"}, li, c.rule);
    h("span", {class: "what"}, li, c.what);
    const shown = (v) => (typeof v === "object" ? JSON.stringify(v) : String(v));
    const present = (v) => v !== null && v !== undefined;
    if (present(c.old)) h("span", {class: "old"}, li, shown(c.old));
    if (present(c.old) && present(c.new)) h("span", {class: "arrow"}, li, "\u2192");
    if (present(c.new)) h("span", {class: "new"}, li, shown(c.new));
  }
  const impact = diff.impact;
  if (!impact) return;
  const right = h("div", {class: "diff-impact"}, grid);
  h("h4", {}, right, "On this data");
  const big = h("p", {class: "flip-line"}, right);
  h("strong", {"data-diff": "flipped"}, big, fmtCount(impact.flipped));
  h("span", {}, big, ` of ${fmtCount(impact.rows)} decisions change (${fmtPct(impact.flipped / impact.rows)})`);
  const flips = impact.flips.filter((f) => f.old !== f.new);
  if (flips.length) {
    const t = h("table", {class: "data-table compact"}, right);
    const tr = h("tr", {}, h("thead", {}, t));
    ["old action", "", "new action", "rows"].forEach((c, j) => h("th", {class: j === 3 ? "num" : ""}, tr, c));
    const body = h("tbody", {}, t);
    for (const f of flips) {
      const row = h("tr", {}, body);
      h("td", {}, row, f.old); h("td", {class: "muted"}, row, "\u2192"); h("td", {}, row, f.new);
      h("td", {class: "num"}, row, fmtCount(f.count));
    }
  }
  h("div", {class: "card-sub table-caption"}, right, "Flagged cases (any tier), old against new policy, with " +
    `${Math.round(impact.confidence * 100)}% paired-bootstrap intervals of the change`);
  const t2 = h("table", {class: "data-table compact deltas"}, right);
  const tr2 = h("tr", {}, h("thead", {}, t2));
  ["metric", "old", "new", "change", "interval", ""]
    .forEach((c, j) => h("th", {class: j && j < 5 ? "num" : ""}, tr2, c));
  const body2 = h("tbody", {}, t2);
  for (const [metric, dd] of Object.entries(impact.deltas)) {
    const count = metric === "alerts" || metric === "cost";
    const f = (v) => (count ? fmtCount(Math.round(v)) : fmtRatio(v, 4));
    const row = h("tr", {"data-delta": metric}, body2);
    h("td", {}, row, metric);
    h("td", {class: "num"}, row, f(dd.old));
    h("td", {class: "num"}, row, f(dd.new));
    // green where the change helps: more precision or recall, less cost; alert volume is a trade-off
    const better = metric === "cost" ? -dd.delta : metric === "alerts" ? 0 : dd.delta;
    h("td", {class: `num delta ${better > 0 ? "better" : better < 0 ? "worse" : ""}`}, row,
      `${dd.delta > 0 ? "+" : ""}${f(dd.delta)}`);
    const iv = dd.interval || [null, null];
    h("td", {class: "num ci"}, row, iv[0] === null ? "" : `[${f(iv[0])}, ${f(iv[1])}]`);
    const span = Math.max(Math.abs(num(iv[0])) || 0, Math.abs(num(iv[1])) || 0, Math.abs(dd.delta), 1e-12) * 1.1;
    h("td", {}, row).appendChild(forest(iv, dd.delta, span));
  }
}

function renderFooter() {
  footer.textContent = "";
  const p = h("p", {}, footer);
  p.textContent = "A case is flagged when its score \u2265 the threshold. Every point the slider reaches carries the " +
    "exact confusion counts at that threshold; large curves are thinned for display (the marked points, the ROC " +
    `hull and points spread in recall, false positive rate, threshold and alert volume are kept). Intervals: ${CONF} ` +
    "Wilson for precision, recall and specificity; DeLong for ROC AUC. Undefined ratios (0 / 0) show as \u201cundefined\u201d.";
  for (const note of DOC.notes) h("p", {}, footer, note);
  h("p", {class: "muted"}, footer, `Generated by thresher ${DOC.thresher_version}. This file is self-contained and ` +
    "works offline.");
}

// ---- state changes -------------------------------------------------------------------------
function selectView(key) {
  const view = DOC.views.find((v) => v.key === key) || DOC.views[0];
  const previous = state.d ? state.d.T[state.i] : null;
  state.view = view;
  state.d = derive(view);
  const ordinals = {objective: 0, policy: 0, "policy-old": 0};
  state.marks = view.marks.map((mark) => ({mark, style: markStyle(mark, ordinals[mark.kind]++)}));
  for (const b of viewBar.querySelectorAll(".pill")) b.classList.toggle("active", b.dataset.view === key);
  for (const r of segmentsCard.querySelectorAll("tr[data-view]")) r.classList.toggle("active", r.dataset.view === key);
  panelView.textContent = view.name;
  renderKpis(view);
  const d = state.d;
  state.charts = [];
  renderCharts();
  renderChips();
  renderMarksTable(view);
  slider.max = d.n - 1;
  let start;
  if (previous !== null) start = previous > d.T[0] ? 0 : indexAt(d.T, previous);
  else {
    const first = state.marks.find(({mark}) => mark.at !== null && mark.at !== undefined);
    start = first ? markIndex(d, first.mark) : indexAt(d.T, (d.tDomain[0] + d.tDomain[1]) / 2);
  }
  setIndex(start);
}

function renderCharts() {
  const view = state.view, d = state.d;
  for (const b of viewBar.querySelectorAll("[data-axis]")) b.classList.toggle("active", b.dataset.axis === state.axis);
  chartsBox.textContent = "";
  state.charts = [prChart(view, d), rocChart(view, d), thresholdChart(view, d)];
  if (COST) state.charts.push(costChart(view, d));
  state.charts.push(distributionChart(view, d));
  if (view.calibration) state.charts.push(calibrationChart(view));
  if (state.charts.length && d.n) for (const update of state.charts) update(state.i);
}

/** The operating point in one plain sentence. */
function narrate(d, m, t, i) {
  if (m.alerts === 0) return `Above every score nothing is flagged: all ${fmtCount(d.P)} positives are missed.`;
  let text = `Flagging scores \u2265 ${fmtThreshold(t)} flags ${fmtCount(m.alerts)} of ${fmtCount(d.total)} cases ` +
    `(${fmtPct(m.alert_rate, 1)}). It catches ${fmtCount(m.tp)} of ${fmtCount(d.P)} positives ` +
    `(${fmtPct(m.recall, 1)}) and misses ${fmtCount(m.fn)}; ${fmtPct(m.precision, 1)} of flagged cases are ` +
    `positive, so ${fmtCount(m.fp)} are false alarms.`;
  if (COST) text += ` Expected cost ${fmtCost(m.cost)}.`;
  return text;
}

function setValue(el, value, text) {
  el.dataset.value = String(value);
  el.textContent = text;
}

function setIndex(i) {
  const d = state.d;
  if (!(i >= 0)) return;
  i = Math.max(0, Math.min(d.n - 1, i));
  state.i = i;
  slider.value = String(d.n - 1 - i);
  const m = metricsAt(d.TP[i], d.FP[i], d.P, d.N);
  const t = d.T[i];
  setValue(tValue, t, fmtThreshold(t));
  tHint.textContent = i === 0 && d.TP[0] === 0 && d.FP[0] === 0
    ? "above every score: flags nothing" : `flag when score \u2265 ${fmtThreshold(t)}`;
  pos.textContent = `point ${d.n - i} of ${d.n}`;
  const total = d.total;
  for (const k of ["tp", "fn", "fp", "tn"]) {
    setValue(cmCells[k].v, m[k], fmtCount(m[k]));
    cmCells[k].share.textContent = fmtPct(ratio(m[k], total), 1);
  }
  setValue(tileEls.precision.v, m.precision, fmtRatio(m.precision));
  tileEls.precision.sub.textContent = `${fmtCount(m.tp)} / ${fmtCount(m.alerts)} flagged`;
  setValue(tileEls.recall.v, m.recall, fmtRatio(m.recall));
  tileEls.recall.sub.textContent = `${fmtCount(m.tp)} / ${fmtCount(d.P)} positives`;
  setValue(tileEls.f1.v, m.f1, fmtRatio(m.f1));
  tileEls.f1.sub.textContent = "2PR / (P + R)";
  setValue(tileEls.specificity.v, m.specificity, fmtRatio(m.specificity));
  tileEls.specificity.sub.textContent = `${fmtCount(m.tn)} / ${fmtCount(d.N)} neg.`;
  setValue(tileEls.alerts.v, m.alerts, fmtCount(m.alerts));
  tileEls.alerts.sub.textContent = "";
  setValue(h("span", {"data-metric": "alert_rate"}, tileEls.alerts.sub), m.alert_rate, fmtPct(m.alert_rate));
  h("span", {}, tileEls.alerts.sub, " of cases");
  if (COST) {
    setValue(tileEls.cost.v, m.cost, fmtCost(m.cost));
    tileEls.cost.sub.textContent = `${fmtCost(m.cost / total)} per case`;
  }
  for (const k of Object.keys(moreEls)) {
    setValue(moreEls[k], m[k], fmtRatio(m[k]));
  }
  story.textContent = narrate(d, m, t, i);
  for (const update of state.charts) update(i);
  for (const b of chips.querySelectorAll(".chip")) b.classList.toggle("active", Number(b.dataset.at) === t);
}

renderSegments();
renderDiff();
renderFooter();
selectView(DOC.views[0].key);
document.body.dataset.ready = "true";
