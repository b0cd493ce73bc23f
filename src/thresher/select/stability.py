"""How stable is a chosen threshold? A stratified bootstrap of the selection itself.

Resampling rows within each class and re-running the selection shows how far the chosen threshold
and its objective value move under sampling noise. Unweighted data is resampled per distinct score
(a multinomial over the curve's points, equivalent to resampling rows); weighted data row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.data.columns import Columns
from thresher.errors import InfeasibleError, SpecError
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.select.objectives import Fixed, parse
from thresher.select.select import select_on_curve


@dataclass(frozen=True)
class ThresholdStability:
    thresholds: np.ndarray
    values: np.ndarray
    failures: int

    def interval(self, confidence: float = 0.95, of: str = "threshold") -> tuple[float, float]:
        data = self.thresholds if of == "threshold" else self.values
        a = (1 - confidence) / 2
        return float(np.quantile(data, a)), float(np.quantile(data, 1 - a))

    def to_dict(self, confidence: float = 0.95) -> dict:
        return {"resamples": int(self.thresholds.size), "infeasible_resamples": self.failures,
                "threshold_interval": list(self.interval(confidence)),
                "value_interval": list(self.interval(confidence, of="value")),
                "threshold_std": float(np.std(self.thresholds))}


def threshold_stability(cols: Columns, objective, *, n_resamples: int = 200, seed: int = 0) -> ThresholdStability:
    """Bootstrap distribution of the chosen threshold and of the objective's value.

    >>> from thresher.data import from_arrays
    >>> cols = from_arrays([0, 1, 0, 1, 1, 0], [0.1, 0.9, 0.3, 0.7, 0.4, 0.5])
    >>> s = threshold_stability(cols, "max-f1", n_resamples=50, seed=1)
    >>> s.thresholds.shape
    (50,)
    """
    check(n_resamples, "n_resamples", "threshold_stability", Interval(1, None, integer=True))
    objective = parse(objective)
    if objective.columns():
        raise SpecError(f"The threshold bootstrap supports objectives on counts only; '{objective.spec()}' "
                        "needs per-case columns.")
    if isinstance(objective, Fixed):
        raise SpecError("A fixed threshold does not move under resampling; bootstrap a chosen one instead.")
    curve = Curve.from_columns(cols)
    rng = np.random.default_rng(seed)
    n_pos = int(np.count_nonzero(cols.y))
    n_neg = len(cols) - n_pos
    if cols.weight is None:
        p_pos = np.diff(curve.tp, prepend=0.0) / max(curve.positives, 1)
        p_neg = np.diff(curve.fp, prepend=0.0) / max(curve.negatives, 1)
    else:
        point = np.searchsorted(-curve.thresholds, -cols.score.astype(np.float64), side="left")
        pos_rows = np.flatnonzero(cols.y == 1)
        neg_rows = np.flatnonzero(cols.y == 0)
    thresholds = np.empty(n_resamples)
    values = np.empty(n_resamples)
    failures = 0
    for r in range(n_resamples):
        if cols.weight is None:
            dtp = rng.multinomial(n_pos, p_pos) if n_pos else np.zeros(len(curve))
            dfp = rng.multinomial(n_neg, p_neg) if n_neg else np.zeros(len(curve))
        else:
            dtp = _resample_weights(rng, pos_rows, point, cols.weight, len(curve))
            dfp = _resample_weights(rng, neg_rows, point, cols.weight, len(curve))
        tp, fp = np.cumsum(dtp, dtype=np.float64), np.cumsum(dfp, dtype=np.float64)
        sample = Curve(curve.thresholds, tp, fp, float(tp[-1]), float(fp[-1]))
        try:
            chosen = select_on_curve(sample, objective)
        except InfeasibleError:  # an infeasible resample is information, not an error
            failures += 1
            thresholds[r] = values[r] = np.nan
            continue
        thresholds[r], values[r] = chosen.threshold, chosen.value
    ok = ~np.isnan(thresholds)
    return ThresholdStability(thresholds[ok], values[ok], failures)


def _resample_weights(rng, rows, point, weight, m):
    counts = np.bincount(rng.integers(0, rows.size, rows.size), minlength=rows.size) if rows.size else rows
    return np.bincount(point[rows], weights=weight[rows] * counts, minlength=m)
