"""Calibration: are the scores probabilities one can plug into a Bayes threshold?

``min-cost`` reports the Bayes-optimal threshold C_fp / (C_fp + C_fn), which is right only when
scores are calibrated probabilities. This module measures calibration (Brier score, expected
calibration error, a reliability table) and judges the shortcut by what it would cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresher.errors import InputError
from thresher.params import Interval, check

ECE_TOLERANCE = 0.05
REGRET_TOLERANCE = 0.05


def _probabilities(score: np.ndarray) -> np.ndarray:
    if score.size and (score.min() < 0 or score.max() > 1):
        raise InputError(f"Scores range over [{score.min():.4g}, {score.max():.4g}]; calibration needs "
                         "probabilities in [0, 1]. Calibrate the model (e.g. isotonic or Platt scaling) first.")
    return score.astype(np.float64)


def brier_score(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Mean squared error of probabilities against 0/1 outcomes (lower is better).

    >>> round(brier_score(np.array([0, 1]), np.array([0.1, 0.8])), 6)
    0.025
    """
    p = _probabilities(score)
    return float(np.average((p - y) ** 2, weights=weight))


def reliability_table(y: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None, *, bins: int = 10,
                      strategy: str = "uniform") -> dict[str, np.ndarray]:
    """Per score bin: weight, mean predicted probability, observed positive rate.

    ``strategy="uniform"`` uses equal-width bins on [0, 1] (as ``sklearn.calibration.calibration_curve``);
    ``"quantile"`` equal-count bins. Empty bins are dropped.
    """
    check(bins, "bins", "reliability_table", Interval(1, None, integer=True))
    p = _probabilities(score)
    w = np.ones_like(p) if weight is None else weight
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, bins + 1))
    else:
        from thresher.errors import ParameterError

        raise ParameterError(f"The 'strategy' parameter of reliability_table must be 'uniform' or 'quantile'. Got {strategy!r} instead.")
    idx = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, bins - 1)
    total = np.bincount(idx, weights=w, minlength=bins)
    predicted = np.bincount(idx, weights=w * p, minlength=bins)
    observed = np.bincount(idx, weights=w * y, minlength=bins)
    keep = total > 0
    return {"low": edges[:-1][keep], "high": edges[1:][keep], "weight": total[keep],
            "predicted": predicted[keep] / total[keep], "observed": observed[keep] / total[keep]}


def expected_calibration_error(y, score, weight=None, *, bins: int = 10) -> float:
    """Weighted mean |observed - predicted| over equal-width bins."""
    t = reliability_table(y, score, weight, bins=bins)
    return float(np.sum(t["weight"] * np.abs(t["observed"] - t["predicted"])) / np.sum(t["weight"]))


@dataclass(frozen=True)
class CalibrationCheck:
    """Whether the Bayes threshold is a safe shortcut for these scores."""

    brier: float
    ece: float
    table: dict = field(repr=False)
    bayes_threshold: float | None = None
    regret: float | None = None  # relative extra cost of the Bayes threshold over the empirical optimum

    @property
    def calibrated_enough(self) -> bool:
        ok = self.ece <= ECE_TOLERANCE
        if self.regret is not None:
            ok = ok and self.regret <= REGRET_TOLERANCE
        return ok

    def verdict(self) -> str:
        parts = [f"ECE {self.ece:.4f}", f"Brier {self.brier:.4f}"]
        if self.regret is not None:
            parts.append(f"the Bayes threshold costs {self.regret:.1%} more than the empirical one")
        head = "calibrated enough for the Bayes threshold" if self.calibrated_enough else \
            "NOT calibrated enough for the Bayes threshold: use the empirical threshold (or recalibrate)"
        return f"{head} ({'; '.join(parts)})"

    def to_dict(self) -> dict:
        return {"brier": self.brier, "ece": self.ece, "bayes_threshold": self.bayes_threshold,
                "regret": self.regret, "calibrated_enough": self.calibrated_enough,
                "reliability": {k: v.tolist() for k, v in self.table.items()}}


def calibration_check(y, score, weight=None, *, bins: int = 10, cost=None, bayes_cost=None,
                      bayes_threshold=None) -> CalibrationCheck:
    """Brier, ECE and reliability table; with the empirical minimum ``cost`` and the cost at the
    Bayes threshold, also the regret of taking the shortcut."""
    table = reliability_table(y, score, weight, bins=bins)
    ece = float(np.sum(table["weight"] * np.abs(table["observed"] - table["predicted"])) / np.sum(table["weight"]))
    regret = None
    if cost is not None and bayes_cost is not None:
        regret = float((bayes_cost - cost) / abs(cost)) if cost else (0.0 if bayes_cost == cost else float("inf"))
    return CalibrationCheck(brier_score(y, score, weight), ece, table, bayes_threshold, regret)
