"""Random and adversarial cases for the reference tests (imported by the test modules).

Each case cycles through score kinds (ties, float32, ints, constants, mixed signs, signed zeros),
label kinds (0/1, -1/1, booleans, strings with pos_label, 0.0/1.0, 1/2 with pos_label), weights
(none, real with zeros, integer with zeros) and sizes (mostly small, with n = 1 and n = 2 and
forced single-class cases), so every chunk of consecutive indices covers every kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings

SCORE_KINDS = (
    "uniform64",  # all distinct, radix path with 16-bit digits
    "ties64",  # rounded to one decimal: heavy ties
    "ties32",  # float32 heavy ties
    "uniform32",
    "ints",  # integer scores (become float64)
    "constant",
    "logits64",  # mixed signs over a wide key span: comparison-sort fallback
    "signed32",  # float32 of both signs with ties
    "negative64",  # all negative float64: radix path with sign-folded keys
    "zeros",  # -0.0 and 0.0 (one threshold), tiny values of both signs
)

LABEL_KINDS = ("01", "pm1", "bool", "str", "float01", "12")


@dataclass
class Case:
    y: np.ndarray  # labels as passed to thresher
    s: np.ndarray
    w: np.ndarray | None
    pos_label: object  # what thresher gets (None: its default)
    positive: object  # the positive label value (what scikit-learn gets)
    desc: str

    @property
    def y01(self) -> np.ndarray:
        return (self.y == self.positive).astype(np.int64)

    @property
    def weights(self) -> np.ndarray:
        return np.ones(len(self.s)) if self.w is None else self.w

    @property
    def pos_weight(self) -> float:
        return float(self.weights[self.y01 == 1].sum())

    @property
    def neg_weight(self) -> float:
        return float(self.weights[self.y01 == 0].sum())

    @property
    def kwargs(self) -> dict:
        return {"sample_weight": self.w, "pos_label": self.pos_label}

    def __repr__(self) -> str:  # shown when an assertion fails
        return (f"Case({self.desc}, y={self.y.tolist()!r}, s={self.s.tolist()!r} ({self.s.dtype}), "
                f"w={None if self.w is None else self.w.tolist()!r}, pos_label={self.pos_label!r})")


def _scores(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform64":
        return rng.random(n)
    if kind == "ties64":
        return np.round(rng.random(n), 1)
    if kind == "ties32":
        return np.round(rng.random(n), 1).astype(np.float32)
    if kind == "uniform32":
        return rng.random(n).astype(np.float32)
    if kind == "ints":
        return rng.integers(-3, 4, n)
    if kind == "constant":
        return np.full(n, rng.choice([0.5, -2.0, 0.0, 7.0]))
    if kind == "logits64":
        return rng.normal(0, 4, n)
    if kind == "signed32":
        return np.round(rng.normal(0, 2, n), 1).astype(np.float32)
    if kind == "negative64":
        return -rng.random(n) * 10
    if kind == "zeros":
        return rng.choice(np.array([-0.0, 0.0, 1e-300, -1e-300, 5e-324, 0.25]), n)
    raise AssertionError(kind)


def _labels(kind: str, y01: np.ndarray):
    """(labels, pos_label for thresher, positive value)."""
    if kind == "01":
        return y01.astype(np.int64), None, 1
    if kind == "pm1":
        return np.where(y01 == 1, 1, -1), None, 1
    if kind == "bool":
        return y01.astype(bool), None, True
    if kind == "str":
        return np.where(y01 == 1, "spam", "ham"), "spam", "spam"
    if kind == "float01":
        return y01.astype(np.float64), None, 1.0
    if kind == "12":
        return np.where(y01 == 1, 2, 1), 2, 2
    raise AssertionError(kind)


def make_case(i: int, seed: int = 0) -> Case:
    """Case number ``i``; deterministic in ``(i, seed)``."""
    rng = np.random.default_rng([seed, i])
    score_kind = SCORE_KINDS[i % len(SCORE_KINDS)]
    label_kind = LABEL_KINDS[(i // len(SCORE_KINDS)) % len(LABEL_KINDS)]
    if i % 17 == 0:
        n = 1
    elif i % 17 == 1:
        n = 2
    else:
        n = int(rng.integers(3, 41))
    y01 = rng.integers(0, 2, n)
    if i % 13 == 0:
        y01[:] = 0  # no positives
    elif i % 13 == 1:
        y01[:] = 1  # no negatives
    if label_kind in ("str", "12") and not y01.any():
        y01[0] = 1  # an explicit pos_label must occur in the column
    y, pos_label, positive = _labels(label_kind, y01)
    s = _scores(score_kind, n, rng)
    weight_kind = i % 3
    if weight_kind == 0:
        w = None
    elif weight_kind == 1:
        w = rng.random(n) * 3
        w[rng.random(n) < 0.2] = 0.0  # zero-weight rows leave the thresholds
    else:
        w = rng.integers(0, 4, n).astype(np.float64)
    if w is not None and not (w > 0).any():
        w[0] = 1.0
    desc = f"#{i} {score_kind}/{label_kind}/{['unweighted', 'weighted', 'int-weighted'][weight_kind]} n={n}"
    return Case(y, s, w, pos_label, positive, desc)


def pick_threshold(case: Case, rng: np.random.Generator) -> float:
    """A threshold at a score, between two scores, or outside the range of scores."""
    distinct = np.unique(case.s.astype(np.float64))
    kind = rng.integers(0, 4)
    if kind == 0 or len(distinct) == 1 and kind == 1:
        return float(rng.choice(distinct))
    if kind == 1:
        k = int(rng.integers(0, len(distinct) - 1))
        return float((distinct[k] + distinct[k + 1]) / 2)
    if kind == 2:
        return float(distinct[0] - 1.0)
    return float(distinct[-1] + 1.0)


# hypothesis settings for these tests: no deadline (a kernel's first call may load it from numba's cache)
HYPOTHESIS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                      print_blob=True)
