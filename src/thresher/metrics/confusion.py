"""The confusion matrix at one threshold, with every metric as a property."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.metrics import rates


class MetricsMixin:
    """Every metric of :data:`rates.METRICS` as a property over ``tp, fp, tn, fn`` (scalars or arrays)."""

    tp: float
    fp: float
    tn: float
    fn: float

    def f_beta(self, beta: float = 1.0):
        """F-beta: beta > 1 weighs recall higher, beta < 1 precision."""
        from thresher.params import POSITIVE, check

        check(beta, "beta", "f_beta", POSITIVE)
        return rates.f_beta(self.tp, self.fp, self.tn, self.fn, beta)

    def metric(self, name: str):
        """A metric by name (``"recall"``, ``"sensitivity"``, ``"f2"``, ...)."""
        name = rates.ALIASES.get(name, name)
        if name in rates.METRICS:
            return rates.METRICS[name](self.tp, self.fp, self.tn, self.fn)
        if name.startswith("f") and name[1:].replace(".", "", 1).isdigit():
            return self.f_beta(float(name[1:]))
        from thresher.errors import ParameterError

        known = ", ".join(sorted([*rates.METRICS, *rates.ALIASES]))
        raise ParameterError(f"Unknown metric '{name}'. Known metrics: {known}, and fBETA such as f2 or f0.5.")


def _metric_property(name, formula):
    def get(self):
        return formula(self.tp, self.fp, self.tn, self.fn)

    get.__doc__ = f"{name.replace('_', ' ')} ({formula.__module__}.{formula.__name__}); NaN when undefined."
    return property(get)


for _name, _formula in rates.METRICS.items():
    setattr(MetricsMixin, _name, _metric_property(_name, _formula))
for _alias, _target in rates.ALIASES.items():
    setattr(MetricsMixin, _alias, _metric_property(_alias, rates.METRICS[_target]))


def _number(v: float):
    """JSON-friendly number: integral counts as int, NaN as None."""
    v = float(v)
    if np.isnan(v):
        return None
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


@dataclass(frozen=True)
class Confusion(MetricsMixin):
    """Confusion counts at ``threshold`` (a case is predicted positive iff ``score >= threshold``).

    >>> c = Confusion(0.5, tp=8, fp=2, tn=85, fn=5)
    >>> round(c.precision, 3), round(c.recall, 3)
    (0.8, 0.615)
    """

    threshold: float
    tp: float
    fp: float
    tn: float
    fn: float

    @property
    def positives(self) -> float:
        return self.tp + self.fn

    @property
    def negatives(self) -> float:
        return self.tn + self.fp

    @property
    def n(self) -> float:
        return self.tp + self.fp + self.tn + self.fn

    def matrix(self) -> np.ndarray:
        """``[[tn, fp], [fn, tp]]``, the layout of ``sklearn.metrics.confusion_matrix``."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])

    def to_dict(self, metrics=("precision", "recall", "f1", "specificity", "alert_rate")) -> dict:
        out = {"threshold": _number(self.threshold)}
        out.update({k: _number(getattr(self, k)) for k in ("tp", "fp", "tn", "fn")})
        out.update({m: _number(self.metric(m)) for m in metrics})
        return out
