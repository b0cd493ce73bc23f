"""The Curve: confusion counts at every distinct threshold, and everything derived from them.

One counting result feeds every curve and area: ROC, PR, AUC, AP, the confusion matrix at any
threshold and every threshold metric. Counts are a mergeable state: ``a.merge(b)`` for two shards
equals counting their union at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from thresher.errors import ParameterError
from thresher.kernels.counts import curve_areas, pr_arrays
from thresher.kernels.hull import upper_hull
from thresher.metrics.confusion import Confusion, MetricsMixin
from thresher.metrics.rates import ratio
from thresher.params import PROBABILITY_OPEN_LEFT, Interval, check


@dataclass(frozen=True, eq=False)
class Curve(MetricsMixin):
    """Cumulative weights at each distinct threshold, thresholds decreasing.

    ``tp[i]`` / ``fp[i]`` are the positive / negative weight with ``score >= thresholds[i]``.
    ``exact`` is False for binned or thinned curves: their points are exact, but areas carry the
    error bounds given by :meth:`roc_auc_bounds` and :meth:`average_precision_bounds`.

    >>> c = Curve.from_scores([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> c.thresholds.tolist(), c.tp.tolist(), c.fp.tolist()
    ([0.8, 0.4, 0.35, 0.1], [1.0, 1.0, 2.0, 2.0], [0.0, 1.0, 1.0, 2.0])
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: float
    negatives: float
    exact: bool = True

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_columns(cls, cols) -> "Curve":
        """Count validated :class:`~thresher.data.Columns` exactly."""
        from thresher.kernels.counts import exact_counts

        thresholds, tp, fp = exact_counts(cols.y, cols.score, cols.weight)
        # the last cumulative sums are the totals, so tn and fn reach exactly 0
        total_pos, total_neg = (float(tp[-1]), float(fp[-1])) if len(tp) else (0.0, 0.0)
        return cls(thresholds, tp, fp, total_pos, total_neg)

    @classmethod
    def from_scores(cls, y_true, y_score, *, sample_weight=None, pos_label=None) -> "Curve":
        from thresher.data.load import from_arrays

        return cls.from_columns(from_arrays(y_true, y_score, sample_weight, pos_label))

    @classmethod
    def empty(cls, dtype=np.float64) -> "Curve":
        """The curve of no rows: the identity of :meth:`merge`."""
        z = np.empty(0, np.float64)
        return cls(np.empty(0, dtype), z, z, 0.0, 0.0)

    # the confusion counts ---------------------------------------------------------------------
    @cached_property
    def tn(self) -> np.ndarray:
        return self.negatives - self.fp

    @cached_property
    def fn(self) -> np.ndarray:
        return self.positives - self.tp

    def __len__(self) -> int:
        return int(self.thresholds.shape[0])

    def index_at(self, threshold: float) -> int:
        """Index of the curve point that applies at ``threshold`` (the smallest threshold >= it), or -1."""
        return int(np.searchsorted(-self.thresholds, -threshold, side="right")) - 1

    def at(self, threshold: float) -> Confusion:
        """The confusion matrix at any threshold (positive iff ``score >= threshold``)."""
        k = self.index_at(threshold)
        tp = float(self.tp[k]) if k >= 0 else 0.0
        fp = float(self.fp[k]) if k >= 0 else 0.0
        return Confusion(float(threshold), tp, fp, self.negatives - fp, self.positives - tp)

    def point(self, k: int) -> Confusion:
        """The confusion matrix at curve point ``k`` (threshold = ``thresholds[k]``)."""
        return Confusion(float(self.thresholds[k]), float(self.tp[k]), float(self.fp[k]),
                         float(self.tn[k]), float(self.fn[k]))

    # curves in scikit-learn's layout -----------------------------------------------------------
    def roc(self):
        """``(fpr, tpr, thresholds)`` as ``sklearn.metrics.roc_curve(drop_intermediate=False)``:
        a first point (0, 0) at threshold +inf, then every distinct score, decreasing."""
        fps = np.concatenate([[0.0], self.fp])
        tps = np.concatenate([[0.0], self.tp])
        thresholds = np.concatenate([[np.inf], self.thresholds.astype(np.float64)])
        return ratio(fps, self.negatives), ratio(tps, self.positives), thresholds

    def pr(self):
        """``(precision, recall, thresholds)`` as ``sklearn.metrics.precision_recall_curve(
        drop_intermediate=False)``: thresholds increasing, and a last point (recall 0, precision 1)
        with no threshold. Recall is NaN (not 1 as in scikit-learn) when there are no positives."""
        precision, recall = pr_arrays(self.tp, self.fp, float(self.positives))
        return precision, recall, self.thresholds[::-1]

    # areas ------------------------------------------------------------------------------------
    def roc_auc(self, max_fpr: float | None = None) -> float:
        """Area under the ROC curve (ties count one half); NaN with a single class.

        With ``max_fpr`` the partial area up to that FPR, McClish-standardised to [0.5, 1] for
        a better-than-random model, exactly as ``sklearn.metrics.roc_auc_score(max_fpr=...)``.
        """
        check(max_fpr, "max_fpr", "roc_auc", PROBABILITY_OPEN_LEFT, optional=True)
        if self.positives <= 0 or self.negatives <= 0:
            return float("nan")
        if max_fpr is None or max_fpr == 1:
            area, _ = curve_areas(self.tp, self.fp)
            return float(area / (self.positives * self.negatives))
        fpr, tpr, _ = self.roc()
        stop = int(np.searchsorted(fpr, max_fpr, "right"))
        tpr_at = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
        partial = float(np.trapezoid(np.append(tpr[:stop], tpr_at), np.append(fpr[:stop], max_fpr)))
        low, high = 0.5 * max_fpr**2, max_fpr
        return 0.5 * (1 + (partial - low) / (high - low))

    def average_precision(self) -> float:
        """Average precision as scikit-learn defines it: the step sum
        ``sum((R[i] - R[i-1]) * P[i])`` over thresholds, with no interpolation. NaN with no positives."""
        if self.positives <= 0:
            return float("nan")
        _, ap = curve_areas(self.tp, self.fp)
        return float(max(0.0, ap / self.positives))

    def pr_auc(self) -> float:
        """Trapezoidal area under the PR curve, anchored at (recall 0, precision 1), as
        ``sklearn.metrics.auc(recall, precision)``. Linear interpolation between PR points is
        optimistic; average precision (the step sum) is the better summary. NaN with no positives."""
        if self.positives <= 0:
            return float("nan")
        precision, recall, _ = self.pr()
        return float(abs(np.trapezoid(precision, recall)))

    def roc_auc_interval(self, confidence: float = 0.95) -> tuple[float, float, float, float]:
        """``(auc, low, high, se)``: DeLong's standard error and normal interval (clipped to [0, 1]).

        Computed from the counts: placement values are constant within a tie group (a positive at
        point k has ``V10 = (N - fp_k + dfp_k / 2) / N``, a negative ``V01 = (tp_k - dtp_k / 2) / P``),
        so their variances are sums over points. Unweighted data; NaN when a class has < 2 cases.
        """
        from statistics import NormalDist

        check(confidence, "confidence", "roc_auc_interval", Interval(0, 1, closed="neither"))
        m, n = float(self.positives), float(self.negatives)
        nan = float("nan")
        if m == 0 or n == 0 or not self.exact:
            return nan, nan, nan, nan
        dtp = np.diff(self.tp, prepend=0.0)
        dfp = np.diff(self.fp, prepend=0.0)
        v10 = (n - self.fp + 0.5 * dfp) / n
        v01 = (self.tp - 0.5 * dtp) / m
        auc = float(np.dot(dtp, v10) / m)
        if m < 2 or n < 2:
            return auc, nan, nan, nan
        s10 = float(np.dot(dtp, (v10 - auc) ** 2) / (m - 1))
        s01 = float(np.dot(dfp, (v01 - auc) ** 2) / (n - 1))
        se = float(np.sqrt(max(s10 / m + s01 / n, 0.0)))
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        return auc, float(np.clip(auc - z * se, 0.0, 1.0)), float(np.clip(auc + z * se, 0.0, 1.0)), se

    def roc_auc_bounds(self) -> tuple[float, float]:
        """Interval that contains the exact ROC AUC of the underlying rows.

        Exact curves give a zero-width interval. For binned or thinned curves the order of
        positives and negatives inside one group is unknown: such a pair counts 1/2 here and
        anywhere in [0, 1] exactly, so the error is at most ``sum(p_g * n_g) / (2 P N)``.
        """
        auc = self.roc_auc()
        if self.exact or np.isnan(auc):
            return auc, auc
        dtp = np.diff(self.tp, prepend=0.0)
        dfp = np.diff(self.fp, prepend=0.0)
        err = 0.5 * float(np.sum(dtp * dfp)) / (self.positives * self.negatives)
        return max(0.0, auc - err), min(1.0, auc + err)

    def average_precision_bounds(self) -> tuple[float, float]:
        """Interval that contains the exact average precision of the underlying rows.

        Inside a group with positive weight p, negative weight n, and (a, f) above it, a positive's
        precision is at least the negatives-first integral ``(1/p) ∫ (a+x)/(a+x+f+n) dx`` and at
        most ``(a+p)/(a+p+f)`` (positives first). Exact curves give a zero-width interval.
        """
        ap = self.average_precision()
        if self.exact or np.isnan(ap):
            return ap, ap
        a = np.concatenate([[0.0], self.tp[:-1]])
        f = np.concatenate([[0.0], self.fp[:-1]])
        p = self.tp - a
        n = self.fp - f
        keep = p > 0
        a, f, p, n = a[keep], f[keep], p[keep], n[keep]
        fn_ = f + n
        with np.errstate(divide="ignore", invalid="ignore"):
            log_term = np.where(fn_ > 0, fn_ * np.log((a + p + fn_) / np.where(a + fn_ > 0, a + fn_, 1.0)), 0.0)
        # a group starting at (0, 0) with negatives: the integrand starts at 0, log term is finite via the limit
        start = (a + fn_ == 0)
        log_term = np.where(start, 0.0, log_term)
        lower = np.where(a + fn_ == 0, p, p - log_term)
        upper = p * ratio(a + p, a + p + f)
        upper = np.where(np.isnan(upper), p, upper)
        return max(0.0, float(lower.sum() / self.positives)), min(1.0, float(upper.sum() / self.positives))

    # state ------------------------------------------------------------------------------------
    def merge(self, other: "Curve") -> "Curve":
        """Counts of the union of two disjoint row sets (exact curves only)."""
        if not (self.exact and other.exact):
            raise ParameterError("Only exact curves merge; merge binned states with BinnedCounts.merge instead.")
        thresholds = np.union1d(self.thresholds, other.thresholds)[::-1]
        tp = self._cumulative_at(thresholds, self.tp) + other._cumulative_at(thresholds, other.tp)
        fp = self._cumulative_at(thresholds, self.fp) + other._cumulative_at(thresholds, other.fp)
        return Curve(thresholds, tp, fp, self.positives + other.positives, self.negatives + other.negatives)

    def _cumulative_at(self, thresholds: np.ndarray, values: np.ndarray) -> np.ndarray:
        k = np.searchsorted(-self.thresholds, -thresholds, side="right")
        return np.where(k > 0, values[np.maximum(k - 1, 0)] if len(values) else 0.0, 0.0)

    # display ----------------------------------------------------------------------------------
    def thin(self, max_points: int = 512, keep=()) -> "Curve":
        """A subset of at most about ``max_points`` exact points for display.

        Always kept: the first and last points, the ROC convex hull (every cost-optimal point),
        the best-F1 point and the points at the ``keep`` thresholds; the rest evenly spaced in
        alert volume. Every kept point carries its exact counts; areas of the thinned curve come
        with bounds (``exact=False``).
        """
        n = len(self)
        if n <= max_points:
            return self
        volume = self.tp + self.fp
        chosen = [np.array([0, n - 1])]
        chosen.append(np.searchsorted(volume, np.linspace(volume[0], volume[-1], max_points)).clip(0, n - 1))
        hull = upper_hull(np.concatenate([[0.0], self.fp]), np.concatenate([[0.0], self.tp]))
        chosen.append(hull[hull > 0] - 1)
        f1 = self.f1
        if not np.all(np.isnan(f1)):
            chosen.append(np.array([int(np.nanargmax(f1))]))
        if len(keep):
            # one search for all kept thresholds (index_at per threshold would negate the array each time)
            ks = np.searchsorted(-self.thresholds, -np.asarray(keep, dtype=np.float64), side="right") - 1
            chosen.append(ks[ks >= 0].astype(np.int64))
        idx = np.unique(np.concatenate(chosen))
        return Curve(self.thresholds[idx], self.tp[idx], self.fp[idx], self.positives, self.negatives, exact=False)

    # figures ----------------------------------------------------------------------------------
    # The one upward import thresher allows (metrics -> report), kept lazy inside each method so
    # that importing thresher never imports the report layer or matplotlib.
    def plot_pr(self, **options):
        """Precision-recall curve on a matplotlib Axes; see :func:`thresher.report.plots.plot_pr`."""
        from thresher.report import plots

        return plots.plot_pr(self, **options)

    def plot_roc(self, **options):
        """ROC curve on a matplotlib Axes; see :func:`thresher.report.plots.plot_roc`."""
        from thresher.report import plots

        return plots.plot_roc(self, **options)

    def plot_threshold(self, **options):
        """Precision, recall, F1 and alert rate by threshold; see :func:`thresher.report.plots.plot_threshold`."""
        from thresher.report import plots

        return plots.plot_threshold(self, **options)

    def plot_cost(self, cost="fn=1 fp=1", **options):
        """Expected cost by threshold (``cost="fn=10 fp=1"``); see :func:`thresher.report.plots.plot_cost`."""
        from thresher.report import plots

        return plots.plot_cost(self, cost, **options)

    def plot_calibration(self, **options):
        """Reliability diagram; see :func:`thresher.report.plots.plot_calibration`."""
        from thresher.report import plots

        return plots.plot_calibration(self, **options)

    def plot_distribution(self, **options):
        """Score histograms by class; see :func:`thresher.report.plots.plot_distribution`."""
        from thresher.report import plots

        return plots.plot_distribution(self, **options)
