"""Binned evaluation of a stream: one pass, O(bins) memory per segment, errors reported.

Areas (ROC AUC, AP) come from the binned curve with worst-case bounds that contain the exact
values; the confusion matrix at the requested threshold is counted exactly in the same pass.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from thresher.data.columns import segment_names
from thresher.data.stream import BatchLabels, BatchSegments
from thresher.data.validate import clean_score, clean_weight
from thresher.errors import InputError
from thresher.kernels.binned import bin_edges, binned_counts
from thresher.metrics.binned import BinnedCounts, checked_range
from thresher.metrics.confusion import Confusion
from thresher.metrics.evaluate import Evaluation, Summary
from thresher.params import Interval, check
from thresher.scale.sources import open_source


class _State:
    def __init__(self, edges):
        self.counts = BinnedCounts(edges, np.zeros(len(edges) - 1), np.zeros(len(edges) - 1))
        self.rows = 0
        self.above = np.zeros(2)  # positive, negative weight with score >= threshold

    def add(self, y, s, w, edges, threshold):
        pos, neg = binned_counts(y, s, edges, w)
        self.counts = self.counts.merge(BinnedCounts(edges, pos, neg))
        flagged = s >= threshold
        weights = np.ones(len(s)) if w is None else w
        self.above += [weights[flagged & (y == 1)].sum(), weights[flagged & (y == 0)].sum()]
        self.rows += len(s)

    def summary(self, threshold) -> Summary:
        curve = self.counts.curve()
        tp, fp = self.above
        confusion = Confusion(float(threshold), float(tp), float(fp), curve.negatives - float(fp),
                              curve.positives - float(tp))
        return Summary(self.rows, curve, confusion)


def evaluate(source=None, *, label: str, score: str, weight: str | None = None, by=None, pos_label=None,
             threshold: float = 0.5, bins: int = 1024, range: tuple[float, float] = (0.0, 1.0),
             sql: str | None = None, database: str | None = None) -> Evaluation:
    """One-pass binned evaluation; ``summary.curve.roc_auc_bounds()`` etc. bound the exact values.

    >>> import tempfile, os, pyarrow as pa, pyarrow.parquet as pq
    >>> path = os.path.join(tempfile.mkdtemp(), "s.parquet")
    >>> pq.write_table(pa.table({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.35, 0.8]}), path)
    >>> lo, hi = evaluate(path, label="y", score="p", bins=10).overall.curve.roc_auc_bounds()
    >>> lo <= 0.75 <= hi
    True
    """
    check(bins, "bins", "binned evaluate", Interval(1, None, integer=True))
    src = open_source(source, sql=sql, database=database)
    names = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    edges = bin_edges(*checked_range(range, "binned evaluate"), int(bins))
    labels = BatchLabels(label, pos_label)
    segments = BatchSegments(names)
    overall = _State(edges)
    per: dict[int, _State] = {}
    offset = 0
    for batch in src.batches(list(dict.fromkeys([label, score, *([weight] if weight else []), *names]))):
        table = pa.Table.from_batches([batch])
        y = labels(table.column(label), offset)
        s = clean_score(table.column(score), score, offset)
        w = clean_weight(table.column(weight), weight, offset=offset) if weight else None
        overall.add(y, s, w, edges, threshold)
        if names:
            codes = segments(table)
            for g in np.unique(codes):
                rows = codes == g
                per.setdefault(int(g), _State(edges)).add(y[rows], s[rows], None if w is None else w[rows], edges,
                                                          threshold)
        offset += table.num_rows
    if offset == 0:
        raise InputError(f"{src.describe} has no rows.")
    positive = labels.finish()
    labels_of = segment_names(segments.keys)
    seg = {labels_of[g]: state.summary(threshold) for g, state in sorted(per.items())}
    return Evaluation(overall.summary(threshold), float(threshold), names, seg, positive, weight is not None)
