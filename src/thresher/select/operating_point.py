"""The result of a selection: the threshold, its counts and metrics, and what a step would change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresher.metrics.confusion import Confusion, _number

REPORTED = ("precision", "recall", "f1", "specificity", "fpr", "npv", "accuracy", "mcc", "alert_rate")


@dataclass(frozen=True)
class Step:
    """The neighbouring operating point one distinct score up or down, and the change to it."""

    threshold: float
    confusion: Confusion
    delta_alerts: float
    delta_tp: float

    def to_dict(self) -> dict:
        c = self.confusion
        return {"threshold": _number(self.threshold), "alerts_change": _number(self.delta_alerts),
                "tp_change": _number(self.delta_tp), "precision": _number(c.precision),
                "recall": _number(c.recall)}


@dataclass(frozen=True)
class OperatingPoint:
    """A chosen threshold with the evidence for it.

    ``value`` is the objective's value there (F1, cost, precision, ...); ``intervals`` hold binomial
    confidence intervals of precision, recall and specificity; ``step_up`` / ``step_down`` show
    the neighbouring thresholds; ``notes`` explain fallbacks and degenerate choices.
    """

    objective: str
    threshold: float
    confusion: Confusion
    value_name: str
    value: float
    cost: float | None = None
    intervals: dict = field(default_factory=dict)
    confidence: float = 0.95
    step_up: Step | None = None
    step_down: Step | None = None
    bayes_threshold: float | None = None
    bayes_cost: float | None = None
    notes: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def __getattr__(self, name):
        # metrics read through to the confusion matrix: point.precision, point.recall, point.tp ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.__dict__["confusion"], name)

    def to_dict(self) -> dict:
        c = self.confusion
        out = {"objective": self.objective, "threshold": _number(self.threshold)}
        out.update({k: _number(getattr(c, k)) for k in ("tp", "fp", "tn", "fn")})
        out.update({k: _number(c.metric(k)) for k in REPORTED})
        out[self.value_name if self.value_name not in out else "objective_value"] = _number(self.value)
        if self.cost is not None:
            out["cost"] = _number(self.cost)
            out["cost_per_case"] = _number(self.cost / c.n) if c.n else None
        if self.bayes_threshold is not None:
            out["bayes_threshold"] = _number(self.bayes_threshold)
            out["bayes_cost"] = _number(self.bayes_cost)
        out["confidence"] = self.confidence
        out["intervals"] = {k: [_number(lo), _number(hi)] for k, (lo, hi) in self.intervals.items()}
        out["step_up"] = self.step_up.to_dict() if self.step_up else None
        out["step_down"] = self.step_down.to_dict() if self.step_down else None
        out["notes"] = list(self.notes)
        out.update(self.extra)
        return out


def wilson_intervals(c: Confusion, confidence: float) -> dict:
    from thresher.stats.intervals import wilson

    pairs = {"precision": (c.tp, c.tp + c.fp), "recall": (c.tp, c.tp + c.fn), "specificity": (c.tn, c.tn + c.fp)}
    out = {}
    for name, (k, n) in pairs.items():
        lo, hi = wilson(np.float64(k), np.float64(n), confidence)
        out[name] = (float(lo), float(hi))
    return out
