"""Judging one check on one dataset: the verdict, the value, and a sentence that says why.

Semantics, one rule each:

* ``metric op X``: the point value must satisfy ``op X``. An undefined value (NaN, e.g. recall
  with no positives, or an infeasible operating point) fails.
* ``metric.lowerNN op X`` / ``metric.upperNN op X``: that end of the two-sided NN% interval must
  satisfy ``op X`` (``.lower`` / ``.upper``: the gate's confidence).
* ``per segment: CHECK``: CHECK on the rows of every segment; the check fails if any segment fails.
  Its value is the worst segment's.
* ``metric vs baseline op M``: ``delta = current - baseline`` on the same rows, paired. It passes
  when ``delta op M``. When it does not, it fails only if the whole two-sided ``confidence``
  interval of ``delta`` violates ``op M`` too (a significant regression, p < 1 - confidence);
  otherwise it passes as noise. Without a baseline it is skipped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from thresher.gate.gatefile import GateCheck
from thresher.gate.measure import Measurement, Sample, interval, measure
from thresher.gate.paired import paired_difference
from thresher.gate.result import FAIL, PASS, SKIP, CheckResult, number
from thresher.gate.spec import AtObjective, AtPolicy, AtThreshold, Check, compare

NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">="}
_UNDEFINED = {
    "roc_auc": "it needs both positives and negatives",
    "average_precision": "there are no positives",
    "pr_auc": "there are no positives",
    "recall": "there are no positives",
    "fnr": "there are no positives",
    "precision": "nothing is flagged",
    "specificity": "there are no negatives",
    "fpr": "there are no negatives",
    "npv": "every case is flagged",
}


@dataclass(frozen=True)
class Options:
    confidence: float = 0.95
    n_resamples: int = 1000
    seed: int = 0


def fmt(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.{digits}f}"


def _level(level: float) -> str:
    return f"{level * 100:g}%"


def _where(check: Check, m: Measurement, counts: bool = False) -> str:
    """Where the metric was measured; with ``counts`` also the confusion counts (shown for failures)."""
    at = check.at
    if at is None:
        return ""
    if isinstance(at, AtThreshold):
        text = f" at threshold {at.threshold:g}"
    elif isinstance(at, AtObjective):
        text = f" at threshold {m.threshold:.6g} chosen by '{at.objective.spec()}'" if m.threshold is not None \
            else f" at '{at.objective.spec()}'"
    else:
        text = " at policy" + (f" ({', '.join(at.actions)})" if isinstance(at, AtPolicy) and at.actions else "")
    c = m.confusion
    if counts and c is not None:
        text += f" (tp {fmt(c.tp)}, fp {fmt(c.fp)}, fn {fmt(c.fn)}, tn {fmt(c.tn)})"
    return text


def _undefined(check: Check, m: Measurement) -> str:
    if m.note:
        return f"{check.metric} is undefined: {m.note}"
    reason = _UNDEFINED.get(check.metric, "a ratio in it has a zero denominator")
    return f"{check.metric} is undefined{_where(check, m, counts=True)}: {reason}"


def _details(check: Check, m: Measurement) -> dict:
    out = {"spec": check.spec(), "measure": check.measure, "estimate": number(m.value)}
    if m.threshold is not None:
        out["threshold"] = number(m.threshold)
    if m.confusion is not None:
        c = m.confusion
        out.update({"tp": number(c.tp), "fp": number(c.fp), "tn": number(c.tn), "fn": number(c.fn)})
    return out


def _plain(check: Check, sample: Sample, options: Options):
    m = measure(check, sample)
    details = _details(check, m)
    if math.isnan(m.value):
        return FAIL, m.value, _undefined(check, m), details
    ok = compare(m.value, check.op, check.target)
    op = check.op if ok else NEGATED[check.op]
    return (PASS if ok else FAIL), m.value, \
        f"{check.metric} {fmt(m.value)} {op} {check.target:g}{_where(check, m, counts=not ok)}", details


def _bounded(check: Check, sample: Sample, options: Options):
    m = measure(check, sample)
    level = check.level if check.level is not None else options.confidence
    low, high, method = interval(check, sample, m, level, n_resamples=options.n_resamples, seed=options.seed)
    value = low if check.bound == "lower" else high
    details = _details(check, m) | {"interval": [number(low), number(high)], "level": level, "method": method}
    if math.isnan(m.value):
        return FAIL, value, _undefined(check, m), details
    if math.isnan(value):
        return FAIL, value, (f"the {_level(level)} interval of {check.metric} is undefined (too few cases for "
                             f"{method}); {check.metric} is {fmt(m.value)}{_where(check, m)}"), details
    ok = compare(value, check.op, check.target)
    op = check.op if ok else NEGATED[check.op]
    return (PASS if ok else FAIL), value, (f"{method} {_level(level)} {check.bound} bound {fmt(value)} {op} "
                                           f"{check.target:g} ({check.metric} {fmt(m.value)}"
                                           f"{_where(check, m, counts=not ok)})"), \
        details


def _versus(check: Check, sample: Sample, baseline: Sample, options: Options):
    d = paired_difference(check, sample, baseline, level=options.confidence, margin=check.target,
                          n_resamples=options.n_resamples, seed=options.seed)
    details = {"spec": check.spec(), "measure": check.measure} | d.to_dict()
    both = f"current {fmt(d.current)}, baseline {fmt(d.baseline)}"
    if math.isnan(d.delta):
        return FAIL, d.delta, f"the difference is undefined ({both})", details
    if compare(d.delta, check.op, check.target):
        return PASS, d.delta, f"delta {d.delta:+.4f} {check.op} margin {check.target:g} ({both})", details
    edge = d.high if check.op in (">=", ">") else d.low
    below = f"delta {d.delta:+.4f} {NEGATED[check.op]} margin {check.target:g}"
    p = "" if math.isnan(d.p_value) else (f", p={d.p_value:.2g}" if d.p_value >= 0.001 else ", p<0.001")
    ci = f"{_level(d.level)} CI [{d.low:+.4f}, {d.high:+.4f}] ({d.method}{p})"
    if math.isnan(edge):
        return FAIL, d.delta, f"{below} and no interval could be computed (too few cases) ({both})", details
    if compare(edge, check.op, check.target):
        details["noise"] = True
        return PASS, d.delta, f"{below} but not significantly: {ci} reaches the margin; noise ({both})", details
    details["noise"] = False
    return FAIL, d.delta, f"{below}, significantly: {ci} lies beyond the margin; a regression ({both})", details


def _single(check: Check, sample: Sample, baseline: Sample | None, options: Options):
    if check.baseline:
        return _versus(check, sample, baseline, options)
    if check.bound:
        return _bounded(check, sample, options)
    return _plain(check, sample, options)


def evaluate_check(gc: GateCheck, sample: Sample, *, baseline: Sample | None = None, baseline_note: str = "",
                   options: Options = Options()) -> CheckResult:
    """The verdict of one check on one dataset (``baseline``: the baseline's scores on the same rows)."""
    check = gc.check
    start = time.perf_counter()

    def result(verdict, value, why, details=None, segment=None, segments=()):
        return CheckResult(str(check), gc.dataset, verdict, float(value), check.op, check.target, why, gc.name,
                           segment, details or {"spec": check.spec(), "measure": check.measure}, list(segments),
                           time.perf_counter() - start)

    if check.baseline and baseline is None:
        return result(SKIP, float("nan"), baseline_note or "no baseline: pass --baseline latest or a run id")
    if not check.per_segment:
        return result(*_single(check, sample, baseline, options))
    parts = []
    for label, rows, sub in sample.segments:
        sub_baseline = baseline.take(rows) if baseline is not None else None
        verdict, value, why, details = _single(check, sub, sub_baseline, options)
        parts.append(CheckResult(str(check), gc.dataset, verdict, float(value), check.op, check.target, why, gc.name,
                                 label, details))
    failed = [p for p in parts if p.verdict == FAIL]
    values = np.array([p.value for p in parts])
    if np.isnan(values).any():
        worst = float("nan")
    else:
        worst = float(values.min() if check.op in (">=", ">") else values.max())
    if failed:
        shown = "; ".join(f"{p.segment}: {p.why}" for p in failed[:3]) + ("; ..." if len(failed) > 3 else "")
        return result(FAIL, worst, f"{len(failed)} of {len(parts)} segments fail: {shown}", segments=parts)
    worst_part = min(parts, key=lambda p: p.value if check.op in (">=", ">") else -p.value)
    return result(PASS, worst, f"all {len(parts)} segments pass; the worst is {worst_part.segment}: {worst_part.why}",
                  segments=parts)
