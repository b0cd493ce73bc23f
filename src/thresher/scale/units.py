"""Pass 3, on the workers: each unit's partial counts merged by score and made cumulative from the
unit's offset (the weight of every score above it in its group, from the plan).

With exact absolute counts at each of its thresholds, a unit contributes its share of the areas,
and keeps the few points (see :func:`kept_points`) from which the driver reproduces, exactly,
what the single-machine selection does on the full curve.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from thresher.errors import ParameterError
from thresher.metrics.curve import Curve
from thresher.scale.partition import Spec, Task, _group_rows, cumulative_counts
from thresher.select.context import Context
from thresher.select.objectives import Budget, Constrained, Fixed
from thresher.select.select import TIE_TOLERANCE

POINT, SUMMARY = 1, 0


class SummedContext(Context):
    """Per-case amounts (cost columns) already summed at each point of a curve, for objectives
    such as ``min-cost fn=amount``; per-period budgets need the rows and are not supported."""

    def __init__(self, thresholds: np.ndarray, amounts: dict):
        super().__init__(None)
        self.thresholds = thresholds
        self.amounts = amounts  # column -> (cumulative positive, cumulative negative, total pos, total neg)

    def outcome_totals(self, column: str, curve: Curve) -> dict[str, np.ndarray]:
        cum_pos, cum_neg, pos_total, neg_total = self.amounts[column]
        by_amount = Curve(self.thresholds, cum_pos, cum_neg, pos_total, neg_total)
        tp = by_amount._cumulative_at(curve.thresholds, cum_pos)
        fp = by_amount._cumulative_at(curve.thresholds, cum_neg)
        return {"tp": tp, "fp": fp, "fn": pos_total - tp, "tn": neg_total - fp}

    def periods(self, column: str, per: str):
        raise ParameterError(f"A per-{per} budget needs every row's time; it is not supported on Spark/Dask. "
                             "Use 'budget count<=N' with N = capacity x periods, or select on the collected data.")


SUMS = ("roc", "ap", "pr", "v10", "v10sq", "v01", "v01sq")  # additive over units; see unit_sums
PLACEMENT_CENTRE = 0.5  # DeLong sums are taken around it, which keeps the variance's cancellation small


def summary_schema(spec: Spec) -> pa.Schema:
    fields = [pa.field("unit", pa.int64()), pa.field("kind", pa.int8()), pa.field("threshold", pa.float64()),
              pa.field("tp", pa.float64()), pa.field("fp", pa.float64())]
    fields += [pa.field(name, pa.float64()) for name in SUMS]
    for i in range(len(spec.amounts)):
        fields += [pa.field(f"amount_pos_{i}", pa.float64()), pa.field(f"amount_neg_{i}", pa.float64())]
    return pa.schema(fields)


def unit_sums(tp, fp, start_tp, start_fp, positives, negatives) -> dict[str, float]:
    """This unit's share of every additive sum, given the cumulative counts above it: the ROC area,
    the AP step sum and the PR trapezoid (the terms the single-machine sums add, in the same order),
    and DeLong's placement-value sums (``Curve.roc_auc_interval``) around ``PLACEMENT_CENTRE``."""
    ptp = np.concatenate([[start_tp], tp[:-1]])
    pfp = np.concatenate([[start_fp], fp[:-1]])
    dtp, dfp = tp - ptp, fp - pfp
    precision = tp / (tp + fp)
    out = dict.fromkeys(SUMS, 0.0)
    out["roc"] = 0.5 * float(np.sum(dfp * (tp + ptp)))
    out["ap"] = float(np.sum(np.where(dtp > 0, dtp * precision, 0.0)))
    if positives > 0:
        # the first point above is the unit above's last, or the anchor (recall 0, precision 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            previous = np.where(ptp + pfp > 0, ptp / (ptp + pfp), 1.0)
        out["pr"] = 0.5 * float(np.sum((tp - ptp) / positives * (precision + previous)))
    if positives > 0 and negatives > 0:
        v10 = (negatives - fp + 0.5 * dfp) / negatives - PLACEMENT_CENTRE
        v01 = (tp - 0.5 * dtp) / positives - PLACEMENT_CENTRE
        out["v10"], out["v10sq"] = float(np.dot(dtp, v10)), float(np.dot(dtp, v10 * v10))
        out["v01"], out["v01sq"] = float(np.dot(dfp, v01)), float(np.dot(dfp, v01 * v01))
    return out


