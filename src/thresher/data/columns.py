"""The clean, validated columns every later layer works on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def segment_names(keys) -> list[str]:
    """Readable, unique names for segment keys (tuples of column values).

    The value itself, or ``a|b`` for several columns, with a missing value shown as ``(missing)``.
    Keys whose readable names would collide (``("x|y", "z")`` and ``("x", "y|z")``, or a missing value
    and the text "(missing)") are named by their Python repr instead, so no segment hides another.

    >>> segment_names([("yes",), (None,)])
    ['yes', '(missing)']
    >>> segment_names([("x|y", "z"), ("x", "y|z")])
    ["('x|y', 'z')", "('x', 'y|z')"]
    """
    plain = ["|".join("(missing)" if v is None else str(v) for v in key) for key in keys]
    counts: dict[str, int] = {}
    for name in plain:
        counts[name] = counts.get(name, 0) + 1
    return [name if counts[name] == 1 else repr(key if len(key) > 1 else key[0])
            for name, key in zip(plain, keys)]


@dataclass(frozen=True)
class Segments:
    """Rows grouped by the values of one or more segment columns.

    ``codes[i]`` is the group of row ``i``; ``keys[g]`` is the tuple of column values of group ``g``.
    """

    names: tuple[str, ...]
    codes: np.ndarray
    keys: list[tuple]

    def label(self, g: int) -> str:
        """Unique readable name of group ``g`` (see :func:`segment_names`)."""
        return segment_names(self.keys)[g]

    def groups(self):
        """Yield ``(label, row_indices)`` per group, groups in order of first appearance."""
        order = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[order], np.arange(len(self.keys) + 1))
        names = segment_names(self.keys)
        for g in range(len(self.keys)):
            yield names[g], order[bounds[g] : bounds[g + 1]]


@dataclass(frozen=True)
class Columns:
    """Validated data: ``y`` is uint8 (1 = positive), ``score`` float32/float64 and finite,
    ``weight`` float64 >= 0 or None, ``segments`` or None. ``extra`` holds further columns an
    objective asked for (per-case costs, timestamps) as Arrow arrays, validated where they are used."""

    y: np.ndarray
    score: np.ndarray
    weight: np.ndarray | None = None
    segments: Segments | None = None
    pos_label: object = 1
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.score.shape[0])

    def take(self, rows: np.ndarray) -> "Columns":
        """The subset of rows (no segments)."""
        w = None if self.weight is None else self.weight[rows]
        extra = {k: v.take(rows) for k, v in self.extra.items()}
        return Columns(self.y[rows], self.score[rows], w, None, self.pos_label, extra)
