"""The check language: one line of text per check, in the style of the objective specs.

::

    roc_auc >= 0.90                         a threshold-free metric (roc_auc, average_precision, pr_auc)
    recall >= 0.8 at threshold 0.5          a threshold metric at a fixed threshold
    precision >= 0.60 at recall>=0.90       ... at the point chosen by `max-precision recall>=0.90`
    fpr <= 0.05 at recall>=0.9              ... `<=` checks choose by `min-METRIC`: `min-fpr recall>=0.9`
    f1 >= 0.5 at max-f1                     ... at the point chosen by any objective spec
    recall >= 0.95 at policy                ... of the cases the gate's policy flags (any tier reached)
    recall >= 0.9 at policy action=block    ... of the cases the policy sends to `block`
    recall.lower95 >= 0.93 at threshold 0.5 the lower end of the two-sided 95% interval, not the point
    roc_auc.lower >= 0.9                    ... at the gate's confidence level
    per segment: recall >= 0.9 at threshold 0.5    every segment must pass
    roc_auc vs baseline >= -0.005           current minus baseline, judged with a paired test

A metric is any name of :data:`thresher.metrics.rates.METRICS` (aliases such as ``tpr`` too),
``fBETA`` (``f2``, ``f0.5``) or one of :data:`CURVE_METRICS`. Operators: ``>=``, ``>``, ``<=``, ``<``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from thresher.errors import SpecError
from thresher.metrics.rates import ALIASES, METRICS
from thresher.select.objectives import PROPORTIONS, Fixed, Objective, parse as parse_objective
from thresher.select.spec import number

CURVE_METRICS = ("roc_auc", "average_precision", "pr_auc")
SIGNED_METRICS = ("mcc", "youden_j")  # in [-1, 1]; every other metric is a fraction in [0, 1]
OPERATORS = (">=", ">", "<=", "<")
_OBJECTIVE_KINDS = ("max-", "min-", "youden", "budget", "fixed")

_SEGMENT_PREFIX = re.compile(r"^per\s+segment\s*:\s*", re.IGNORECASE)
_LEFT = re.compile(
    r"^(?P<metric>f\d+(?:\.\d+)?|[a-z_][a-z0-9_]*)"
    r"(?:\.(?P<bound>lower|upper)(?P<level>\d+(?:\.\d+)?)?)?"
    r"(?P<baseline>\s+vs\s+baseline)?"
    r"\s*(?P<op>>=|<=|>|<|=>|=<|==|=)\s*(?P<value>\S+)$",
    re.IGNORECASE,
)
_CONSTRAINT_START = re.compile(r"^[a-z_][a-z0-9_]*\s*(>=|<=|>|<)", re.IGNORECASE)
_FBETA = re.compile(r"^f(\d+(?:\.\d+)?)$")
_USUAL_NAMES = {"auc": "roc_auc", "auroc": "roc_auc", "roc": "roc_auc", "ap": "average_precision",
                "auprc": "average_precision"}
SHAPE = ("Write a check as 'METRIC OP NUMBER [at ...]', e.g. 'roc_auc >= 0.9', 'recall >= 0.8 at threshold 0.5', "
         "'precision >= 0.6 at recall>=0.9', 'recall.lower95 >= 0.9 at policy', 'per segment: recall >= 0.9 at "
         "threshold 0.5' or 'roc_auc vs baseline >= -0.005'.")


@dataclass(frozen=True)
class AtThreshold:
    """A fixed threshold: a case is flagged iff ``score >= threshold``."""

    threshold: float

    def spec(self) -> str:
        return f"threshold {self.threshold:g}"


@dataclass(frozen=True)
class AtPolicy:
    """The cases the gate's policy flags: any tier reached, or only tiers with the given actions."""

    actions: tuple[str, ...] = ()

    def spec(self) -> str:
        return "policy" + (f" action={','.join(self.actions)}" if self.actions else "")


@dataclass(frozen=True)
class AtObjective:
    """The operating point an objective chooses on the data (re-chosen on every resample)."""

    objective: Objective

    def spec(self) -> str:
        return self.objective.spec()


