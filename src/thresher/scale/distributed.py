"""Exact evaluation and selection over a frame split across machines, on any engine that runs the
three partition passes of :mod:`thresher.scale.partition` (Spark, Dask).

The driver holds only the aggregated histogram, the plan, and per unit its area contributions and
a few exact points: memory grows with segments and units, never with rows or distinct scores.
Results are thresher's own objects, equal to the single-machine results on the collected data:
thresholds and counts identical, areas equal up to the order of floating-point summation (exact
for integer weights; sums of fractional weights may differ in the last bits).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

import numpy as np
import pyarrow as pa

from thresher.data.load import _segment_names
from thresher.errors import InfeasibleError, ParameterError
from thresher.metrics.confusion import Confusion
from thresher.metrics.curve import Curve
from thresher.metrics.evaluate import Evaluation, Summary
from thresher.params import Interval, check
from thresher.scale.partition import Spec, Task
from thresher.scale.plan import Plan
from thresher.scale.units import PLACEMENT_CENTRE, POINT, SUMMARY, SUMS, SummedContext
from thresher.select.objectives import Budget, Fixed, MinCost, parse
from thresher.select.operating_point import OperatingPoint
from thresher.select.select import SegmentedSelection, select_on_curve


class Engine(Protocol):
    """Runs the partition passes on one frame (see :mod:`thresher.scale.spark`, :mod:`thresher.scale.dask`)."""

    parallelism: int

    def check_columns(self, columns: list[str]) -> None: ...

    def histogram(self, spec: Spec) -> pa.Table: ...  # pass 1, aggregated by (segment, label, bucket)

    def units(self, spec: Spec, plan: Plan, task: Task) -> pa.Table: ...  # passes 2 and 3, collected


class ScaledCurve:
    """What a :class:`~thresher.Summary` needs of its curve, summed across partitions: the totals,
    the three areas, DeLong's interval and the confusion matrix at the queried threshold. The full
    curve (one point per distinct score) is never gathered in one place, so there are no arrays."""

    exact = True

    def __init__(self, positives: float, negatives: float, sums: dict, points: Curve):
        self.positives, self.negatives = positives, negatives
        self._sums = sums
        self._points = points  # exact points, but only a few: the ones located for queries

    def roc_auc(self, max_fpr: float | None = None) -> float:
        if max_fpr is not None:
            raise ParameterError("A partial ROC AUC (max_fpr) is not computed on Spark/Dask; evaluate the "
                                 "collected data for it.")
        p, n = self.positives, self.negatives
        return self._sums["roc"] / (p * n) if p > 0 and n > 0 else float("nan")

    def average_precision(self) -> float:
        return max(0.0, self._sums["ap"] / self.positives) if self.positives > 0 else float("nan")

    def pr_auc(self) -> float:
        return abs(self._sums["pr"]) if self.positives > 0 else float("nan")

    def roc_auc_bounds(self) -> tuple[float, float]:
        return self.roc_auc(), self.roc_auc()

    def average_precision_bounds(self) -> tuple[float, float]:
        return self.average_precision(), self.average_precision()

    def roc_auc_interval(self, confidence: float = 0.95) -> tuple[float, float, float, float]:
        """``(auc, low, high, se)`` as :meth:`thresher.Curve.roc_auc_interval`, from the units' sums."""
        check(confidence, "confidence", "roc_auc_interval", Interval(0, 1, closed="neither"))
        m, n, c = self.positives, self.negatives, PLACEMENT_CENTRE
        nan = float("nan")
        if m == 0 or n == 0:
            return nan, nan, nan, nan
        s = self._sums
        auc = c + s["v10"] / m
        if m < 2 or n < 2:
            return auc, nan, nan, nan
        shift = auc - c  # sum w (v - auc)^2 = sum w (v - c)^2 - 2 (auc - c) sum w (v - c) + W (auc - c)^2
        s10 = (s["v10sq"] - 2 * shift * s["v10"] + m * shift * shift) / (m - 1)
        s01 = (s["v01sq"] - 2 * shift * s["v01"] + n * shift * shift) / (n - 1)
        se = float(np.sqrt(max(s10 / m + s01 / n, 0.0)))
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        return auc, float(np.clip(auc - z * se, 0.0, 1.0)), float(np.clip(auc + z * se, 0.0, 1.0)), se

    def at(self, threshold: float) -> Confusion:
        return self._points.at(threshold)


