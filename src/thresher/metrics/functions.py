"""The array-first public functions: ``curve``, ``roc_auc``, ``average_precision`` and friends.

Each validates its input (clear errors for NaN scores, non-binary labels, ...) and calls the kernels.
"""

from __future__ import annotations

from thresher.data.load import from_arrays
from thresher.kernels.counts import exact_areas
from thresher.metrics.binned import BinnedCounts
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.params import PROBABILITY_OPEN_LEFT, check


def curve(y_true, y_score, *, sample_weight=None, pos_label=None) -> Curve:
    """Exact confusion counts at every distinct score.

    ``pos_label=None`` means 1 (or True) for 0/1, -1/1 and boolean labels; name it for others.

    >>> c = curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> c.at(0.35).recall, c.at(0.35).precision
    (1.0, 0.6666666666666666)
    """
    return Curve.from_columns(from_arrays(y_true, y_score, sample_weight, pos_label))


def _areas(y_true, y_score, sample_weight, pos_label):
    cols = from_arrays(y_true, y_score, sample_weight, pos_label)
    return exact_areas(cols.y, cols.score, cols.weight)


def roc_auc(y_true, y_score, *, sample_weight=None, pos_label=None, max_fpr: float | None = None) -> float:
    """Area under the ROC curve (ties count one half); NaN when only one class is present.

    ``max_fpr`` gives the McClish-standardised partial AUC, as scikit-learn's ``roc_auc_score``.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    check(max_fpr, "max_fpr", "roc_auc", PROBABILITY_OPEN_LEFT, optional=True)
    if max_fpr is not None and max_fpr != 1:
        return curve(y_true, y_score, sample_weight=sample_weight, pos_label=pos_label).roc_auc(max_fpr)
    area, _, p, n = _areas(y_true, y_score, sample_weight, pos_label)
    return float(area / (p * n)) if p > 0 and n > 0 else float("nan")


def average_precision(y_true, y_score, *, sample_weight=None, pos_label=None) -> float:
    """Average precision, scikit-learn's step-sum definition; NaN when there are no positives.

    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    _, ap, p, _ = _areas(y_true, y_score, sample_weight, pos_label)
    return float(max(0.0, ap / p)) if p > 0 else float("nan")


def pr_auc(y_true, y_score, *, sample_weight=None, pos_label=None) -> float:
    """Trapezoidal area under the PR curve (see :meth:`Curve.pr_auc` for how it differs from AP)."""
    return curve(y_true, y_score, sample_weight=sample_weight, pos_label=pos_label).pr_auc()


def confusion(y_true, y_score, *, threshold: float = 0.5, sample_weight=None, pos_label=None) -> Confusion:
    """The confusion matrix at one threshold (positive iff ``score >= threshold``).

    >>> confusion([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.4).matrix().tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return curve(y_true, y_score, sample_weight=sample_weight, pos_label=pos_label).at(threshold)


def binned_curve(y_true, y_score, *, bins: int = 1024, range: tuple[float, float] = (0.0, 1.0),
                 sample_weight=None, pos_label=None) -> Curve:
    """Curve at fixed bin edges in O(bins) memory; areas come with error bounds.

    >>> c = binned_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], bins=10)
    >>> lo, hi = c.roc_auc_bounds(); lo <= 0.75 <= hi
    True
    """
    return BinnedCounts.from_scores(y_true, y_score, sample_weight=sample_weight, pos_label=pos_label,
                                    bins=bins, range=range).curve()
