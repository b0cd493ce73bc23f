"""Confidence intervals for a proportion, and for the rates of a confusion matrix.

Conventions:

* ``successes`` and ``trials`` may be scalars or numpy arrays (broadcast together) and may be
  fractional: weighted counts are plugged in as if they were counts. That is the usual practice,
  but it is only honest when weights are frequency weights; for survey-style weights the interval
  should use an effective sample size instead, which thresher does not guess.
* ``trials == 0`` gives ``(nan, nan)``: thresher's one rule for undefined values.
* Bounds are exact at the edges: ``successes == 0`` gives a lower bound of exactly 0 and
  ``successes == trials`` an upper bound of exactly 1, for both methods.
* Scalars in give floats out; arrays in give arrays out.
"""

from __future__ import annotations

import numpy as np
from statistics import NormalDist

from thresher.errors import ParameterError
from thresher.params import Interval, check

CONFIDENCE = Interval(0, 1, closed="neither")
METHODS = ("wilson", "clopper-pearson")


def _counts(successes, trials, owner: str):
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    for name, v in (("successes", k), ("trials", n)):
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            first = v[bad].flat[0]
            raise ParameterError(
                f"The '{name}' parameter of {owner} must hold finite numbers >= 0. Got {first!r} instead.")
    try:
        k, n = np.broadcast_arrays(k, n)
    except ValueError:
        raise ParameterError(
            f"The 'successes' and 'trials' parameters of {owner} must have the same (or broadcastable) "
            f"shapes. Got {k.shape} and {n.shape} instead.") from None
    if (k > n).any():
        i = np.flatnonzero(k > n)[0]
        raise ParameterError(
            f"The 'successes' parameter of {owner} must be <= 'trials'. Got {k.flat[i]!r} successes out of "
            f"{n.flat[i]!r} trials instead.")
    return k, n


def _out(low, high, scalar: bool):
    if scalar:
        return float(low), float(high)
    return low, high


def _wilson(k, n, confidence):
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        den = 1.0 + z2 / n
        center = (p + z2 / (2.0 * n)) / den
        half = (z / den) * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = np.clip(center - half, 0.0, 1.0)
    high = np.clip(center + half, 0.0, 1.0)
    # the closed form rounds to ~1e-17 instead of exactly 0 / 1 at the edges
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _clopper_pearson(k, n, confidence):
    from scipy.special import betaincinv  # deferred: only the exact interval needs scipy

    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        # the beta quantile with a shape parameter of 0 is NaN; those are exactly the edges set below
        low = betaincinv(k, n - k + 1, alpha / 2)
        high = betaincinv(k + 1, n - k, 1 - alpha / 2)
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def wilson(successes, trials, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion ``successes / trials``.

    Good coverage even for small counts and proportions near 0 or 1; the default choice.

    >>> low, high = wilson(8, 10)
    >>> round(low, 4), round(high, 4)
    (0.4902, 0.9433)
    """
    check(confidence, "confidence", "wilson", CONFIDENCE)
    k, n = _counts(successes, trials, "wilson")
    return _out(*_wilson(k, n, confidence), scalar=k.ndim == 0)


def clopper_pearson(successes, trials, confidence: float = 0.95):
    """Clopper-Pearson ("exact") interval from quantiles of the beta distribution.

    Guarantees at least the nominal coverage, so it is wider (conservative) than Wilson.

    >>> low, high = clopper_pearson(8, 10)
    >>> round(low, 4), round(high, 4)
    (0.4439, 0.9748)
    """
    check(confidence, "confidence", "clopper_pearson", CONFIDENCE)
    k, n = _counts(successes, trials, "clopper_pearson")
    return _out(*_clopper_pearson(k, n, confidence), scalar=k.ndim == 0)


def _check_method(method, owner: str) -> str:
    if method not in METHODS:
        known = ", ".join(repr(m) for m in METHODS)
        raise ParameterError(f"The 'method' parameter of {owner} must be one of {known}. Got {method!r} instead.")
    return method


def proportion_interval(successes, trials, confidence: float = 0.95, method: str = "wilson"):
    """Interval for ``successes / trials`` by ``method``: ``"wilson"`` or ``"clopper-pearson"``.

    >>> proportion_interval(0, 20, method="clopper-pearson")[0]
    0.0
    """
    check(confidence, "confidence", "proportion_interval", CONFIDENCE)
    _check_method(method, "proportion_interval")
    k, n = _counts(successes, trials, "proportion_interval")
    compute = _wilson if method == "wilson" else _clopper_pearson
    return _out(*compute(k, n, confidence), scalar=k.ndim == 0)


# metric -> (numerator, denominator) as names of Confusion fields
_RATES = {
    "precision": ("tp", ("tp", "fp")),
    "recall": ("tp", ("tp", "fn")),
    "specificity": ("tn", ("tn", "fp")),
}


def confusion_intervals(confusion, confidence: float = 0.95, method: str = "wilson") -> dict:
    """Intervals for precision, recall and specificity of a :class:`thresher.Confusion`.

    Each rate is treated as a binomial proportion over its own denominator (precision over the
    flagged cases, recall over the positives, specificity over the negatives). NaN bounds where
    the denominator is 0.

    >>> from thresher import Confusion
    >>> ci = confusion_intervals(Confusion(0.5, tp=8, fp=2, tn=85, fn=5))
    >>> sorted(ci), round(ci["precision"][0], 4)
    (['precision', 'recall', 'specificity'], 0.4902)
    """
    check(confidence, "confidence", "confusion_intervals", CONFIDENCE)
    _check_method(method, "confusion_intervals")
    out = {}
    for metric, (num, (a, b)) in _RATES.items():
        k = getattr(confusion, num)
        n = getattr(confusion, a) + getattr(confusion, b)
        out[metric] = proportion_interval(k, n, confidence, method)
    return out
