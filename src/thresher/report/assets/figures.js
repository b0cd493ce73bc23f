/* thresher report: the charts of one view (each returns its cursor update). */

// ---- charts ------------------------------------------------------------------------------
function card(title, subtitle, legend) {
  const c = h("div", {class: "card chart-card"}, chartsBox);
  const head = h("div", {class: "card-head"}, c);
  const left = h("div", {}, head);
  h("h3", {}, left, title);
  const sub = h("div", {class: "card-sub"}, left, subtitle || "");
  if (legend && legend.length) {
    const lg = h("div", {class: "legend"}, head);
    for (const [label, color, kind] of legend) {
      const item = h("span", {class: "legend-item"}, lg);
      h("span", {class: `swatch swatch-${kind || "line"}`, "data-color": color}, item).style.background = color;
      h("span", {}, item, label);
    }
  }
  return {card: c, sub};
}

function describePoint(d, i) {
  const m = metricsAt(d.TP[i], d.FP[i], d.P, d.N);
  const rows = [["threshold", fmtThreshold(d.T[i])], ["precision", fmtRatio(m.precision)],
                ["recall", fmtRatio(m.recall)], ["alerts", `${fmtCount(m.alerts)} (${fmtPct(m.alert_rate)})`]];
  if (COST) rows.push(["cost", fmtCost(m.cost)]);
  return rows;
}

function drawMarks(chart, d, xy, intervals) {
  state.marks.forEach(({mark, style}) => {
    const p = xy(mark);
    if (!p || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) return;
    const iv = intervals ? intervals(mark) : [null, null];
    const g = chart.markPoint(p[0], p[1], iv[0], iv[1], style, markLabel(mark));
    const k = markIndex(d, mark);
    if (k >= 0) g.addEventListener("click", () => setIndex(k));
  });
}

function markLabel(mark) {
  const c = metricsAt(mark.tp, mark.fp, mark.tp + mark.fn, mark.fp + mark.tn);
  const iv = mark.intervals || {};
  let text = markTitle(mark);
  if (mark.threshold !== null) text += `\nthreshold ${fmtThreshold(mark.threshold)}`;
  text += `\nprecision ${fmtRatio(c.precision)} ${fmtInterval(iv.precision)}`;
  text += `\nrecall ${fmtRatio(c.recall)} ${fmtInterval(iv.recall)}`;
  return text;
}

function cursorDot(chart, color) {
  const g = s("g", {}, chart.cursor);
  const gx = s("line", {class: "guide"}, g);
  const gy = s("line", {class: "guide"}, g);
  const dot = s("circle", {r: 6.5, class: "cursor-dot", fill: color || INK}, g);
  return (x, y) => {
    const ok = Number.isFinite(x) && Number.isFinite(y);
    g.setAttribute("visibility", ok ? "visible" : "hidden");
    if (!ok) return;
    const X = chart.X(x), Y = chart.Y(y);
    dot.setAttribute("cx", X); dot.setAttribute("cy", Y);
    for (const [el, a] of [[gx, [chart.px[0], Y, X, Y]], [gy, [X, chart.py[0], X, Y]]]) {
      el.setAttribute("x1", a[0]); el.setAttribute("y1", a[1]); el.setAttribute("x2", a[2]); el.setAttribute("y2", a[3]);
    }
  };
}

function cursorRule(chart) {
  const g = s("g", {}, chart.cursor);
  const line = s("line", {class: "cursor-rule", y1: chart.py[0], y2: chart.py[1]}, g);
  const label = s("text", {class: "cursor-label", y: chart.py[1] + 24}, g);
  return (t) => {
    const X = chart.X(Math.min(Math.max(t, chart.xd[0]), chart.xd[1]));
    line.setAttribute("x1", X); line.setAttribute("x2", X);
    label.setAttribute("x", X + 5);
    label.textContent = fmtThreshold(t);
    const right = X > (chart.px[0] + chart.px[1]) / 2;
    label.setAttribute("text-anchor", right ? "end" : "start");
    label.setAttribute("x", right ? X - 5 : X + 5);
  };
}

function prChart(view, d) {
  const prevalence = ratio(d.P, d.total);
  const {card: c} = card("Precision \u2013 recall", `average precision ${fmtRatio(num(view.average_precision), 4)}`,
                         [["model", CURVE], ["no skill", "#9aa3af", "dash"]]);
  const chart = new Chart(c, {title: "precision-recall curve", x: {domain: [0, 1], label: "recall"},
                              y: {domain: [0, 1.02], label: "precision", ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]}});
  chart.area(d.recall, d.precision, {class: "curve-fill"});
  chart.hline(prevalence, {class: "baseline"});
  chart.line(d.recall, d.precision, {class: "curve", stroke: CURVE});
  drawMarks(chart, d, (m) => {
    const c2 = metricsAt(m.tp, m.fp, m.tp + m.fn, m.fp + m.tn);
    return [c2.recall, c2.precision];
  }, (m) => [m.intervals.recall, m.intervals.precision]);
  const dot = cursorDot(chart, INK);
  chart.interactive((x, y) => nearest(chart, d.recall, d.precision, x, y), (i) => describePoint(d, i), setIndex,
                    (i) => [chart.X(d.recall[i]), chart.Y(d.precision[i])]);
  return (i) => dot(d.recall[i], d.precision[i]);
}