@dataclass
class Gathered:
    """One group's share of the unit pass: its summed sums and the sparse curve of kept points."""

    sums: dict
    curve: Curve
    context: SummedContext


def gather(table: pa.Table, plan: Plan) -> dict[int, Gathered]:
    """Per group: sums over its units (highest first) and its kept points as a Curve."""
    spec = plan.spec
    unit = table.column("unit").to_numpy()
    kind = table.column("kind").to_numpy()
    col = {n: table.column(n).to_numpy() for n in table.column_names if n not in ("unit", "kind")}
    out = {}
    n_groups = len(plan.groups)
    group = plan.unit_group[unit] if len(unit) else np.empty(0, np.int64)
    summary = np.flatnonzero(kind == SUMMARY)
    summary = summary[np.argsort(unit[summary], kind="stable")]
    totals = {name: np.zeros(n_groups) for name in SUMS}
    for name, total in totals.items():
        for i in summary:  # in unit order, so the sums do not depend on how results arrive
            total[group[i]] += col[name][i]
    points = np.flatnonzero(kind == POINT)
    points = points[np.lexsort((-col["threshold"][points], group[points]))]
    bounds = np.searchsorted(group[points], np.arange(n_groups + 1))
    for g, info in enumerate(plan.groups):
        rows = points[bounds[g] : bounds[g + 1]]
        thresholds = col["threshold"][rows]
        curve = Curve(thresholds, col["tp"][rows], col["fp"][rows], info.positives, info.negatives)
        amounts = {name: (col[f"amount_pos_{i}"][rows], col[f"amount_neg_{i}"][rows], *info.amounts[i])
                   for i, name in enumerate(spec.amounts)}
        out[g] = Gathered({name: float(totals[name][g]) for name in SUMS}, curve, SummedContext(thresholds, amounts))
    return out


def _summary(plan: Plan, g: int, gathered: Gathered, threshold: float, weighted: bool) -> Summary:
    info = plan.groups[g]
    curve = ScaledCurve(info.positives, info.negatives, gathered.sums, gathered.curve)
    return Summary(info.n, curve, curve.at(threshold), weighted)


def evaluate_with(engine: Engine, *, label: str, score: str, weight: str | None = None, by=None,
                  pos_label=None, threshold: float = 0.5) -> Evaluation:
    """:func:`thresher.evaluate` on a distributed frame (see :func:`thresher.scale.spark.evaluate`)."""
    check(threshold, "threshold", "evaluate", Interval(), optional=False)
    if not np.isfinite(threshold):
        check(float("nan"), "threshold", "evaluate", Interval())
    names = _segment_names(by)
    spec = Spec(label, score, weight, names)
    engine.check_columns(spec.columns)
    plan = Plan.build(engine.histogram(spec), spec, pos_label=pos_label, levels=(0, len(names)) if names else (0,),
                      parallelism=engine.parallelism)
    gathered = gather(engine.units(spec, plan, Task(queries=(float(threshold),))), plan)
    overall = _summary(plan, 0, gathered[0], threshold, weight is not None)
    ids = plan.level_groups(len(names)) if names else []
    segments = {name: _summary(plan, g, gathered[g], threshold, weight is not None)
                for name, g in zip(plan.names(ids), ids)}
    return Evaluation(overall, float(threshold), names, segments, plan.positive, weight is not None)


def _queries(objective) -> tuple[float, ...]:
    if isinstance(objective, Fixed):
        return (float(objective.threshold),)
    if isinstance(objective, MinCost) and objective.bayes_threshold() is not None:
        return (objective.bayes_threshold(),)
    return ()