def kept_points(curve: Curve, context, task: Task, group: int) -> np.ndarray:
    """Indices of the unit's points the driver needs; with them it reproduces, on a sparse curve
    of all units' kept points, exactly what :func:`thresher.select.select_on_curve` does on the
    full curve: the first and last point (neighbours across units), each located query threshold
    with its neighbours, the objective's running records within the tie tolerance of the unit's
    best with their neighbours, and the points an infeasibility message names."""
    m = len(curve)
    keep = [0, m - 1]
    for t in task.queries_of(group):
        k = curve.index_at(t)
        if k >= 0:
            keep += [k - 1, k, k + 1]
    objective = task.objective
    if objective is not None and not isinstance(objective, Fixed):
        values, feasible = objective.evaluate(curve, context)
        ok = feasible & np.isfinite(values)
        if ok.any():
            v = np.where(ok, values, -np.inf)
            best = float(v.max())
            floor = best - TIE_TOLERANCE * max(1.0, abs(best))
            before = np.maximum.accumulate(np.concatenate([[-np.inf], v[:-1]]))
            # the global choice is the first point >= (global best - tolerance): a record here
            records = np.flatnonzero(ok & (v > before) & (v >= floor))
            keep += [*records, *(records - 1), *(records + 1)]
        if isinstance(objective, Constrained):
            for metric, op, _ in objective.constraints:
                c = objective._constraint_values(curve, metric, op)
                if np.isfinite(c).any():
                    keep.append(int(np.nanargmax(c) if op in (">=", ">") else np.nanargmin(c)))
        if isinstance(objective, Budget):
            fits = np.flatnonzero(objective.within_capacity(curve, context))
            if fits.size:
                keep.append(int(fits[-1]))
    keep = np.unique(np.asarray(keep, np.int64))
    return keep[(keep >= 0) & (keep < m)]


def _summarise_unit(unit: int, t: pa.Table, spec: Spec, plan, task: Task) -> pa.Table:
    s = t.column("score").to_numpy()
    m = len(s)
    y = np.concatenate([np.ones(m, np.uint8), np.zeros(m, np.uint8)])
    both = np.concatenate([s, s])
    weights = np.concatenate([t.column("positive").to_numpy(), t.column("negative").to_numpy()]).astype(np.float64)
    amounts = [np.concatenate([t.column(f"amount_pos_{i}").to_numpy(), t.column(f"amount_neg_{i}").to_numpy()])
               for i in range(len(spec.amounts))]
    # the kernel merges the partitions' rows of equal score and accumulates from the top
    thresholds, ctp, cfp, *camounts = cumulative_counts(y, both, weights, amounts)
    thresholds = thresholds.astype(np.float64)
    group = plan.groups[plan.unit_group[unit]]
    start = plan.unit_start[unit]
    tp, fp = start[0] + ctp, start[1] + cfp
    sums = unit_sums(tp, fp, start[0], start[1], group.positives, group.negatives)
    summed = {}
    for i, name in enumerate(spec.amounts):
        summed[name] = (start[2 + 2 * i] + camounts[2 * i], start[3 + 2 * i] + camounts[2 * i + 1],
                        group.amounts[i][0], group.amounts[i][1])
    curve = Curve(thresholds, tp, fp, group.positives, group.negatives)
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = kept_points(curve, SummedContext(thresholds, summed), task, plan.unit_group[unit])
    k = len(keep)
    columns = {"unit": np.full(k + 1, unit, np.int64), "kind": np.array([SUMMARY] + [POINT] * k, np.int8),
               "threshold": np.append(np.nan, thresholds[keep]), "tp": np.append(np.nan, tp[keep]),
               "fp": np.append(np.nan, fp[keep])}
    for name in SUMS:
        columns[name] = np.append(sums[name], np.full(k, np.nan))
    for i, name in enumerate(spec.amounts):
        columns[f"amount_pos_{i}"] = np.append(np.nan, summed[name][0][keep])
        columns[f"amount_neg_{i}"] = np.append(np.nan, summed[name][1][keep])
    return pa.table(columns, schema=summary_schema(spec))


def unit_summary(table: pa.Table, spec: Spec, plan, task: Task) -> pa.Table:
    """Pass 3 over the partial counts of one or more whole units (any order of rows)."""
    if table.num_rows == 0:
        return summary_schema(spec).empty_table()
    units = plan.unit_of_code(table.column("unit").to_numpy())
    out = [_summarise_unit(u, table.take(pa.array(rows)), spec, plan, task) for u, rows in _group_rows(units)]
    return pa.concat_tables(out)


def sorted_unit_stream(batches, spec: Spec, plan, task: Task):
    """Pass 3 over a stream sorted by unit: each unit is summarised as soon as it is complete, so a
    worker holds one unit at a time (Spark: ``sortWithinPartitions('unit')``)."""
    pending = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        units = batch.column("unit").to_numpy()
        cut = int(np.searchsorted(units, units[-1]))
        if cut > 0:
            done = pa.Table.from_batches(pending + [batch.slice(0, cut)]) if pending else \
                pa.Table.from_batches([batch.slice(0, cut)])
            yield unit_summary(done, spec, plan, task)
            pending = []
        pending.append(batch.slice(cut))
    if pending:
        yield unit_summary(pa.Table.from_batches(pending), spec, plan, task)