function rocChart(view, d) {
  const iv = view.auc_interval;
  const sub = `AUC ${fmtRatio(num(view.roc_auc), 4)}` +
    (iv ? `  \u00b7  ${CONF} CI [${iv.low.toFixed(4)}, ${iv.high.toFixed(4)}] DeLong` : "");
  const {card: c} = card("ROC curve", sub, [["model", CURVE], ["chance", "#9aa3af", "dash"]]);
  const chart = new Chart(c, {title: "ROC curve", x: {domain: [0, 1], label: "false positive rate (1 \u2212 specificity)"},
                              y: {domain: [0, 1.02], label: "true positive rate (recall)", ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]}});
  chart.area(d.fpr, d.recall, {class: "curve-fill"});
  s("line", {x1: chart.X(0), y1: chart.Y(0), x2: chart.X(1), y2: chart.Y(1), class: "baseline"}, chart.data);
  chart.line(d.fpr, d.recall, {class: "curve", stroke: CURVE});
  if (iv) {
    const label = s("text", {x: chart.X(0.97), y: chart.Y(0.06), class: "chart-note", "text-anchor": "end"}, chart.data);
    label.textContent = `AUC ${fmtRatio(view.roc_auc, 3)} [${iv.low.toFixed(3)}, ${iv.high.toFixed(3)}]`;
  }
  drawMarks(chart, d, (m) => {
    const c2 = metricsAt(m.tp, m.fp, m.tp + m.fn, m.fp + m.tn);
    return [c2.fpr, c2.recall];
  }, (m) => [m.intervals.specificity ? [1 - m.intervals.specificity[1], 1 - m.intervals.specificity[0]] : null,
             m.intervals.recall]);
  const dot = cursorDot(chart, INK);
  chart.interactive((x, y) => nearest(chart, d.fpr, d.recall, x, y), (i) => describePoint(d, i), setIndex,
                    (i) => [chart.X(d.fpr[i]), chart.Y(d.recall[i])]);
  return (i) => dot(d.fpr[i], d.recall[i]);
}

function thresholdAxis(d, label) {
  return {domain: d.tDomain, transform: state.axis, label: state.axis === "logit" ? `${label} (log-odds scale)` : label};
}

function thresholdMarks(chart, d) {
  state.marks.forEach(({mark, style}) => {
    if (mark.at === null || mark.at === undefined) return;
    const g = chart.markThreshold(mark.threshold, style, markLabel(mark));
    const k = markIndex(d, mark);
    if (g && k >= 0) g.addEventListener("click", () => setIndex(k));
  });
}

function thresholdChart(view, d) {
  const keys = [["precision", "precision"], ["recall", "recall"], ["f1", "F1"], ["alert_rate", "alert rate"]];
  const {card: c} = card("Metrics by threshold", "flagged iff score \u2265 threshold",
                         keys.map(([k, label]) => [label, SERIES[k]]));
  const chart = new Chart(c, {title: "metrics by threshold", x: thresholdAxis(d, "threshold"),
                              y: {domain: [0, 1.02], label: "", ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]}});
  for (const [k] of keys) chart.line(d.T, d[k], {class: `series series-${k}`, stroke: SERIES[k]});
  thresholdMarks(chart, d);
  const rule = cursorRule(chart);
  const dots = keys.map(([k]) => s("circle", {r: 4.5, fill: SERIES[k], class: "cursor-small"}, chart.cursor));
  chart.interactive((x) => nearest(chart, d.T, d.T, x, 0, true), (i) => describePoint(d, i), setIndex,
                    (i) => [chart.X(d.T[i]), chart.Y(d.f1[i]) || chart.py[1]]);
  return (i) => {
    rule(d.T[i]);
    keys.forEach(([k], j) => {
      const ok = Number.isFinite(d[k][i]);
      dots[j].setAttribute("visibility", ok ? "visible" : "hidden");
      if (ok) { dots[j].setAttribute("cx", chart.X(d.T[i])); dots[j].setAttribute("cy", chart.Y(d[k][i])); }
    });
  };
}

