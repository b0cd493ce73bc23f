"""``evaluate``: overall and per-segment metrics for a labelled, scored dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from thresher.data.columns import Columns
from thresher.data.load import load
from thresher.metrics.confusion import Confusion, _number
from thresher.metrics.curve import Curve


@dataclass(frozen=True, eq=False)
class Summary:
    """Metrics of one set of rows (the whole data or one segment)."""

    n: int
    curve: Curve
    at_threshold: Confusion
    weighted: bool = False

    @property
    def positives(self) -> float:
        return self.curve.positives

    @property
    def negatives(self) -> float:
        return self.curve.negatives

    @property
    def roc_auc(self) -> float:
        return self.curve.roc_auc()

    @property
    def average_precision(self) -> float:
        return self.curve.average_precision()

    @property
    def pr_auc(self) -> float:
        return self.curve.pr_auc()

    def _auc_interval(self, confidence: float = 0.95):
        # DeLong from the counts; weighted or binned data has none (null)
        if self.weighted:
            return None
        _, low, high, _ = self.curve.roc_auc_interval(confidence)
        return None if np.isnan(low) else [low, high]

    @classmethod
    def of(cls, cols: Columns, threshold: float) -> "Summary":
        c = Curve.from_columns(cols)
        return cls(len(cols), c, c.at(threshold), cols.weight is not None)

    def to_dict(self) -> dict:
        out = {
            "n": self.n,
            "positives": _number(self.positives),
            "negatives": _number(self.negatives),
            "roc_auc": _number(self.roc_auc),
            "roc_auc_interval": self._auc_interval(),
            "average_precision": _number(self.average_precision),
            "pr_auc": _number(self.pr_auc),
            "at_threshold": self.at_threshold.to_dict(),
            "exact": self.curve.exact,
        }
        if not self.curve.exact:
            # binned: areas are estimates; these intervals are guaranteed to contain the exact values
            out["roc_auc_bounds"] = [_number(v) for v in self.curve.roc_auc_bounds()]
            out["average_precision_bounds"] = [_number(v) for v in self.curve.average_precision_bounds()]
            # the confusion matrix at the threshold is counted row by row in the same pass: no error
            out["at_threshold_error"] = {"precision": 0.0, "recall": 0.0, "counted": "exactly, in the same pass"}
        return out


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The result of :func:`evaluate`: ``overall`` and one :class:`Summary` per segment."""

    overall: Summary
    threshold: float
    by: tuple[str, ...] = ()
    segments: dict[str, Summary] = field(default_factory=dict)
    pos_label: object = 1
    weighted: bool = False

    def to_dict(self) -> dict:
        """The JSON document of ``thresher evaluate --json`` (keys documented in the README)."""
        out = {"pos_label": self.pos_label, "weighted": self.weighted, "by": list(self.by)}
        out.update(self.overall.to_dict())
        out["segments"] = {name: s.to_dict() for name, s in self.segments.items()}
        return out


def evaluate(data, *, label: str = "label", score: str = "score", weight: str | None = None, by=None,
             pos_label=None, threshold: float = 0.5, progress: bool = False) -> Evaluation:
    """Exact metrics overall and per segment, plus the confusion matrix at ``threshold``.

    ``data`` is a path (CSV, Parquet), a pandas/polars DataFrame, an Arrow table, a dict of
    columns, or already-loaded :class:`~thresher.data.Columns`.

    >>> ev = evaluate({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.35, 0.8]}, label="y", score="p")
    >>> ev.overall.roc_auc, ev.overall.at_threshold.tp
    (0.75, 1.0)
    """
    from thresher.params import Interval, check

    check(threshold, "threshold", "evaluate", Interval(), optional=False)
    if not np.isfinite(threshold):
        check(float("nan"), "threshold", "evaluate", Interval())
    cols = data if isinstance(data, Columns) else load(
        data, label=label, score=score, weight=weight, by=by, pos_label=pos_label, progress=progress)
    overall = Summary.of(cols, threshold)
    segments = {}
    if cols.segments is not None:
        for name, rows in cols.segments.groups():
            segments[name] = Summary.of(cols.take(rows), threshold)
    by_names = cols.segments.names if cols.segments is not None else ()
    return Evaluation(overall, float(threshold), by_names, segments, cols.pos_label, cols.weight is not None)
