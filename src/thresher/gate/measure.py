"""Measuring one check on golden rows: the point value, and the interval behind ``.lower95`` / ``.upper95``.

Intervals are the two-sided ``level`` intervals of :mod:`thresher.stats`:

* proportions (precision, recall, specificity, fpr, fnr, npv, accuracy, alert_rate, prevalence):
  Wilson on the counts at the operating point;
* ``roc_auc``: DeLong (unweighted data), else the stratified bootstrap;
* ``average_precision``: the stratified bootstrap; ``pr_auc``: the stratified bootstrap of this module;
* other threshold metrics (f1, fBETA, mcc, balanced_accuracy, youden_j): the stratified bootstrap
  at the operating point's threshold.

At a chosen operating point (``at recall>=0.9``) the interval is taken at the chosen threshold:
it covers the sampling noise of the metric there, not the noise of the choice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from thresher.data.columns import Columns
from thresher.gate.rows import NOT_FLAGGED
from thresher.gate.spec import AtPolicy, AtThreshold, Check
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.select.context import Context, with_top
from thresher.select.objectives import PROPORTIONS
from thresher.select.select import choose


class Sample:
    """Golden rows to measure on: validated columns, and the policy's decision per row (if any).

    ``decisions[i]`` is the index in ``actions`` of the tier row ``i`` reached, or ``NOT_FLAGGED``.
    """

    def __init__(self, cols: Columns, decisions: np.ndarray | None = None, actions: tuple[str, ...] = ()):
        self.cols = cols
        self.decisions = decisions
        self.actions = tuple(actions)

    def __len__(self) -> int:
        return len(self.cols)

    @cached_property
    def curve(self) -> Curve:
        return Curve.from_columns(self.cols)

    @cached_property
    def context(self) -> Context:
        return Context(self.cols)

    def flagged(self, at: AtPolicy) -> np.ndarray:
        """Rows the policy flags: any tier reached, or a tier whose action is in ``at.actions``."""
        if self.decisions is None:
            from thresher.errors import GateError

            raise GateError("This check is measured 'at policy' but there are no policy decisions for these rows.")
        if not at.actions:
            return self.decisions != NOT_FLAGGED
        codes = [self.actions.index(a) for a in at.actions if a in self.actions]
        return np.isin(self.decisions, codes)

    @cached_property
    def segments(self) -> list[tuple[str, np.ndarray, "Sample"]]:
        """``(label, rows, sample)`` per segment, labelled ``column=value`` (``a=x,b=y`` for several columns)."""
        segments = self.cols.segments
        out = []
        for g, (_, rows) in enumerate(segments.groups()):
            label = ",".join(f"{n}={'(missing)' if v is None else v}" for n, v in zip(segments.names, segments.keys[g]))
            out.append((label, rows, self.take(rows)))
        return out

    def take(self, rows: np.ndarray) -> "Sample":
        decisions = None if self.decisions is None else self.decisions[rows]
        return Sample(self.cols.take(rows), decisions, self.actions)

    def with_scores(self, scores: np.ndarray, decisions: np.ndarray | None = None,
                    actions: tuple[str, ...] | None = None) -> "Sample":
        """The same rows scored differently (a baseline's scores, or these scores as stored: float32)."""
        c = self.cols
        cols = Columns(c.y, np.asarray(scores), c.weight, c.segments, c.pos_label, c.extra)
        return Sample(cols, decisions, self.actions if actions is None else tuple(actions))


@dataclass(frozen=True)
class Measurement:
    """A check's metric at its operating point: the value, and the confusion counts behind it."""

    value: float
    confusion: Confusion | None = None
    threshold: float | None = None
    note: str = ""


def flagged_confusion(y: np.ndarray, flagged: np.ndarray, weight: np.ndarray | None) -> Confusion:
    """Counts of the flagged rows (threshold NaN: a policy has one threshold per rule and tier)."""
    pos = y == 1
    w = np.ones(y.shape[0]) if weight is None else weight
    tp = float(w @ (flagged & pos))
    fp = float(w @ (flagged & ~pos))
    fn = float(w @ (~flagged & pos))
    tn = float(w @ (~flagged & ~pos))
    return Confusion(float("nan"), tp, fp, tn, fn)


def value_on(check: Check, curve: Curve, *, policy: Confusion | None = None, context: Context | None = None,
             explain: bool = True) -> Measurement:
    """The check's metric on a curve (``policy``: the counts of the flagged rows, for ``at policy``)."""
    if check.metric in ("roc_auc", "average_precision", "pr_auc"):
        return Measurement(float(getattr(curve, check.metric)()))
    at = check.at
    if isinstance(at, AtThreshold):
        c = curve.at(at.threshold)
        return Measurement(float(c.metric(check.metric)), c, at.threshold)
    if isinstance(at, AtPolicy):
        return Measurement(float(policy.metric(check.metric)), policy)
    context = context or Context(None)
    candidates = with_top(curve)
    values, feasible = at.objective.evaluate(candidates, context)
    k = choose(values, feasible)
    if k < 0:
        note = at.objective.infeasible_message(candidates, context) if explain else "infeasible"
        return Measurement(float("nan"), None, None, note)
    c = candidates.point(k)
    return Measurement(float(c.metric(check.metric)), c, float(candidates.thresholds[k]))


def measure(check: Check, sample: Sample) -> Measurement:
    """The check's metric on all rows of ``sample``."""
    policy = None
    if isinstance(check.at, AtPolicy):
        policy = flagged_confusion(sample.cols.y, sample.flagged(check.at), sample.cols.weight)
    return value_on(check, sample.curve, policy=policy, context=sample.context)


def interval(check: Check, sample: Sample, m: Measurement, level: float, *, n_resamples: int,
             seed: int) -> tuple[float, float, str]:
    """``(low, high, method)``: the two-sided ``level`` interval of the check's metric."""
    from thresher.stats import bootstrap, bootstrap_threshold_metrics, delong_auc_ci, wilson

    nan = float("nan")
    cols = sample.cols
    if check.metric == "roc_auc" and cols.weight is None:
        r = delong_auc_ci(cols.y, cols.score, confidence=level)
        return r.low, r.high, "DeLong"
    if check.metric in ("roc_auc", "average_precision"):
        if cols.y.min() == cols.y.max():
            return nan, nan, "bootstrap"
        r = bootstrap(cols.y, cols.score, sample_weight=cols.weight, n_resamples=n_resamples, seed=seed,
                      confidence=level, metrics=(check.metric,))
        return (*r.interval(check.metric), "bootstrap")
    if check.metric == "pr_auc":
        from thresher.gate.paired import resampled_values

        values = resampled_values(check, [sample], n_resamples=n_resamples, seed=seed)[0]
        return (*percentile_interval(values, level), "bootstrap")
    if m.confusion is None:
        return nan, nan, "none"
    c = m.confusion
    if check.metric in PROPORTIONS:
        k, n = PROPORTIONS[check.metric](c.tp, c.fp, c.tn, c.fn)
        low, high = wilson(float(k), float(n), level)
        return low, high, "Wilson"
    if isinstance(check.at, AtPolicy):
        scores, threshold = sample.flagged(check.at).astype(np.float64), 0.5
    else:
        scores, threshold = cols.score, m.threshold
    r = bootstrap_threshold_metrics(cols.y, scores, threshold, sample_weight=cols.weight, n_resamples=n_resamples,
                                    seed=seed, confidence=level, metrics=(check.metric,))
    return (*r.interval(check.metric), "bootstrap")


def percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval of the defined resampled values (NaN when none is defined)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
