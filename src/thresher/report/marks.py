"""Marked points on the report's charts: chosen operating points and policy tiers, with intervals.

A mark with a ``threshold`` lies on its view's curve: ``at`` is the threshold of the curve point
that applies there (the smallest distinct score >= threshold), which the display curve keeps, so the
slider can jump to it and show exactly the mark's counts. A policy whose rules give different
thresholds to the rows of one view has no single threshold there; its realised confusion matrix
is a mark without a threshold, drawn in ROC and PR space only.
"""

from __future__ import annotations

import numpy as np

from thresher.errors import InputError
from thresher.metrics.confusion import Confusion, _number
from thresher.metrics.curve import Curve
from thresher.policy.policy import Policy
from thresher.select.operating_point import OperatingPoint, wilson_intervals

COUNTS = ("tp", "fp", "tn", "fn")


def _intervals(intervals: dict) -> dict:
    return {k: [_number(lo), _number(hi)] for k, (lo, hi) in intervals.items()}


def _curve_at(curve: Curve, threshold: float) -> float | None:
    k = curve.index_at(threshold)
    return float(curve.thresholds[k]) if k >= 0 else None


def confusion_mark(kind: str, label: str, confusion: Confusion, curve: Curve | None, *, confidence: float,
                   threshold: float | None, intervals: dict | None = None, **extra) -> dict:
    """A mark as JSON: counts, Wilson intervals, and where it sits on the curve (``at``)."""
    mark = {"kind": kind, "label": label, "threshold": _number(threshold) if threshold is not None else None,
            "at": _curve_at(curve, threshold) if (curve is not None and threshold is not None) else None}
    mark.update({k: _number(getattr(confusion, k)) for k in COUNTS})
    mark["intervals"] = _intervals(intervals if intervals is not None else wilson_intervals(confusion, confidence))
    mark.update(extra)
    return mark


def objective_mark(point: OperatingPoint, curve: Curve) -> dict:
    """The operating point an objective chose (overall or in one segment)."""
    fallback = point.extra.get("fallback_from")
    return confusion_mark("objective", point.objective, point.confusion, curve, confidence=point.confidence,
                          threshold=point.threshold, intervals=point.intervals, value_name=point.value_name,
                          value=_number(point.value), cost=_number(point.cost) if point.cost is not None else None,
                          fallback=fallback, notes=list(point.notes))


def infeasible_mark(spec: str, message: str) -> dict:
    """An objective no threshold meets here: listed with the reason, drawn nowhere."""
    return {"kind": "objective", "label": spec, "threshold": None, "at": None, "infeasible": message}


def decision_counts(rule: np.ndarray, tier: np.ndarray, y: np.ndarray, weight: np.ndarray | None, n_rules: int,
                    n_tiers: int) -> np.ndarray:
    """Weight of the rows per (rule, tier, label): shape ``(n_rules, n_tiers + 1, 2)``, the last tier
    being "otherwise" (below every tier)."""
    index = (rule.astype(np.int64) * (n_tiers + 1) + tier) * 2 + (y == 1)
    flat = np.bincount(index, weights=weight, minlength=n_rules * (n_tiers + 1) * 2)
    return flat.astype(np.float64).reshape(n_rules, n_tiers + 1, 2)


class PolicyMarks:
    """A policy's marks on a view, from the view's decision counts (:func:`decision_counts`): its
    tiers on the curve when one rule decides every row of the view, else the realised confusion
    matrix of each action level."""

    def __init__(self, policy: Policy, kind: str):
        self.policy = policy
        self.kind = kind
        self.actions = list(policy.model.actions)

    @property
    def title(self) -> str:
        return f"{self.policy.name} v{self.policy.version}"

    def marks(self, counts: np.ndarray, curve: Curve, confidence: float) -> tuple[list[dict], list[float]]:
        """Marks for one view, and the thresholds the display curve must keep."""
        rules = np.flatnonzero(counts.sum(axis=(1, 2)) > 0)
        if len(rules) == 1:
            rule = self.policy.rules[int(rules[0])]
            marks = [confusion_mark(self.kind, f"{tier.action} \u2265 {tier.threshold:.6g}", curve.at(tier.threshold),
                                    curve, confidence=confidence, threshold=tier.threshold, policy=self.title,
                                    rule=rule.name, action=tier.action)
                     for tier in rule.tiers]
            return marks, [t.threshold for t in rule.tiers]
        names = [self.policy.rules[int(r)].name for r in rules]
        # several rules in this view: per action level, the rows flagged at that tier or a stricter one
        used = sorted({self.actions.index(t.action) for r in self.policy.rules for t in r.tiers})
        marks = []
        for level in used:
            flagged, passed = counts[:, : level + 1].sum(axis=(0, 1)), counts[:, level + 1:].sum(axis=(0, 1))
            c = Confusion(float("nan"), float(flagged[1]), float(flagged[0]), float(passed[0]), float(passed[1]))
            marks.append(confusion_mark(self.kind, f"{self.actions[level]} or stricter", c, None,
                                        confidence=confidence, threshold=None, policy=self.title,
                                        rule=", ".join(names), action=self.actions[level]))
        return marks, []


class PolicyDecisions(PolicyMarks):
    """A policy applied to the report's rows (in memory): the rule and tier of every row."""

    def __init__(self, policy: Policy, data, n_rows: int, kind: str):
        super().__init__(policy, kind)
        decided = policy.decide(data)
        if decided.num_rows != n_rows:
            raise InputError(f"Policy '{policy.name}' v{policy.version} decided {decided.num_rows} rows but the report "
                             f"has {n_rows}; pass the same data source to both.")
        self.rule = decided.column("segment").combine_chunks().indices.to_numpy(zero_copy_only=False)
        # tier index into policy.actions; len(actions) means "otherwise" (below every tier)
        self.tier = decided.column("tier").combine_chunks().indices.to_numpy(zero_copy_only=False)

    def view_marks(self, rows: np.ndarray | None, curve: Curve, y: np.ndarray, weight: np.ndarray | None,
                   confidence: float) -> tuple[list[dict], list[float]]:
        """Marks for the rows of one view (``None``: all rows)."""
        take = (lambda a: a) if rows is None else (lambda a: a[rows])
        counts = decision_counts(take(self.rule), take(self.tier), y, weight, len(self.policy.rules),
                                 len(self.actions))
        return self.marks(counts, curve, confidence)
