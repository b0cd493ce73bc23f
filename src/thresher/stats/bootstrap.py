"""Stratified bootstrap of ROC AUC, average precision, best F1 and metrics at a fixed threshold.

Conventions, following pROC's ``ci.auc(method="bootstrap", boot.stratified=TRUE)``:

* stratified: each resample draws ``n_pos`` rows with replacement from the positives and
  ``n_neg`` from the negatives, so class sizes never change and every resample has both classes;
* the interval is the percentile interval, quantiles ``(1 - confidence) / 2`` and
  ``(1 + confidence) / 2`` of the resampled values with linear interpolation (R's type 7, numpy's
  default), as pROC's ``quantile`` call;
* metrics follow thresher's definitions: ties count 1/2 in the AUC, average precision is
  scikit-learn's step sum, F1 is taken at each distinct score of the resample (``score >=
  threshold`` flags a case), ties in F1 keep the highest threshold; undefined values are NaN.

Sample weights travel with their rows: a row drawn ``c`` times counts ``c * weight``. Rows of zero
weight are dropped first, as thresher's counting does ("0 drops a row"), so they are never drawn.

Reproducible: a ``seed`` gives the same resamples on any machine and any number of threads, and
:func:`bootstrap` and :func:`bootstrap_threshold_metrics` with the same data and seed draw the same
resamples, so their samples pair up resample by resample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from thresher.data.load import from_arrays
from thresher.errors import InputError, ParameterError, ThresherError
from thresher.metrics.confusion import Confusion
from thresher.params import Interval, check
from thresher.stats import resample

CURVE_METRICS = ("roc_auc", "average_precision", "max_f1", "max_f1_threshold")
CONFIDENCE = Interval(0, 1, closed="neither")
N_RESAMPLES = Interval(1, None, integer=True)
SEED = Interval(0, None, integer=True)
_MAX_CLASS_ROWS = 2**32 - 1  # the uniform draw works on 32-bit random numbers


def _json_number(v):
    v = float(v)
    return None if np.isnan(v) else v


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap samples per metric, the estimate on the full data, and percentile intervals.

    ``samples[metric]`` has one value per resample; ``estimate[metric]`` is the metric on the data.
    """

    samples: dict
    estimate: dict
    confidence: float = 0.95
    n_resamples: int = 0
    seed: int = 0
    metrics: tuple = field(default=())

    def _check_metric(self, metric: str) -> None:
        if metric not in self.samples:
            known = ", ".join(self.samples)
            raise ParameterError(f"No bootstrap samples for '{metric}'. This result has: {known}.")

    def interval(self, metric: str, confidence: float | None = None) -> tuple[float, float]:
        """Percentile interval ``(low, high)`` of ``metric`` (NaN resamples are left out)."""
        self._check_metric(metric)
        confidence = self.confidence if confidence is None else confidence
        check(confidence, "confidence", "BootstrapResult.interval", CONFIDENCE)
        values = self.samples[metric]
        values = values[~np.isnan(values)]
        if values.size == 0:
            return float("nan"), float("nan")
        low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
        return float(low), float(high)

    def std(self, metric: str) -> float:
        """Bootstrap standard error of ``metric`` (sample standard deviation of the resamples)."""
        self._check_metric(metric)
        values = self.samples[metric]
        values = values[~np.isnan(values)]
        return float(np.std(values, ddof=1)) if values.size > 1 else float("nan")

    def to_dict(self) -> dict:
        """JSON-friendly summary (NaN as None): estimate, interval and standard error per metric."""
        out = {"confidence": self.confidence, "n_resamples": self.n_resamples, "seed": self.seed, "metrics": {}}
        for metric in self.samples:
            low, high = self.interval(metric)
            out["metrics"][metric] = {
                "estimate": _json_number(self.estimate[metric]),
                "low": _json_number(low),
                "high": _json_number(high),
                "std": _json_number(self.std(metric)),
            }
        return out