def select_with(engine: Engine, objective, *, label: str, score: str, weight: str | None = None, by=None,
                pos_label=None, min_support: int = 30, confidence: float = 0.95):
    """:func:`thresher.select` (``by=None``) or :func:`thresher.select_by_segment` on a distributed frame."""
    check(confidence, "confidence", "select", Interval(0, 1, closed="neither"))
    check(min_support, "min_support", "select_by_segment", Interval(0, None, integer=True))
    objective = parse(objective)
    if isinstance(objective, Budget) and objective.per:
        raise ParameterError(f"'{objective.spec()}' needs every row's time; per-period budgets are not supported "
                             "on Spark/Dask. Use 'budget count<=N' with N = capacity x periods, or select on the "
                             "collected data.")
    names = _segment_names(by)
    spec = Spec(label, score, weight, names, tuple(objective.columns()))
    engine.check_columns(spec.columns)
    plan = Plan.build(engine.histogram(spec), spec, pos_label=pos_label, levels=tuple(range(len(names) + 1)),
                      parallelism=engine.parallelism)
    gathered = gather(engine.units(spec, plan, Task(queries=_queries(objective), objective=objective)), plan)
    if not names:
        return select_on_curve(gathered[0].curve, objective, gathered[0].context, confidence=confidence)
    return _by_segment(engine, spec, plan, objective, gathered, min_support, confidence)


def _by_segment(engine, spec, plan, objective, gathered, min_support, confidence) -> SegmentedSelection:
    # the same walk as thresher.select_by_segment; fallback points need the parent's final
    # threshold located in the child's curve, so they take one more (small) unit pass
    ids = {g.key: i for i, g in enumerate(plan.groups)}
    depth_max = len(spec.by)
    keys = [g.key for g in plan.groups if g.level == depth_max]
    overall = select_on_curve(gathered[0].curve, objective, gathered[0].context, confidence=confidence)
    chosen, final = {(): overall}, {(): overall.threshold}
    walk, pending, names = [], {}, {}
    for depth in range(1, depth_max + 1):
        prefixes = sorted({k[:depth] for k in keys}, key=lambda k: [str(v) for v in plan.groups[ids[k]].display])
        names.update(zip(prefixes, plan.names([ids[p] for p in prefixes])))
        for prefix in prefixes:
            walk.append(prefix)
            g = gathered[ids[prefix]]
            parent_name = "global" if depth == 1 else plan.names([ids[prefix[:-1]]])[0]
            reason = None
            if g.curve.positives < min_support:
                reason = f"{g.curve.positives:g} positives < min_support {min_support}"
            else:
                try:
                    chosen[prefix] = select_on_curve(g.curve, objective, g.context, confidence=confidence)
                except InfeasibleError as exc:
                    reason = f"infeasible here ({exc})"
            if reason is not None:
                pending[prefix] = (f"fallback to {parent_name} threshold: {reason}", parent_name)
                final[prefix] = final[prefix[:-1]]
            else:
                final[prefix] = chosen[prefix].threshold
    fallbacks = {}
    if pending:
        queries = {ids[p]: (final[p],) for p in pending}
        again = gather(engine.units(spec, plan, Task(group_queries=queries, groups=frozenset(queries))), plan)
        for prefix, (note, parent_name) in pending.items():
            g = again[ids[prefix]]
            point = select_on_curve(g.curve, Fixed(final[prefix]), g.context, confidence=confidence, notes=(note,))
            chosen[prefix] = OperatingPoint(objective.spec(), point.threshold, point.confusion, point.value_name,
                                            point.value, None, point.intervals, confidence, point.step_up,
                                            point.step_down, notes=(note,), extra={"fallback_from": parent_name})
    segments, levels = {}, {(): overall}
    for prefix in walk:
        name = names[prefix]
        levels[prefix] = chosen[prefix]
        if prefix in pending:
            fallbacks[name] = pending[prefix][1]
        if len(prefix) == depth_max:
            segments[name] = chosen[prefix]
    return SegmentedSelection(objective.spec(), spec.by, overall, segments, fallbacks, min_support, levels)
