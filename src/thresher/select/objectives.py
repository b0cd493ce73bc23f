"""Objectives: small typed objects that score every candidate threshold.

Each objective returns, for every candidate point, a value to maximise and whether the point is
feasible. :func:`thresher.select.choose` then picks the best feasible point; ties go to the
highest threshold (the fewest cases flagged). Each objective round-trips through its spec string.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.errors import SpecError
from thresher.metrics.curve import Curve
from thresher.metrics.rates import METRICS
from thresher.select.spec import metric_name, number, tokens, unknown_kind

# metrics that are a proportion successes / trials, so they have binomial confidence bounds
PROPORTIONS = {
    "precision": lambda tp, fp, tn, fn: (tp, tp + fp),
    "recall": lambda tp, fp, tn, fn: (tp, tp + fn),
    "specificity": lambda tp, fp, tn, fn: (tn, tn + fp),
    "fpr": lambda tp, fp, tn, fn: (fp, tn + fp),
    "fnr": lambda tp, fp, tn, fn: (fn, tp + fn),
    "npv": lambda tp, fp, tn, fn: (tn, tn + fn),
    "accuracy": lambda tp, fp, tn, fn: (tp + tn, tp + fp + tn + fn),
    "alert_rate": lambda tp, fp, tn, fn: (tp + fp, tp + fp + tn + fn),
    "prevalence": lambda tp, fp, tn, fn: (tp + fn, tp + fp + tn + fn),
}
UNIT_METRICS = set(METRICS) - {"mcc", "youden_j"}


class Objective:
    """Base: ``evaluate(curve, context) -> (values, feasible)`` over the candidate points."""

    kind = ""
    value_name = ""

    def spec(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.spec()

    def evaluate(self, curve: Curve, context) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def infeasible_message(self, curve: Curve, context) -> str:
        return f"No threshold satisfies '{self.spec()}'."

    def columns(self) -> list[str]:
        """Data columns the objective needs besides label and score."""
        return []


def _finite(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values)


@dataclass(frozen=True)
class MaxFBeta(Objective):
    """Maximise F-beta (``max-f1``, ``max-fbeta beta=2``)."""

    beta: float = 1.0
    kind = "max-fbeta"

    @property
    def value_name(self) -> str:
        return "f1" if self.beta == 1 else f"f{self.beta:g}"

    def spec(self) -> str:
        return "max-f1" if self.beta == 1 else f"max-fbeta beta={self.beta:g}"

    def evaluate(self, curve, context):
        values = curve.f_beta(self.beta)
        return values, _finite(values)


@dataclass(frozen=True)
class Youden(Objective):
    """Maximise Youden's J = sensitivity + specificity - 1."""

    kind = "youden"
    value_name = "youden_j"

    def spec(self) -> str:
        return "youden"

    def evaluate(self, curve, context):
        values = curve.youden_j
        return values, _finite(values)


@dataclass(frozen=True)
class Fixed(Objective):
    """A fixed threshold (``fixed 0.5``): the convention, made explicit."""

    threshold: float = 0.5
    kind = "fixed"
    value_name = "threshold"

    def spec(self) -> str:
        return f"fixed {self.threshold:g}"


@dataclass(frozen=True)
class MinCost(Objective):
    """Minimise expected cost: ``fn`` / ``fp`` cost per false negative / positive, ``tp`` / ``tn``
    gain per correct decision. A cost given as a column name is taken per case from that column."""

    fn: float | str = 1.0
    fp: float | str = 1.0
    tp: float | str = 0.0
    tn: float | str = 0.0
    kind = "min-cost"
    value_name = "cost"

    def spec(self) -> str:
        parts = [f"{k}={v:g}" if not isinstance(v, str) else f"{k}={v}" for k, v in
                 (("fn", self.fn), ("fp", self.fp), ("tp", self.tp), ("tn", self.tn))
                 if k in ("fn", "fp") or v != 0]
        return "min-cost " + " ".join(parts)

    def columns(self) -> list[str]:
        return [v for v in (self.fn, self.fp, self.tp, self.tn) if isinstance(v, str)]

    def bayes_threshold(self) -> float | None:
        """The threshold that is optimal for calibrated probabilities: (C_fp + G_tn) / (C_fp + G_tn + C_fn + G_tp)."""
        if self.columns():
            return None
        den = self.fp + self.tn + self.fn + self.tp
        return float((self.fp + self.tn) / den) if den > 0 else None

    def cost(self, curve: Curve, context) -> np.ndarray:
        """Total cost at every candidate point (costs minus gains)."""

        def term(value, outcome):
            if isinstance(value, str):
                return context.outcome_totals(value, curve)[outcome]
            return value * getattr(curve, outcome)

        return term(self.fn, "fn") + term(self.fp, "fp") - term(self.tp, "tp") - term(self.tn, "tn")

    def evaluate(self, curve, context):
        values = -self.cost(curve, context)
        return values, _finite(values)