@dataclass(frozen=True)
class _Rows:
    """Rows sorted once by score, highest first: per class (scores, weights) and the merged order.

    ``kind[t]`` flags merged row ``t`` as positive and/or last of its tie group (see
    :mod:`thresher.stats.resample`); weights carry one padding element for the branch-free pass.
    """

    pos_scores: np.ndarray
    neg_scores: np.ndarray
    pos_weights: np.ndarray
    neg_weights: np.ndarray
    weighted: bool
    kind: np.ndarray
    scores: np.ndarray

    @property
    def n_pos(self) -> int:
        return int(self.pos_scores.shape[0])

    @property
    def n_neg(self) -> int:
        return int(self.neg_scores.shape[0])


def _rows(cols) -> _Rows:
    y, score, weight = cols.y, cols.score, cols.weight
    if weight is not None:
        keep = weight > 0
        y, score, weight = y[keep], score[keep], weight[keep]
    # stable, so tied rows keep their input order and a seed always picks the same rows
    order = np.argsort(-score, kind="stable")
    y, score = y[order], score[order].astype(np.float64)
    pos = y == 1
    if max(int(pos.sum()), int((~pos).sum())) > _MAX_CLASS_ROWS:
        raise InputError(f"The bootstrap supports at most {_MAX_CLASS_ROWS} rows per class. "
                         "Bootstrap a random subsample, or use the DeLong interval.")
    group_end = np.ones(score.shape[0], bool)
    group_end[:-1] = score[:-1] != score[1:]
    kind = (pos.astype(np.uint8) * resample.POSITIVE) | (group_end.astype(np.uint8) * resample.GROUP_END)
    if weight is not None:
        weight = weight[order]
        wp, wn = np.append(weight[pos], 0.0), np.append(weight[~pos], 0.0)
    else:
        wp = wn = np.empty(0, np.float64)
    return _Rows(score[pos], score[~pos], wp, wn, weight is not None, kind, score)


def _check_common(owner: str, n_resamples, seed, confidence) -> tuple[int, np.uint64]:
    check(n_resamples, "n_resamples", owner, N_RESAMPLES)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ParameterError(f"The 'seed' parameter of {owner} must be an int >= 0. Got {seed!r} instead.")
    check(int(seed), "seed", owner, SEED)
    check(confidence, "confidence", owner, CONFIDENCE)
    return int(n_resamples), np.uint64(int(seed) & (2**64 - 1))


def _check_metrics(metrics, known, owner: str) -> tuple:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    unknown = [m for m in metrics if m not in known]
    if unknown or not metrics:
        raise ParameterError(f"The 'metrics' parameter of {owner} must name some of {', '.join(known)}. "
                             f"Got {metrics!r} instead.")
    return metrics


def _estimate(c: _Rows) -> dict:
    ones_p = np.ones(c.n_pos + 1, resample.COUNT)
    ones_n = np.ones(c.n_neg + 1, resample.COUNT)
    p = float(c.pos_weights.sum()) if c.weighted else float(c.n_pos)
    q = float(c.neg_weights.sum()) if c.weighted else float(c.n_neg)
    buffers = np.empty(c.n_pos + 1), np.empty(c.n_pos + 1), np.empty(c.n_pos + 1, np.int64)
    roc, ap, f1, thr = resample.curve_pass(ones_p, ones_n, c.pos_weights, c.neg_weights, c.weighted,
                                           c.kind, c.scores, p, *buffers)
    nan = float("nan")
    return {
        "roc_auc": roc / (p * q) if p > 0 and q > 0 else nan,
        "average_precision": max(0.0, ap / p) if p > 0 else nan,
        "max_f1": f1 if p > 0 else nan,
        "max_f1_threshold": float(thr) if p > 0 else nan,
    }