At = AtThreshold | AtPolicy | AtObjective


@dataclass(frozen=True)
class Check:
    """One parsed check. ``value op target`` must hold for the check to pass.

    ``bound`` (``"lower"``/``"upper"``) checks an end of the two-sided ``level`` confidence interval
    instead of the point (``level=None``: the gate's confidence). ``baseline`` checks the paired
    difference current - baseline against the margin ``target``. ``per_segment`` applies the check
    to every segment of the dataset.

    >>> parse("precision >= 0.6 at recall>=0.9").at.spec()
    'max-precision recall>=0.9'
    """

    metric: str
    op: str
    target: float
    at: At | None = None
    bound: str | None = None
    level: float | None = None
    baseline: bool = False
    per_segment: bool = False
    text: str = ""

    @property
    def measure(self) -> str:
        """What is measured, without the comparison: ``recall at threshold 0.5``."""
        return self.metric + (f" at {self.at.spec()}" if self.at is not None else "")

    def spec(self) -> str:
        """The canonical text (shorthand operating points written out in full)."""
        left = self.metric
        if self.bound:
            left += f".{self.bound}" + (f"{self.level * 100:g}" if self.level is not None else "")
        if self.baseline:
            left += " vs baseline"
        text = f"{left} {self.op} {self.target:g}" + (f" at {self.at.spec()}" if self.at is not None else "")
        return ("per segment: " if self.per_segment else "") + text

    def __str__(self) -> str:
        return self.text or self.spec()

    @property
    def is_curve_metric(self) -> bool:
        return self.metric in CURVE_METRICS

    @property
    def is_proportion(self) -> bool:
        return self.metric in PROPORTIONS


def known_metrics() -> list[str]:
    return sorted([*CURVE_METRICS, *METRICS, *ALIASES])


