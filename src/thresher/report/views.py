"""One view of the report (all rows, or one segment): display curve, areas, distributions, calibration.

Every number a view carries is computed from one exact :class:`~thresher.metrics.curve.Curve`;
the display curve is a subset of its points, so every point shown carries the exact counts
thresher computes at that threshold. Histograms and the reliability table come from the curve's
cumulative counts in O(bins log n), whatever the number of rows.
"""

from __future__ import annotations

import numpy as np

from thresher.metrics.confusion import _number
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.select.context import with_top
from thresher.stats.delong import auc_interval_from_curve

MAX_POINTS = 1200
DISTRIBUTION_BINS = 40
CALIBRATION_BINS = 10
LOGIT_EPS = 1e-6


def display_curve(curve: Curve, keep=(), max_points: int = MAX_POINTS) -> Curve:
    """The points the report draws and the slider moves over, about ``max_points`` of them.

    Starts at "flag nothing" (just above the top score). ``Curve.thin`` keeps the ROC hull, the
    best F1, points evenly spaced in alert volume and the points at the ``keep`` thresholds (the
    marked operating points); to those this adds points evenly spaced in recall, in false positive
    rate and in threshold value, so the PR, ROC and threshold charts are all smooth. Every point
    keeps its exact counts.
    """
    full = with_top(curve)
    n = len(full)
    if n <= max_points:
        return full
    grid = max(2, max_points // 4)
    thinned = full.thin(grid, keep=keep)
    descending = -full.thresholds  # searchsorted needs increasing values: negate once, not per lookup
    chosen = [np.searchsorted(descending, -thinned.thresholds, side="right") - 1]
    for counts in (full.tp, full.fp):
        if counts[-1] > 0:
            chosen.append(np.searchsorted(counts, np.linspace(0.0, counts[-1], grid), side="left"))
    targets = np.linspace(float(full.thresholds[-1]), float(full.thresholds[1]), grid)
    chosen.append(np.searchsorted(descending, -targets, side="right") - 1)
    idx = np.unique(np.concatenate(chosen).clip(0, n - 1))
    return Curve(full.thresholds[idx], full.tp[idx], full.fp[idx], full.positives, full.negatives, exact=False)


def _at_or_above(curve: Curve, edges: np.ndarray, *cumulative: np.ndarray) -> list[np.ndarray]:
    """Each cumulative array (over the curve's decreasing thresholds) at ``score >= edge``, per edge."""
    k = np.searchsorted(-curve.thresholds.astype(np.float64), -np.asarray(edges, np.float64), side="right") - 1
    return [np.where(k >= 0, c[np.maximum(k, 0)], 0.0) for c in cumulative]


def _per_bin(at_edges: np.ndarray) -> np.ndarray:
    """Weight per bin ``[e_i, e_i+1)`` (the last one closed, as ``numpy.histogram``) from the weight
    at or above each edge; the last edge is at or above the top score."""
    out = at_edges[:-1] - at_edges[1:]
    out[-1] = at_edges[-2]
    return out


def _logit(p):
    p = np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS)
    return np.log(p / (1 - p))


def _histogram(curve: Curve, edges: np.ndarray) -> dict:
    pos, neg = (_per_bin(c) for c in _at_or_above(curve, edges, curve.tp, curve.fp))
    return {"edges": _numbers(edges), "positives": _numbers(pos), "negatives": _numbers(neg)}


def threshold_axis(curve: Curve) -> str:
    """``"logit"`` for probabilities that crowd near 0 or 1 (weighted median below 0.1 or above 0.9),
    else ``"linear"``: the threshold axis on which the interesting range is readable."""
    if len(curve) == 0:
        return "linear"
    low, high = float(curve.thresholds[-1]), float(curve.thresholds[0])
    if low < 0 or high > 1 or low == high:
        return "linear"
    volume = curve.tp + curve.fp
    median = float(curve.thresholds[min(int(np.searchsorted(volume, volume[-1] / 2)), len(curve) - 1)])
    return "logit" if median < 0.1 or median > 0.9 else "linear"


