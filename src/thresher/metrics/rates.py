"""Every threshold metric as a formula over confusion counts (scalars or arrays).

The one rule for undefined values: a ratio whose denominator is zero is NaN (for example recall
when there are no positives, precision when nothing is flagged). Nothing is silently set to 0 or 1;
the CLI and JSON show NaN as ``null``.
"""

from __future__ import annotations

import numpy as np


def ratio(num, den):
    """``num / den`` with NaN where ``den == 0``."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out if out.ndim else float(out)


def precision(tp, fp, tn, fn):
    return ratio(tp, np.add(tp, fp))


def recall(tp, fp, tn, fn):
    return ratio(tp, np.add(tp, fn))


def specificity(tp, fp, tn, fn):
    return ratio(tn, np.add(tn, fp))


def fpr(tp, fp, tn, fn):
    return ratio(fp, np.add(tn, fp))


def fnr(tp, fp, tn, fn):
    return ratio(fn, np.add(tp, fn))


def npv(tp, fp, tn, fn):
    return ratio(tn, np.add(tn, fn))


def _total(tp, fp, tn, fn):
    return np.add(np.add(tp, fp), np.add(tn, fn))


def accuracy(tp, fp, tn, fn):
    return ratio(np.add(tp, tn), _total(tp, fp, tn, fn))


def balanced_accuracy(tp, fp, tn, fn):
    return 0.5 * (np.asarray(recall(tp, fp, tn, fn)) + np.asarray(specificity(tp, fp, tn, fn)))


def youden_j(tp, fp, tn, fn):
    return np.asarray(recall(tp, fp, tn, fn)) + np.asarray(specificity(tp, fp, tn, fn)) - 1.0


def f_beta(tp, fp, tn, fn, beta: float = 1.0):
    b2 = beta * beta
    num = np.multiply(1.0 + b2, tp, dtype=np.float64)
    if num.ndim == 0:
        return ratio(num, num + b2 * fn + fp)
    # curves can hold 1e8 points: build the ratio in place rather than through temporaries
    den = np.multiply(b2, fn, dtype=np.float64)
    den += fp
    den += num
    undefined = den == 0
    np.divide(num, den, out=num, where=~undefined)
    num[undefined] = np.nan
    return num


def f1(tp, fp, tn, fn):
    return f_beta(tp, fp, tn, fn, 1.0)


def mcc(tp, fp, tn, fn):
    tp, fp, tn, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, tn, fn))
    # product of four sums can overflow int ranges and lose float precision: take roots first
    den = np.sqrt(tp + fp) * np.sqrt(tp + fn) * np.sqrt(tn + fp) * np.sqrt(tn + fn)
    return ratio(tp * tn - fp * fn, den)


def prevalence(tp, fp, tn, fn):
    return ratio(np.add(tp, fn), _total(tp, fp, tn, fn))


def alert_rate(tp, fp, tn, fn):
    return ratio(np.add(tp, fp), _total(tp, fp, tn, fn))


# name -> formula; the registry the Curve, Confusion, CLI and specs all read from
METRICS = {
    "precision": precision,
    "recall": recall,
    "specificity": specificity,
    "fpr": fpr,
    "fnr": fnr,
    "npv": npv,
    "accuracy": accuracy,
    "balanced_accuracy": balanced_accuracy,
    "f1": f1,
    "mcc": mcc,
    "youden_j": youden_j,
    "prevalence": prevalence,
    "alert_rate": alert_rate,
}

ALIASES = {"sensitivity": "recall", "tpr": "recall", "ppv": "precision", "tnr": "specificity", "ppr": "alert_rate"}