def _metric(name: str, text: str) -> str:
    name = name.lower()
    if name in CURVE_METRICS:
        return name
    canonical = ALIASES.get(name, name)
    if canonical in METRICS:
        return canonical
    m = _FBETA.match(name)
    if m and float(m.group(1)) > 0:
        return "f1" if float(m.group(1)) == 1 else f"f{float(m.group(1)):g}"
    close = [_USUAL_NAMES[name]] if name in _USUAL_NAMES else difflib.get_close_matches(name, known_metrics(), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise SpecError(f"Unknown metric '{name}' in '{text}'.{hint} Known metrics: {', '.join(known_metrics())}, "
                    "and fBETA such as f2 or f0.5.")


def _operator(op: str, text: str) -> str:
    fixed = {"=>": ">=", "=<": "<="}.get(op, op)
    if fixed in ("=", "=="):
        raise SpecError(f"'{op}' is not a check operator in '{text}': a measured metric never equals a number "
                        "exactly. Use >=, >, <= or <.")
    return fixed


def _at(clause: str, metric: str, op: str, text: str) -> At:
    words = clause.split()
    head = words[0].lower()
    if head == "policy":
        actions: tuple[str, ...] = ()
        for word in words[1:]:
            key, _, value = word.partition("=")
            if key not in ("action", "actions") or not value:
                raise SpecError(f"Unexpected '{word}' after 'at policy' in '{text}'. Write 'at policy' (any tier "
                                "reached) or 'at policy action=block' (or action=block,review).")
            actions += tuple(a for a in value.split(",") if a)
        return AtPolicy(tuple(dict.fromkeys(actions)))
    if head == "threshold":
        if len(words) != 2:
            raise SpecError(f"'at threshold' needs one number, e.g. 'at threshold 0.5'; got '{clause}' in '{text}'.")
        return AtThreshold(number(words[1], "the threshold", text))
    if head.startswith(_OBJECTIVE_KINDS):
        objective = _objective(clause, text)
    elif _CONSTRAINT_START.match(clause):
        if metric in CURVE_METRICS or metric not in METRICS:
            raise SpecError(f"'at {clause}' in '{text}' chooses the point that is best for the checked metric "
                            f"under the constraint, which needs a metric like precision or recall, not '{metric}'. "
                            f"Write the objective in full instead, e.g. 'at max-fbeta beta=2'.")
        sense = "max" if op in (">=", ">") else "min"
        objective = _objective(f"{sense}-{metric} {clause}", text)
    else:
        raise SpecError(f"Unknown operating point 'at {clause}' in '{text}'. Use 'at threshold T', 'at policy', a "
                        "constraint such as 'at recall>=0.9', or an objective such as 'at max-f1' or "
                        "'at min-cost fn=10 fp=1'.")
    if isinstance(objective, Fixed):
        return AtThreshold(objective.threshold)
    return AtObjective(objective)


def _objective(spec: str, text: str) -> Objective:
    try:
        return parse_objective(spec)
    except SpecError as exc:
        raise SpecError(f"In the operating point of '{text}': {exc}") from None


def _check_target(metric: str, target: float, baseline: bool, text: str) -> None:
    if baseline:
        if not -1 <= target <= 1:
            raise SpecError(f"The margin of a baseline check is a difference of {metric} values, in [-1, 1]; got "
                            f"{target:g} in '{text}'. 'roc_auc vs baseline >= -0.005' allows a drop of 0.005.")
        return
    low = -1 if metric in SIGNED_METRICS else 0
    if not low <= target <= 1:
        raise SpecError(f"{metric} lies in [{low}, 1]; got {target:g} in '{text}'. Write 95% as 0.95.")


def parse(text) -> Check:
    """A :class:`Check` from its text; :class:`~thresher.errors.SpecError` says what is wrong and how to fix it.

    >>> c = parse("per segment: recall.lower95 >= 0.9 at threshold 0.5")
    >>> c.metric, c.bound, c.level, c.per_segment, c.at.threshold
    ('recall', 'lower', 0.95, True, 0.5)
    """
    if isinstance(text, Check):
        return text
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"A check must be a non-empty string; got {text!r}. {SHAPE}")
    original = " ".join(text.split())
    body = original
    per_segment = False
    prefix = _SEGMENT_PREFIX.match(body)
    if prefix:
        per_segment, body = True, body[prefix.end():]
    elif body.lower().startswith("per "):
        raise SpecError(f"'{original}' starts with 'per' but not 'per segment:'. Write 'per segment: CHECK'.")
    parts = re.split(r"\s+at\s+", body, maxsplit=1, flags=re.IGNORECASE)
    left, clause = parts[0], (parts[1] if len(parts) > 1 else "")
    m = _LEFT.match(left.strip())
    if not m:
        raise SpecError(f"Cannot read the check '{original}'. {SHAPE}")
    metric = _metric(m.group("metric"), original)
    op = _operator(m.group("op"), original)
    target = number(m.group("value"), "the bound", original)
    baseline = bool(m.group("baseline"))
    bound = m.group("bound").lower() if m.group("bound") else None
    level = None
    if m.group("level"):
        level = float(m.group("level")) / 100
        if not 0.5 <= level < 1:
            raise SpecError(f"The confidence level of '.{bound}{m.group('level')}' in '{original}' must be a "
                            f"percentage in [50, 100), such as lower95 or lower99.")
    if bound and baseline:
        raise SpecError(f"'{original}' combines a confidence bound with a baseline comparison. A baseline check "
                        "already judges the difference with its confidence interval: drop the bound.")
    at = _at(clause.strip(), metric, op, original) if clause.strip() else None
    if metric in CURVE_METRICS and at is not None:
        raise SpecError(f"{metric} does not depend on a threshold, so it takes no operating point: drop "
                        f"'at {clause.strip()}' from '{original}'.")
    if metric not in CURVE_METRICS and at is None:
        raise SpecError(f"{metric} is measured at an operating point: add 'at threshold 0.5', 'at policy' or a "
                        f"constraint such as 'at precision>=0.9' to '{original}'.")
    _check_target(metric, target, baseline, original)
    return Check(metric, op, target, at, bound, level, baseline, per_segment, original)


def compare(value: float, op: str, target: float) -> bool:
    """``value op target``; an undefined (NaN) value never passes."""
    if value != value:
        return False
    return {">=": value >= target, ">": value > target, "<=": value <= target, "<": value < target}[op]