def distributions(curve: Curve, bins: int = DISTRIBUTION_BINS) -> dict:
    """Histograms of the scores of each class (exact weights per bin).

    ``linear``: bins of equal width in score; ``logit`` (probabilities only): bins of equal width
    in log-odds, for the report's logit threshold axis; ``axis``: the axis the report opens with.
    """
    check(bins, "bins", "distributions", Interval(1, None, integer=True))
    if len(curve) == 0:
        return {"linear": None, "logit": None, "axis": "linear"}
    low, high = float(curve.thresholds[-1]), float(curve.thresholds[0])
    linear = np.linspace(low, high, bins + 1) if high > low else np.array([low - 0.5, low + 0.5])
    out = {"linear": _histogram(curve, linear), "logit": None, "axis": "linear"}
    if 0 <= low and high <= 1 and high > low:
        edges = 1 / (1 + np.exp(-np.linspace(_logit(low), _logit(high), bins + 1)))
        edges[0], edges[-1] = low, high
        out["logit"] = _histogram(curve, edges)
        out["axis"] = threshold_axis(curve)
    return out


def calibration(curve: Curve, bins: int = CALIBRATION_BINS) -> dict | None:
    """Reliability table from the exact per-score counts, or None when the scores are not
    probabilities: the bins and numbers of :func:`thresher.stats.calibration.reliability_table` on
    the rows (equal-width bins on [0, 1], empty bins dropped)."""
    check(bins, "bins", "calibration", Interval(1, None, integer=True))
    if len(curve) == 0 or curve.thresholds[-1] < 0 or curve.thresholds[0] > 1:
        return None
    weight_at = curve.tp + curve.fp
    score_sum_at = np.cumsum(np.diff(weight_at, prepend=0.0) * curve.thresholds.astype(np.float64))
    edges = np.linspace(0.0, 1.0, bins + 1)
    # the last "edge" is above every score, so the last bin [e_k-1, 1] is closed like reliability_table's
    weight, predicted, observed = (_per_bin(c) for c in _at_or_above(
        curve, np.append(edges[:-1], np.inf), weight_at, score_sum_at, curve.tp))
    keep = weight > 0
    return {"low": _numbers(edges[:-1][keep]), "high": _numbers(edges[1:][keep]), "weight": _numbers(weight[keep]),
            "predicted": _numbers(predicted[keep] / weight[keep]), "observed": _numbers(observed[keep] / weight[keep])}


def auc_interval(weighted: bool, curve: Curve, confidence: float) -> dict | None:
    """DeLong interval of the ROC AUC (unweighted data with both classes), else None."""
    if weighted:
        return None
    r = auc_interval_from_curve(curve, confidence)
    if not np.isfinite(r.low):
        return None
    return {"low": r.low, "high": r.high, "se": r.se, "confidence": confidence}


def _numbers(values) -> list:
    return [_number(v) for v in np.asarray(values, dtype=np.float64).tolist()]


def view_document(key: str, name: str, n: int, weighted: bool, curve: Curve, *, marks: list[dict], keep=(),
                  confidence: float = 0.95, max_points: int = MAX_POINTS) -> dict:
    """The JSON of one view of ``n`` rows: totals, areas, the display curve, distributions and marks."""
    shown = display_curve(curve, keep, max_points)
    return {
        "key": key,
        "name": name,
        "n": n,
        "positives": _number(curve.positives),
        "negatives": _number(curve.negatives),
        "roc_auc": _number(curve.roc_auc()),
        "auc_interval": auc_interval(weighted, curve, confidence),
        "average_precision": _number(curve.average_precision()),
        "distinct_scores": len(curve),
        "curve": {"threshold": [float(t) for t in shown.thresholds.tolist()],
                  "tp": _numbers(shown.tp), "fp": _numbers(shown.fp)},
        "distribution": distributions(curve),
        "calibration": calibration(curve),
        "marks": marks,
    }