function costChart(view, d) {
  let best = 0;
  for (let i = 1; i < d.n; i++) if (d.cost[i] < d.cost[best]) best = i;
  const {card: c} = card("Expected cost", `per case with ${costText()}; lowest ${fmtCost(d.costPerCase[best])} ` +
                         `at ${fmtThreshold(d.T[best])}`, [["cost per case", SERIES.cost]]);
  let lo = Infinity, hi = -Infinity;
  for (const v of d.costPerCase) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const pad = (hi - lo) * 0.06 || 1;
  const chart = new Chart(c, {title: "expected cost", x: thresholdAxis(d, "threshold"),
                              y: {domain: [Math.min(0, lo - pad), hi + pad], label: "cost per case"}});
  chart.area(d.T, d.costPerCase, {class: "cost-fill"});
  chart.line(d.T, d.costPerCase, {class: "series", stroke: SERIES.cost});
  thresholdMarks(chart, d);
  s("circle", {cx: chart.X(d.T[best]), cy: chart.Y(d.costPerCase[best]), r: 4, class: "min-dot"}, chart.data);
  const rule = cursorRule(chart);
  const dot = s("circle", {r: 5.5, class: "cursor-dot", fill: INK}, chart.cursor);
  chart.interactive((x) => nearest(chart, d.T, d.T, x, 0, true), (i) => describePoint(d, i), setIndex,
                    (i) => [chart.X(d.T[i]), chart.Y(d.costPerCase[i])]);
  return (i) => {
    rule(d.T[i]);
    dot.setAttribute("cx", chart.X(d.T[i]));
    dot.setAttribute("cy", chart.Y(d.costPerCase[i]));
  };
}

function distributionChart(view, d) {
  const dist = view.distribution[state.axis] || view.distribution.linear;
  const {card: c} = card("Score distribution", "share of each class per bin \u00b7 shaded: flagged",
                         [["negatives", SERIES.negatives, "box"], ["positives", SERIES.positives, "box"]]);
  const share = (arr) => { const t = arr.reduce((a, b) => a + b, 0); return arr.map((v) => (t > 0 ? v / t : 0)); };
  const neg = share(dist.negatives), posShare = share(dist.positives);
  const top = Math.max(...neg, ...posShare, 1e-9) * 1.08;
  const chart = new Chart(c, {title: "score distribution", x: thresholdAxis(d, "score"),
                              y: {domain: [0, top], label: "share of class", format: (v) => `${Math.round(v * 100)}%`}});
  const shade = s("rect", {class: "flagged-zone", y: chart.py[1], height: chart.py[0] - chart.py[1]}, chart.data);
  if (dist.edges.length) {
    chart.histogram(dist.edges, neg, {class: "hist hist-neg"});
    chart.histogram(dist.edges, posShare, {class: "hist hist-pos"});
  }
  thresholdMarks(chart, d);
  const rule = cursorRule(chart);
  chart.interactive((x) => nearest(chart, d.T, d.T, x, 0, true), (i) => describePoint(d, i), setIndex,
                    (i) => [chart.X(d.T[i]), chart.py[1] + 20]);
  return (i) => {
    const X = chart.X(Math.max(d.T[i], chart.xd[0]));
    shade.setAttribute("x", X);
    shade.setAttribute("width", Math.max(0, chart.px[1] - X));
    rule(d.T[i]);
  };
}

function calibrationChart(view) {
  const cal = view.calibration;
  const {card: c} = card("Calibration", "observed rate per bin \u00b7 dot size: cases",
                         [["observed", CURVE], ["perfect", "#9aa3af", "dash"]]);
  const chart = new Chart(c, {title: "calibration", x: {domain: [0, 1], label: "mean predicted probability"},
                              y: {domain: [0, 1.02], label: "observed positive rate", ticks: [0, 0.2, 0.4, 0.6, 0.8, 1]}});
  s("line", {x1: chart.X(0), y1: chart.Y(0), x2: chart.X(1), y2: chart.Y(1), class: "baseline"}, chart.data);
  chart.line(cal.predicted, cal.observed, {class: "curve", stroke: CURVE});
  const wmax = Math.max(...cal.weight);
  cal.predicted.forEach((p, j) => {
    const g = s("circle", {cx: chart.X(p), cy: chart.Y(cal.observed[j]), r: 2.5 + 6 * Math.sqrt(cal.weight[j] / wmax),
                           class: "cal-dot"}, chart.marks);
    s("title", {}, g, `scores ${cal.low[j].toFixed(2)}\u2013${cal.high[j].toFixed(2)}: predicted ` +
      `${p.toFixed(3)}, observed ${cal.observed[j].toFixed(3)}, ${fmtCount(cal.weight[j])} cases`);
  });
  return () => {};
}