@dataclass(frozen=True)
class Constrained(Objective):
    """Maximise (or minimise) a metric subject to constraints, e.g. ``max-precision recall>=0.95``.

    With ``confidence``, a constraint ``m >= x`` must hold for the lower confidence bound of ``m``
    (``<=``: the upper bound), so the promise holds on new data, not just on this sample.
    """

    target: str = "precision"
    sense: str = "max"
    constraints: tuple[tuple[str, str, float], ...] = ()
    confidence: float | None = None
    kind = "constrained"

    @property
    def value_name(self) -> str:
        return self.target

    def spec(self) -> str:
        cons = " ".join(f"{m}{op}{v:g}" for m, op, v in self.constraints)
        conf = f" confidence={self.confidence:g}" if self.confidence is not None else ""
        return f"{self.sense}-{self.target} {cons}{conf}".strip()

    def _constraint_values(self, curve, metric, op):
        if self.confidence is None:
            return curve.metric(metric)
        from thresher.stats.intervals import wilson

        successes, trials = PROPORTIONS[metric](curve.tp, curve.fp, curve.tn, curve.fn)
        low, high = wilson(successes, trials, self.confidence)
        return low if op in (">=", ">") else high

    def feasible(self, curve) -> np.ndarray:
        ok = np.ones(len(curve), bool)
        for metric, op, value in self.constraints:
            v = self._constraint_values(curve, metric, op)
            with np.errstate(invalid="ignore"):
                ok &= {">=": v >= value, ">": v > value, "<=": v <= value, "<": v < value}[op]
        return ok

    def evaluate(self, curve, context):
        values = curve.metric(self.target)
        values = values if self.sense == "max" else -values
        return values, _finite(values) & self.feasible(curve)

    def infeasible_message(self, curve, context) -> str:
        parts = []
        for metric, op, value in self.constraints:
            v = self._constraint_values(curve, metric, op)
            finite = np.isfinite(v)
            if not finite.any():
                parts.append(f"{metric} is undefined at every threshold")
                continue
            k = int(np.nanargmax(v)) if op in (">=", ">") else int(np.nanargmin(v))
            bound = " (its lower confidence bound)" if self.confidence and op in (">=", ">") else (
                " (its upper confidence bound)" if self.confidence else "")
            parts.append(f"the best achievable {metric}{bound} is {v[k]:.4f} at threshold {float(curve.thresholds[k]):.6g}")
        hint = " Lower the target" + (", lower the confidence," if self.confidence else "") + " or improve the model."
        return f"No threshold satisfies '{self.spec()}': " + "; ".join(parts) + "." + hint


@dataclass(frozen=True)
class Budget(Objective):
    """The highest-recall threshold within a review capacity.

    ``budget rate<=0.02``: flag at most 2% of cases. ``budget count<=500``: at most 500 cases.
    ``budget count<=500 per=day time=COLUMN``: at most 500 a day on average over the days in the
    data (``stat=max``: on every single day).
    """

    rate: float | None = None
    count: float | None = None
    per: str | None = None
    time: str | None = None
    stat: str = "mean"
    kind = "budget"
    value_name = "recall"

    def spec(self) -> str:
        if self.rate is not None:
            return f"budget rate<={self.rate:g}"
        text = f"budget count<={self.count:g}"
        if self.per:
            text += f" per={self.per} time={self.time}" + (f" stat={self.stat}" if self.stat != "mean" else "")
        return text

    def columns(self) -> list[str]:
        return [self.time] if self.time else []

    def within_capacity(self, curve, context) -> np.ndarray:
        alerts = curve.tp + curve.fp
        if self.rate is not None:
            return curve.alert_rate <= self.rate + 1e-12
        if self.per is None:
            return alerts <= self.count
        return context.within_period_capacity(curve, self.count, self.per, self.time, self.stat)

    def evaluate(self, curve, context):
        # recall 0 means no positive is caught: not a useful operating point
        return curve.recall, self.within_capacity(curve, context) & (curve.tp > 0)

    def infeasible_message(self, curve, context) -> str:
        fits = self.within_capacity(curve, context)
        n = float(curve.positives + curve.negatives)
        if fits[1:].any():
            allowed = float((curve.tp + curve.fp)[np.flatnonzero(fits)[-1]])
            return (f"No threshold satisfies '{self.spec()}': the {allowed:g} highest-scored cases the capacity "
                    "allows contain no positive (recall would be 0). Raise the capacity or improve the model.")
        smallest = float(curve.tp[1] + curve.fp[1]) if len(curve) > 1 else float("nan")
        return (f"No threshold satisfies '{self.spec()}': even the highest threshold flags {smallest:g} cases "
                f"({smallest / n:.4%} of {n:g}), tied at the top score. Raise the capacity, or break the ties "
                "in the scores.")