def bootstrap(y_true, y_score, *, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95,
              sample_weight=None, pos_label=None, metrics=CURVE_METRICS) -> BootstrapResult:
    """Stratified bootstrap of ROC AUC, average precision, best F1 and its threshold.

    The scores are sorted once; each resample costs one round of draws and one linear pass, so a
    million rows and a thousand resamples take seconds.

    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 1, 0]
    >>> s = [0.1, 0.3, 0.35, 0.4, 0.8, 0.9, 0.2, 0.7, 0.3, 0.5]
    >>> r = bootstrap(y, s, n_resamples=200, seed=7)
    >>> r.samples["roc_auc"].shape, round(r.estimate["roc_auc"], 2)
    ((200,), 0.82)
    >>> low, high = r.interval("roc_auc")
    >>> bool(low <= r.estimate["roc_auc"] <= high)
    True
    """
    owner = "bootstrap"
    n_resamples, seed_bits = _check_common(owner, n_resamples, seed, confidence)
    metrics = _check_metrics(metrics, CURVE_METRICS, owner)
    c = _rows(from_arrays(y_true, y_score, sample_weight, pos_label))
    auc, ap, f1, thr, overflow = resample.bootstrap_curves(
        c.n_pos, c.n_neg, c.pos_weights, c.neg_weights, c.weighted, c.kind, c.scores, seed_bits,
        n_resamples, min(n_resamples, numba.get_num_threads()))
    if overflow.any():  # pragma: no cover - odds below 1e-500
        raise ThresherError(f"Resample {int(np.argmax(overflow))} drew one row 256 times, more than the "
                            "bootstrap counts. Use another seed.")
    all_samples = {"roc_auc": auc, "average_precision": ap, "max_f1": f1, "max_f1_threshold": thr}
    estimate = _estimate(c)
    return BootstrapResult({m: all_samples[m] for m in metrics}, {m: estimate[m] for m in metrics},
                           float(confidence), n_resamples, int(seed), metrics)


def bootstrap_threshold_metrics(y_true, y_score, threshold: float, *, n_resamples: int = 1000, seed: int = 0,
                                confidence: float = 0.95, sample_weight=None, pos_label=None,
                                metrics=("precision", "recall", "f1")) -> BootstrapResult:
    """Stratified bootstrap of metrics at one fixed threshold (a case is flagged iff ``score >= threshold``).

    Any metric name of :class:`thresher.Confusion` works (``"specificity"``, ``"f2"``, ...). Each
    resample only sums the weight of the flagged draws, with no pass over the curve. Same seed,
    same resamples as :func:`bootstrap`.

    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 1, 0]
    >>> s = [0.1, 0.3, 0.35, 0.4, 0.8, 0.9, 0.2, 0.7, 0.3, 0.5]
    >>> r = bootstrap_threshold_metrics(y, s, 0.5, n_resamples=200, seed=7)
    >>> r.estimate["precision"], r.estimate["recall"]
    (0.75, 0.6)
    """
    owner = "bootstrap_threshold_metrics"
    n_resamples, seed_bits = _check_common(owner, n_resamples, seed, confidence)
    check(threshold, "threshold", owner, Interval())
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    c = _rows(from_arrays(y_true, y_score, sample_weight, pos_label))
    n_pos, n_neg = c.n_pos, c.n_neg
    k_pos = int(np.count_nonzero(c.pos_scores >= threshold))
    k_neg = int(np.count_nonzero(c.neg_scores >= threshold))
    w_p = c.pos_weights[:n_pos] if c.weighted else np.ones(n_pos)
    w_n = c.neg_weights[:n_neg] if c.weighted else np.ones(n_neg)
    tp0, fp0 = float(w_p[:k_pos].sum()), float(w_n[:k_neg].sum())
    full = Confusion(float(threshold), tp0, fp0, float(w_n.sum()) - fp0, float(w_p.sum()) - tp0)
    estimate = {m: float(full.metric(m)) for m in metrics}  # also rejects unknown metric names early
    tp, fp, p, q = resample.bootstrap_at(n_pos, n_neg, c.pos_weights, c.neg_weights, c.weighted, k_pos, k_neg,
                                         seed_bits, n_resamples)
    per = Confusion(float(threshold), tp, fp, q - fp, p - tp)
    samples = {m: np.asarray(per.metric(m), dtype=np.float64) for m in metrics}
    return BootstrapResult(samples, estimate, float(confidence), n_resamples, int(seed), metrics)
