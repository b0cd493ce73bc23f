"""The binned state: O(bins) memory, mergeable by addition, for streams and huge data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.errors import ParameterError
from thresher.kernels.binned import bin_edges, binned_counts
from thresher.metrics.curve import Curve
from thresher.params import Interval, check


def checked_range(range, where: str) -> tuple[float, float]:
    """``(low, high)`` as floats, finite with low < high, or a ParameterError naming ``where``."""
    try:
        lo, hi = (float(v) for v in range)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"The 'range' parameter of {where} must be (low, high) with low < high, both finite. "
                             f"Got {range!r} instead (on the command line: --range LO,HI, e.g. --range 0,1).")
    return lo, hi


@dataclass(frozen=True, eq=False)
class BinnedCounts:
    """Positive and negative weight per score bin over fixed ``edges``.

    Its :meth:`curve` is exact at every bin edge; ROC AUC and AP from it come with worst-case
    bounds (``Curve.roc_auc_bounds`` / ``Curve.average_precision_bounds``) that contain the exact
    values. Scores outside ``[edges[0], edges[-1]]`` are clipped into the first / last bin.

    >>> a = BinnedCounts.from_scores([0, 1], [0.2, 0.7], bins=10)
    >>> b = BinnedCounts.from_scores([1], [0.9], bins=10)
    >>> a.merge(b).pos.sum(), a.merge(b).neg.sum()
    (np.float64(2.0), np.float64(1.0))
    """

    edges: np.ndarray
    pos: np.ndarray
    neg: np.ndarray

    @classmethod
    def from_columns(cls, cols, *, bins: int = 1024, range: tuple[float, float] = (0.0, 1.0)) -> "BinnedCounts":
        check(bins, "bins", "BinnedCounts", Interval(1, None, integer=True))
        edges = bin_edges(*checked_range(range, "BinnedCounts"), int(bins))
        pos, neg = binned_counts(cols.y, cols.score, edges, cols.weight)
        return cls(edges, pos, neg)

    @classmethod
    def from_scores(cls, y_true, y_score, *, sample_weight=None, pos_label=None, bins: int = 1024,
                    range: tuple[float, float] = (0.0, 1.0)) -> "BinnedCounts":
        from thresher.data.load import from_arrays

        return cls.from_columns(from_arrays(y_true, y_score, sample_weight, pos_label), bins=bins, range=range)

    def merge(self, other: "BinnedCounts") -> "BinnedCounts":
        if self.edges.shape != other.edges.shape or not np.array_equal(self.edges, other.edges):
            raise ParameterError("Binned states merge only over the same bin edges (same bins and range).")
        return BinnedCounts(self.edges, self.pos + other.pos, self.neg + other.neg)

    def curve(self) -> Curve:
        """The curve at the lower edge of every non-empty bin (thresholds decreasing)."""
        occupied = np.flatnonzero((self.pos + self.neg) > 0)[::-1]
        tp = np.cumsum(self.pos[occupied])
        fp = np.cumsum(self.neg[occupied])
        return Curve(self.edges[occupied], tp, fp, float(self.pos.sum()), float(self.neg.sum()), exact=False)
