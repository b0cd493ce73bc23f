"""Paired comparison of two score columns on the same rows: DeLong for ROC AUC, the paired bootstrap otherwise.

The paired stratified bootstrap draws, per resample, the positives and the negatives with
replacement (class sizes fixed, as :mod:`thresher.stats.bootstrap`), and measures the check on
*both* columns with the same draws, so the noise the two share cancels in the difference. A check
at a chosen operating point (``at recall>=0.9``) re-chooses the point on every resample for each
column. Rows of zero weight are never drawn. Each column is sorted once; a resample then costs one
O(n) pass per column.

``p_value`` is two-sided against ``margin``: small when the difference is clearly on one side of
it. With DeLong it is ``2 * sf(|delta - margin| / se)``; with the bootstrap, twice the smaller tail
fraction of resampled differences beyond the margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import math
from statistics import NormalDist

import numba as nb
import numpy as np

from thresher.data.columns import Columns
from thresher.gate.measure import Sample, measure, percentile_interval, value_on
from thresher.gate.spec import CURVE_METRICS, AtObjective, AtPolicy, AtThreshold, Check
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.select.context import Context


@dataclass(frozen=True)
class Difference:
    """``delta = current - baseline`` with its two-sided ``level`` interval and p-value against ``margin``."""

    current: float
    baseline: float
    delta: float
    low: float
    high: float
    p_value: float
    method: str
    level: float
    margin: float = 0.0
    se: float = float("nan")
    resamples: int = 0

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or v != v else float(v)

        return {"current": num(self.current), "baseline": num(self.baseline), "delta": num(self.delta),
                "interval": [num(self.low), num(self.high)], "p_value": num(self.p_value), "method": self.method,
                "level": self.level, "margin": self.margin, "se": num(self.se), "resamples": self.resamples}


@nb.njit(cache=True, nogil=True)
def _group_counts(order, positive, group_end, weight, tp, fp, keep):
    """Cumulative positive / negative weight at the end of each score group (rows sorted by ``order``),
    keeping only groups that hold weight; returns how many groups were kept."""
    ctp = 0.0
    cfp = 0.0
    group = 0.0
    g = 0
    k = 0
    for i in range(order.shape[0]):
        w = weight[order[i]]
        if positive[i]:
            ctp += w
        else:
            cfp += w
        group += w
        if group_end[i]:
            if group > 0.0:
                tp[k] = ctp
                fp[k] = cfp
                keep[k] = g
                k += 1
            group = 0.0
            g += 1
    return k


class _Sorted:
    """One score column sorted once (highest first): the curve of any reweighting of its rows in O(n)."""

    def __init__(self, y: np.ndarray, score: np.ndarray):
        self.order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
        s = score[self.order]
        self.positive = y[self.order] == 1
        self.group_end = np.append(s[1:] != s[:-1], True)
        self.thresholds = s[self.group_end]

    def curve(self, weight: np.ndarray) -> Curve:
        """The exact curve of the rows weighted by ``weight``: groups without weight are dropped, so it
        equals ``Curve.from_columns`` of the reweighted rows."""
        size = self.thresholds.shape[0]
        tp, fp, keep = np.empty(size), np.empty(size), np.empty(size, np.int64)
        k = _group_counts(self.order, self.positive, self.group_end, weight, tp, fp, keep)
        return Curve(self.thresholds[keep[:k]], tp[:k], fp[:k], float(tp[k - 1]), float(fp[k - 1]))


def stratified_weights(y: np.ndarray, weight: np.ndarray | None, n_resamples: int, seed: int):
    """Yield one weight vector per resample: times drawn x the row's weight (class sizes fixed)."""
    n = y.shape[0]
    base = np.ones(n) if weight is None else weight
    rng = np.random.default_rng(seed)
    pools = [p for p in (np.flatnonzero((y == 1) & (base > 0)), np.flatnonzero((y == 0) & (base > 0))) if p.size]
    for _ in range(n_resamples):
        drawn = np.concatenate([pool[rng.integers(0, pool.size, pool.size)] for pool in pools])
        counts = np.bincount(drawn, minlength=n).astype(np.float64)
        yield counts if weight is None else counts * base


def _fixed_flags(check: Check, sample: Sample) -> np.ndarray | None:
    """Rows flagged whatever the resample: at a fixed threshold or by the policy (None: re-chosen per resample)."""
    if isinstance(check.at, AtPolicy):
        return sample.flagged(check.at)
    if isinstance(check.at, AtThreshold) and check.metric not in CURVE_METRICS:
        return sample.cols.score >= check.at.threshold
    return None


def resampled_values(check: Check, samples: list[Sample], *, n_resamples: int, seed: int) -> np.ndarray:
    """The check's value on each paired resample (rows shared by every sample): shape (samples, resamples)."""
    first = samples[0].cols
    positive = first.y == 1
    flags = [_fixed_flags(check, s) for s in samples]
    # a fixed set of flagged rows needs no sorting: four weighted sums give the confusion counts
    cells = [None if f is None else np.stack([f & positive, f & ~positive, ~f & ~positive, ~f & positive]).astype(float)
             for f in flags]
    sorted_ = [_Sorted(s.cols.y, s.cols.score) if f is None else None for s, f in zip(samples, flags)]
    needs_columns = isinstance(check.at, AtObjective) and bool(check.at.objective.columns())
    out = np.full((len(samples), n_resamples), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for r, w in enumerate(stratified_weights(first.y, first.weight, n_resamples, seed)):
            for i, sample in enumerate(samples):
                if cells[i] is not None:
                    tp, fp, tn, fn = cells[i] @ w
                    out[i, r] = Confusion(float("nan"), tp, fp, tn, fn).metric(check.metric)
                    continue
                context = None
                if needs_columns:
                    c = sample.cols
                    context = Context(Columns(c.y, c.score, w, None, c.pos_label, c.extra))
                out[i, r] = value_on(check, sorted_[i].curve(w), context=context, explain=False).value
    return out


def paired_difference(check: Check, current: Sample, baseline: Sample, *, level: float, margin: float = 0.0,
                      n_resamples: int = 1000, seed: int = 0) -> Difference:
    """The paired difference current - baseline of the check's metric on the same rows.

    ROC AUC on unweighted rows uses DeLong's paired test (:func:`thresher.stats.delong_test`);
    everything else the paired stratified bootstrap.
    """
    a = measure(check, current).value
    b = measure(check, baseline).value
    delta = a - b
    if check.metric == "roc_auc" and current.cols.weight is None:
        from thresher.stats import delong_test

        t = delong_test(current.cols.y, current.cols.score, baseline.cols.score)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        se = t.se
        if not np.isfinite(se):
            return Difference(a, b, delta, float("nan"), float("nan"), float("nan"), "DeLong", level, margin, se)
        if se == 0:
            p = 1.0 if delta == margin else 0.0
        else:
            p = math.erfc(abs(delta - margin) / se / math.sqrt(2))  # two-sided normal tail, exact far out
        return Difference(a, b, delta, delta - z * se, delta + z * se, p, "DeLong", level, margin, se)
    values = resampled_values(check, [current, baseline], n_resamples=n_resamples, seed=seed)
    d = values[0] - values[1]
    d = d[np.isfinite(d)]
    low, high = percentile_interval(d, level)
    if d.size:
        p = float(min(1.0, 2 * min(np.mean(d <= margin), np.mean(d >= margin))))
        se = float(np.std(d, ddof=1)) if d.size > 1 else float("nan")
    else:
        p = se = float("nan")
    return Difference(a, b, delta, low, high, p, "paired bootstrap", level, margin, se, int(d.size))
