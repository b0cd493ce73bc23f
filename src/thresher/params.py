"""Parameter checks declared as data next to the function that uses them.

Message shape (as scikit-learn's): "The 'beta' parameter of f_beta must be a float > 0. Got -1 instead."
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from thresher.errors import ParameterError


@dataclass(frozen=True)
class Interval:
    """A real number in an interval; ``None`` bounds are open-ended."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"
    integer: bool = False

    def describe(self) -> str:
        kind = "an int" if self.integer else "a float"
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return f"{kind} in the range {'[' if left else '('}{self.low}, {self.high}{']' if right else ')'}"
        if self.low is not None:
            return f"{kind} {'>=' if left else '>'} {self.low}"
        if self.high is not None:
            return f"{kind} {'<=' if right else '<'} {self.high}"
        return kind

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not float(value).is_integer():
            return False
        if math.isnan(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not right)):
            return False
        return True


def check(value, name: str, owner: str, constraint: Interval, *, optional: bool = False):
    """Return ``value`` if it satisfies ``constraint``, else raise :class:`ParameterError`."""
    if value is None and optional:
        return None
    if not constraint.accepts(value):
        extra = " or None" if optional else ""
        raise ParameterError(
            f"The '{name}' parameter of {owner} must be {constraint.describe()}{extra}. Got {value!r} instead."
        )
    return value


POSITIVE = Interval(0, None, closed="right")
PROBABILITY_OPEN_LEFT = Interval(0, 1, closed="right")
UNIT = Interval(0, 1)
