"""DeLong's variance of the ROC AUC, its confidence interval, and the paired test of two AUCs.

DeLong, DeLong & Clarke-Pearson (1988) write the AUC as the mean of per-case "placement values":
for a positive, the fraction of negatives scored below it; for a negative, the fraction of
positives scored above it (ties count one half, so the mean is exactly thresher's ``roc_auc``).
The variance of the AUC is ``var(V10) / m + var(V01) / n`` for ``m`` positives and ``n``
negatives. Sun & Xu (2014) compute every placement value from three midrank vectors, so the cost
is one O(n log n) sort per score column instead of the O(m n) pairwise comparison.

Conventions, following pROC (``ci.auc(method="delong")``, ``roc.test(method="delong", paired=TRUE)``):

* the interval is the normal one on the AUC scale, ``auc ± z se``, clipped to [0, 1];
* sample variances divide by ``m - 1`` and ``n - 1``, so fewer than two cases of a class gives
  NaN bounds and standard error (the AUC itself is still reported);
* the paired test is two-sided, ``z = (auc_a - auc_b) / se(diff)``; when the two columns give the
  same AUC with zero variance of the difference (for example identical columns) pROC's special
  case applies: ``z = 0`` and ``p_value = 1`` rather than NaN. A non-zero difference with zero
  variance gives ``z = ±inf`` and ``p_value = 0``.

Where thresher differs from pROC: the direction is fixed (a higher score means more likely
positive, as everywhere in thresher), while pROC by default flips the direction so that the AUC
is at least 0.5 on the data it is given. Here an AUC below 0.5 stays below 0.5. Only unweighted
data is supported: DeLong's variance is defined for counts of cases.

A single class present gives NaN for every field.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from thresher.data.load import from_arrays
from thresher.errors import InputError
from thresher.params import Interval, check

CONFIDENCE = Interval(0, 1, closed="neither")


class AUCInterval(NamedTuple):
    """ROC AUC with its DeLong standard error and confidence interval."""

    auc: float
    low: float
    high: float
    se: float


class PairedTest(NamedTuple):
    """DeLong's paired test of two AUCs on the same cases (two-sided)."""

    auc_a: float
    auc_b: float
    diff: float
    se: float
    z: float
    p_value: float


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with tied values sharing the mean of their ranks."""
    from scipy.stats import rankdata  # deferred: scipy.stats takes a second to import

    return rankdata(x, method="average")


def placements(y: np.ndarray, scores: np.ndarray):
    """Placement values ``(v10, v01)`` of each score column (rows of ``scores``) by midranks.

    ``v10[k, i]``: fraction of negatives below positive ``i`` in column ``k`` (ties 1/2);
    ``v01[k, j]``: fraction of positives above negative ``j``. ``y`` is 0/1 (internal).
    """
    pos = y == 1
    m = int(pos.sum())
    n = y.shape[0] - m
    v10 = np.empty((scores.shape[0], m))
    v01 = np.empty((scores.shape[0], n))
    for k, s in enumerate(scores):
        x, z = s[pos], s[~pos]
        rank_all = _midranks(s)
        # rank among everything minus rank within the own class = how many of the other class are below
        v10[k] = (rank_all[pos] - _midranks(x)) / n
        v01[k] = 1.0 - (rank_all[~pos] - _midranks(z)) / m
    return v10, v01


def _covariance(y: np.ndarray, scores: np.ndarray):
    """``(aucs, S)``: the AUC of each score column and DeLong's covariance matrix of the AUCs."""
    v10, v01 = placements(y, scores)
    m, n = v10.shape[1], v01.shape[1]
    aucs = v10.mean(axis=1)
    if m < 2 or n < 2:
        return aucs, np.full((scores.shape[0], scores.shape[0]), np.nan)
    s10 = np.atleast_2d(np.cov(v10, ddof=1))
    s01 = np.atleast_2d(np.cov(v01, ddof=1))
    return aucs, s10 / m + s01 / n


def _single_class(y: np.ndarray) -> bool:
    m = int(np.count_nonzero(y))
    return m == 0 or m == y.shape[0]


def auc_interval_from_curve(curve, confidence: float = 0.95) -> AUCInterval:
    """DeLong's interval from exact unweighted curve counts (see ``Curve.roc_auc_interval``)."""
    check(confidence, "confidence", "auc_interval_from_curve", CONFIDENCE)
    return AUCInterval(*curve.roc_auc_interval(confidence))


def delong_auc_ci(y_true, y_score, *, confidence: float = 0.95, pos_label=None) -> AUCInterval:
    """ROC AUC with DeLong's standard error and a normal confidence interval clipped to [0, 1].

    Computed from thresher's exact curve counts (one counting pass, see
    :func:`auc_interval_from_curve`).

    >>> r = delong_auc_ci([0, 0, 1, 0, 1, 1], [0.1, 0.3, 0.35, 0.4, 0.8, 0.9])
    >>> round(r.auc, 4), round(r.low, 4), r.high
    (0.8889, 0.5809, 1.0)
    """
    from thresher.metrics.curve import Curve

    check(confidence, "confidence", "delong_auc_ci", CONFIDENCE)
    return auc_interval_from_curve(Curve.from_columns(from_arrays(y_true, y_score, None, pos_label)), confidence)


def _same_length(y_true, score, name: str) -> None:
    try:
        n_y, n_s = len(y_true), len(score)
    except TypeError:
        return  # not sized: from_arrays reports what is wrong with it
    if n_y != n_s:
        raise InputError(
            f"'{name}' has {n_s} rows but 'y_true' has {n_y}. The paired test needs both score columns "
            f"scored on the same cases, one score per row of y_true.")


def delong_test(y_true, score_a, score_b, *, pos_label=None) -> PairedTest:
    """DeLong's paired two-sided test that two score columns have the same ROC AUC.

    Both columns must score the same cases (one row of ``y_true`` each). ``diff = auc_a - auc_b``.

    >>> y = [0, 0, 1, 0, 1, 1, 0, 1]
    >>> t = delong_test(y, [0.1, 0.3, 0.35, 0.4, 0.8, 0.9, 0.2, 0.7], [0.5, 0.1, 0.2, 0.6, 0.4, 0.3, 0.7, 0.8])
    >>> t.diff, t.se, round(t.p_value, 4)
    (0.5, 0.25, 0.0455)
    """
    _same_length(y_true, score_a, "score_a")
    _same_length(y_true, score_b, "score_b")
    cols_a = from_arrays(y_true, score_a, None, pos_label)
    cols_b = from_arrays(y_true, score_b, None, pos_label)
    if _single_class(cols_a.y):
        nan = float("nan")
        return PairedTest(nan, nan, nan, nan, nan, nan)
    # float64 for both: the two columns may arrive as float32 and float64
    scores = np.vstack([cols_a.score.astype(np.float64), cols_b.score.astype(np.float64)])
    aucs, cov = _covariance(cols_a.y, scores)
    auc_a, auc_b = float(aucs[0]), float(aucs[1])
    diff = auc_a - auc_b
    var = cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]
    se = float(np.sqrt(max(var, 0.0))) if np.isfinite(var) else float("nan")
    if np.isnan(se):
        z = float("nan")
    elif se == 0.0:
        # pROC's special case: no difference and no variance is no evidence of a difference
        z = 0.0 if diff == 0.0 else float(np.copysign(np.inf, diff))
    else:
        z = diff / se
    p_value = float(math.erfc(abs(z) / math.sqrt(2.0))) if not np.isnan(z) else float("nan")
    return PairedTest(auc_a, auc_b, diff, se, z, p_value)