def parse(spec) -> Objective:
    """An :class:`Objective` from its spec string (an Objective passes through unchanged).

    >>> parse("max-precision recall>=0.95").spec()
    'max-precision recall>=0.95'
    """
    if isinstance(spec, Objective):
        return spec
    kind, options, constraints, words = tokens(spec)

    def reject_extra(allowed_options=(), allow_constraints=False, allow_words=0):
        extra = [k for k in options if k not in allowed_options]
        if extra:
            raise SpecError(f"'{kind}' takes no option '{extra[0]}=' in '{spec}'."
                            + (f" Options: {', '.join(allowed_options)}." if allowed_options else ""))
        if constraints and not allow_constraints:
            m, op, v = constraints[0]
            raise SpecError(f"'{kind}' takes no constraint like '{m}{op}{v:g}' in '{spec}'.")
        if len(words) > allow_words:
            raise SpecError(f"Unexpected '{words[allow_words]}' in '{spec}'.")

    if kind == "max-f1":
        reject_extra()
        return MaxFBeta(1.0)
    if kind == "max-fbeta":
        reject_extra(("beta",))
        beta = number(options.get("beta", "1"), "beta", spec)
        if beta <= 0:
            raise SpecError(f"beta must be > 0 in '{spec}'; got {beta:g}. beta=2 weighs recall twice as much as precision.")
        return MaxFBeta(beta)
    if kind == "youden":
        reject_extra()
        return Youden()
    if kind == "fixed":
        reject_extra(allow_words=1)
        if not words:
            raise SpecError(f"'fixed' needs a threshold, e.g. 'fixed 0.5'; got '{spec}'.")
        return Fixed(number(words[0], "the threshold", spec))
    if kind == "min-cost":
        reject_extra(("fn", "fp", "tp", "tn"))
        if "fn" not in options and "fp" not in options:
            raise SpecError(f"'min-cost' needs the costs, e.g. 'min-cost fn=10 fp=1'; got '{spec}'.")
        costs = {}
        for key in ("fn", "fp", "tp", "tn"):
            raw = options.get(key, "1" if key in ("fn", "fp") else "0")
            if raw[0].isalpha() or raw[0] == "_":
                costs[key] = raw  # a column of per-case costs
                continue
            value = number(raw, f"{key}=", spec)
            if value < 0:
                what = "cost" if key in ("fn", "fp") else "gain"
                raise SpecError(f"{key}= is a {what} per case and must be >= 0 in '{spec}'; got {value:g}.")
            costs[key] = value
        return MinCost(**costs)
    if kind == "budget":
        reject_extra(("per", "time", "stat"), allow_constraints=True)
        if len(constraints) != 1 or constraints[0][0] not in ("rate", "count") or constraints[0][1] not in ("<=", "<"):
            raise SpecError(f"'budget' needs one capacity: 'budget rate<=0.02' or 'budget count<=500'; got '{spec}'.")
        what, _, value = constraints[0]
        if what == "rate":
            if not 0 < value <= 1:
                raise SpecError(f"rate must be in (0, 1] in '{spec}'; got {value:g} (0.02 means 2% of cases).")
            if options:
                raise SpecError(f"per=/time= go with count<=N, not rate<=R, in '{spec}'.")
            return Budget(rate=value)
        if value < 1:
            raise SpecError(f"count must be >= 1 in '{spec}'; got {value:g}.")
        per = options.get("per")
        if per is not None:
            if per not in ("hour", "day", "week"):
                raise SpecError(f"per= must be hour, day or week in '{spec}'; got '{per}'.")
            if "time" not in options:
                raise SpecError(f"per={per} needs the timestamp column: add time=COLUMN to '{spec}'.")
        stat = options.get("stat", "mean")
        if stat not in ("mean", "max"):
            raise SpecError(f"stat= must be mean or max in '{spec}'; got '{stat}'.")
        return Budget(count=value, per=per, time=options.get("time"), stat=stat)
    if kind.startswith(("max-", "min-")):
        sense, target = kind[:3], metric_name(kind[4:], spec)
        reject_extra(("confidence",), allow_constraints=True)
        parsed = []
        for metric, op, value in constraints:
            metric = metric_name(metric, spec)
            if metric in UNIT_METRICS and not 0 <= value <= 1:
                raise SpecError(f"{metric} is a fraction in [0, 1]; got {value:g} in '{spec}'. Write 95% as 0.95.")
            parsed.append((metric, op, value))
        confidence = None
        if "confidence" in options:
            confidence = number(options["confidence"], "confidence", spec)
            if not 0 < confidence < 1:
                raise SpecError(f"confidence must be in (0, 1) in '{spec}'; got {confidence:g}.")
            for metric, _, _ in parsed:
                if metric not in PROPORTIONS:
                    raise SpecError(f"confidence= needs proportion constraints (precision, recall, ...); "
                                    f"'{metric}' has no binomial bound in '{spec}'.")
        return Constrained(target, sense, tuple(parsed), confidence)
    raise unknown_kind(kind, spec)
