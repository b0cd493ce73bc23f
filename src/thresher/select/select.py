"""``select``: the operating point that best meets an objective, overall or per segment.

Tie rule (one, everywhere): among points whose objective value equals the best within a relative
1e-12, the highest threshold wins, i.e. the fewest cases flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresher.data.columns import Columns, segment_names
from thresher.data.load import load
from thresher.errors import InfeasibleError, InputError
from thresher.metrics.curve import Curve
from thresher.params import Interval, check
from thresher.select.context import Context, with_top
from thresher.select.objectives import Fixed, MinCost, Objective, parse
from thresher.select.operating_point import OperatingPoint, Step, wilson_intervals

TIE_TOLERANCE = 1e-12


def choose(values: np.ndarray, feasible: np.ndarray) -> int:
    """Index of the best feasible value; ties go to the lowest index (the highest threshold); -1 if none."""
    ok = feasible & np.isfinite(values)
    if not ok.any():
        return -1
    best = values[ok].max()
    near = ok & (values >= best - TIE_TOLERANCE * max(1.0, abs(best)))
    return int(np.argmax(near))


def _step(curve: Curve, k: int, base) -> Step | None:
    if k < 0 or k >= len(curve):
        return None
    c = curve.point(k)
    return Step(float(curve.thresholds[k]), c, (c.tp + c.fp) - (base.tp + base.fp), c.tp - base.tp)


def _point(curve: Curve, k: int, objective: Objective, context: Context, confidence: float,
           value: float, notes=()) -> OperatingPoint:
    c = curve.point(k)
    cost = bayes = bayes_cost = None
    notes = list(notes)
    if isinstance(objective, MinCost):
        costs = objective.cost(curve, context)
        cost = float(costs[k])
        bayes = objective.bayes_threshold()
        if bayes is not None:
            bayes_cost = float(costs[curve.index_at(bayes)]) if curve.index_at(bayes) >= 0 else float(costs[0])
    if k == 0:
        notes.append("flags nothing: the chosen threshold is above every score")
    return OperatingPoint(objective.spec(), float(curve.thresholds[k]), c, objective.value_name, value, cost,
                          wilson_intervals(c, confidence), confidence, _step(curve, k - 1, c),
                          _step(curve, k + 1, c), bayes, bayes_cost, tuple(notes))


def _fixed(curve: Curve, objective: Fixed, context: Context, confidence: float) -> OperatingPoint:
    c = curve.at(objective.threshold)
    k = curve.index_at(objective.threshold)
    return OperatingPoint(objective.spec(), objective.threshold, c, "threshold", objective.threshold, None,
                          wilson_intervals(c, confidence), confidence, _step(curve, k, c) if k >= 0 and
                          curve.thresholds[k] > objective.threshold else _step(curve, k - 1, c),
                          _step(curve, k + 1, c))


def select_on_curve(curve: Curve, objective, context: Context | None = None, *, confidence: float = 0.95,
                    notes=()) -> OperatingPoint:
    """Select on an exact curve (constant costs only unless ``context`` carries the columns)."""
    objective = parse(objective)
    context = context or Context(None)
    if len(curve) == 0:
        raise InputError("There are no rows to choose a threshold from.")
    candidates = with_top(curve)
    if isinstance(objective, Fixed):
        return _fixed(candidates, objective, context, confidence)
    values, feasible = objective.evaluate(candidates, context)
    k = choose(values, feasible)
    if k < 0:
        raise InfeasibleError(objective.infeasible_message(candidates, context))
    value = float(values[k])
    return _point(candidates, k, objective, context, confidence, -value if isinstance(objective, MinCost) else
                  (value if getattr(objective, "sense", "max") == "max" else -value), notes)


def _columns(data, objective: Objective, label, score, weight, pos_label, by=None) -> Columns:
    if isinstance(data, Columns):
        return data
    return load(data, label=label, score=score, weight=weight, pos_label=pos_label, by=by,
                extra=tuple(objective.columns()))


def select(data, objective, *, label: str = "label", score: str = "score", weight: str | None = None,
           pos_label=None, confidence: float = 0.95) -> OperatingPoint:
    """The operating point that best meets ``objective`` (an Objective or a spec string).

    ``data`` is a :class:`~thresher.Curve` (constant-cost objectives), loaded Columns, or any
    source :func:`thresher.load` reads. ``confidence`` sets the level of the reported intervals.

    >>> data = {"y": [0, 0, 1, 1, 0, 1], "p": [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]}
    >>> point = select(data, "max-precision recall>=0.6", label="y", score="p")
    >>> point.threshold, point.precision, round(point.recall, 3)
    (0.8, 1.0, 0.667)
    """
    check(confidence, "confidence", "select", Interval(0, 1, closed="neither"))
    objective = parse(objective)
    if isinstance(data, Curve):
        return select_on_curve(data, objective, confidence=confidence)
    cols = _columns(data, objective, label, score, weight, pos_label)
    return select_on_curve(Curve.from_columns(cols), objective, Context(cols), confidence=confidence)


def _segment_point(curve: Curve, objective: Objective, chosen: dict, prefix: tuple, context: Context,
                   confidence: float, min_support: int) -> tuple[OperatingPoint, str | None]:
    """A segment's own choice, or its parent's threshold (and the parent's name) when it has fewer
    than ``min_support`` positives or the objective is infeasible on its rows."""
    if curve.positives < min_support:
        reason = f"{curve.positives:g} positives < min_support {min_support}"
    else:
        try:
            return select_on_curve(curve, objective, context, confidence=confidence), None
        except InfeasibleError as exc:
            reason = f"infeasible here ({exc})"
    parent_name = "global" if len(prefix) == 1 else segment_names([prefix[:-1]])[0]
    return _fallback(curve, objective, chosen[prefix[:-1]], parent_name, reason, context, confidence), parent_name


def _fallback(curve: Curve, objective: Objective, parent: OperatingPoint, parent_name: str, reason: str,
              context: Context, confidence: float) -> OperatingPoint:
    """The parent's threshold applied to a segment's own rows, with the reason as a note."""
    note = f"fallback to {parent_name} threshold: {reason}"
    fixed = select_on_curve(curve, Fixed(parent.threshold), context, confidence=confidence)
    return OperatingPoint(objective.spec(), fixed.threshold, fixed.confusion, fixed.value_name, fixed.value, None,
                          fixed.intervals, confidence, fixed.step_up, fixed.step_down, notes=(note,),
                          extra={"fallback_from": parent_name})


@dataclass(frozen=True)
class SegmentedSelection:
    """Per-segment operating points with hierarchical fallback; ``overall`` is the global choice."""

    objective: str
    by: tuple[str, ...]
    overall: OperatingPoint
    segments: dict[str, OperatingPoint] = field(default_factory=dict)
    fallbacks: dict[str, str] = field(default_factory=dict)
    min_support: int = 30
    levels: dict[tuple, OperatingPoint] = field(default_factory=dict, repr=False)  # every key prefix, () = overall

    def to_dict(self) -> dict:
        out = self.overall.to_dict()
        out["by"] = list(self.by)
        out["min_support"] = self.min_support
        out["segments"] = {}
        for name, point in self.segments.items():
            d = point.to_dict()
            d["fallback"] = self.fallbacks.get(name)
            out["segments"][name] = d
        return out


def select_by_segment(data, objective, *, by, label: str = "label", score: str = "score",
                      weight: str | None = None, pos_label=None, min_support: int = 30,
                      confidence: float = 0.95) -> SegmentedSelection:
    """The same selection in every segment of ``by`` (one or more columns, outermost first).

    A segment with fewer than ``min_support`` positives, or where the objective is infeasible,
    uses its parent's threshold (the segment of the leading columns, then the global choice);
    its metrics are still measured on its own rows, and ``fallbacks`` says why.
    """
    check(min_support, "min_support", "select_by_segment", Interval(0, None, integer=True))
    objective = parse(objective)
    cols = _columns(data, objective, label, score, weight, pos_label, by=by)
    if cols.segments is None:
        raise InputError("select_by_segment needs segment columns: pass by='column' (or several, comma separated).")
    overall = select_on_curve(Curve.from_columns(cols), objective, Context(cols), confidence=confidence)
    names = cols.segments.names
    keys = cols.segments.keys
    codes = cols.segments.codes
    chosen: dict[tuple, OperatingPoint] = {(): overall}
    segments: dict[str, OperatingPoint] = {}
    fallbacks: dict[str, str] = {}
    # parents first: every prefix of the segment key, so fallbacks can climb the hierarchy
    for depth in range(1, len(names) + 1):
        prefixes = sorted({k[:depth] for k in keys}, key=lambda k: [str(v) for v in k])
        prefix_names = dict(zip(prefixes, segment_names(prefixes)))
        for prefix in prefixes:
            groups = [g for g, k in enumerate(keys) if k[:depth] == prefix]
            rows = np.flatnonzero(np.isin(codes, groups))
            sub = cols.take(rows)
            name = prefix_names[prefix]
            point, fell_back = _segment_point(Curve.from_columns(sub), objective, chosen, prefix, Context(sub),
                                              confidence, min_support)
            if fell_back:
                fallbacks[name] = fell_back
            chosen[prefix] = point
            if depth == len(names):
                segments[name] = point
    return SegmentedSelection(objective.spec(), names, overall, segments, fallbacks, min_support, chosen)


def select_on_segment_curves(overall: Curve, segments: dict[str, Curve], objective, *, by=("segment",),
                             min_support: int = 30, confidence: float = 0.95) -> SegmentedSelection:
    """:func:`select_by_segment` for one level of segments given as curves (e.g. counted out of core).

    A segment with fewer than ``min_support`` positives, or where the objective is infeasible, uses
    the global threshold; its metrics are measured on its own curve.
    """
    return select_on_level_curves({(): overall, **{(name,): c for name, c in segments.items()}}, objective,
                                  by=by, min_support=min_support, confidence=confidence, names=list(segments))


def select_on_level_curves(curves: dict[tuple, Curve], objective, *, by, min_support: int = 30,
                           confidence: float = 0.95, names=None) -> SegmentedSelection:
    """:func:`select_by_segment` on curves: ``curves`` maps every key prefix (``()`` for all rows, then
    each prefix of the segment values, outermost first) to its exact curve.

    A segment with fewer than ``min_support`` positives, or where the objective is infeasible, uses
    its parent's threshold (the prefix one shorter; the global choice at the top). ``names`` gives
    the leaves' names (default: :func:`segment_names` of the leaf keys).
    """
    check(min_support, "min_support", "select_on_level_curves", Interval(0, None, integer=True))
    objective = parse(objective)
    if objective.columns():
        raise InputError(f"'{objective.spec()}' needs per-case columns, which curves do not carry; load the data "
                         "in memory for it.")
    by = (by,) if isinstance(by, str) else tuple(by)
    top = select_on_curve(curves[()], objective, confidence=confidence)
    chosen: dict[tuple, OperatingPoint] = {(): top}
    segments, fallbacks = {}, {}
    leaves = [k for k in curves if len(k) == len(by)]
    leaf_names = dict(zip(leaves, names if names is not None else segment_names(leaves)))
    for depth in range(1, len(by) + 1):
        prefixes = [k for k in curves if len(k) == depth]
        prefix_names = leaf_names if depth == len(by) else dict(zip(prefixes, segment_names(prefixes)))
        for prefix in prefixes:
            point, fell_back = _segment_point(curves[prefix], objective, chosen, prefix, Context(None), confidence,
                                              min_support)
            if fell_back:
                fallbacks[prefix_names[prefix]] = fell_back
            chosen[prefix] = point
            if depth == len(by):
                segments[prefix_names[prefix]] = point
    return SegmentedSelection(objective.spec(), by, top, segments, fallbacks, min_support, chosen)
