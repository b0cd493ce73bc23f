"""From any source to validated :class:`Columns`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from thresher.data.columns import Columns, Segments
from thresher.data.encode import combined_codes
from thresher.data.read import _as_arrow, read_table
from thresher.data.validate import clean_label, clean_score, clean_weight
from thresher.errors import InputError


def _segment_names(by) -> tuple[str, ...]:
    if by is None:
        return ()
    if isinstance(by, str):
        return tuple(b.strip() for b in by.split(",") if b.strip())
    return tuple(by)


def _segments(table: pa.Table, names: Sequence[str]) -> Segments:
    codes, combos = combined_codes([table.column(n) for n in names])
    # groups in order of first appearance, so output follows the data
    first = np.full(len(combos), len(codes), np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return Segments(tuple(names), rank[codes], [combos[g] for g in order])


def columns_from_table(table: pa.Table, *, label: str, score: str, weight=None, by=(), pos_label=None,
                       extra=()) -> Columns:
    """Validate an Arrow table (already restricted to the needed columns)."""
    if table.num_rows == 0:
        raise InputError("The data has no rows. Check the file or the filter that produced it.")
    y, positive = clean_label(table.column(label), label, pos_label)
    s = clean_score(table.column(score), score)
    w = clean_weight(table.column(weight), weight) if weight else None
    segments = _segments(table, by) if by else None
    kept = {name: table.column(name).combine_chunks() for name in extra}
    return Columns(y, s, w, segments, positive, kept)


def load(data, *, label: str, score: str, weight: str | None = None, by=None, pos_label=None,
         extra=(), progress: bool = False) -> Columns:
    """Read and validate labels, scores, optional weights and segments from any supported source.

    >>> cols = load({"y": [0, 1, 1], "p": [0.2, 0.9, 0.4]}, label="y", score="p")
    >>> cols.y.tolist(), cols.score.tolist()
    ([0, 1, 1], [0.2, 0.9, 0.4])
    """
    names = _segment_names(by)
    wanted = list(dict.fromkeys([label, score, *([weight] if weight else []), *names, *extra]))
    table = read_table(data, wanted, progress=progress)
    return columns_from_table(table, label=label, score=score, weight=weight, by=names, pos_label=pos_label,
                              extra=tuple(extra))


def from_arrays(y_true, y_score, sample_weight=None, pos_label=None) -> Columns:
    """Validate the array form ``(y_true, y_score, sample_weight)`` used by the metric functions."""
    arrays = {"y_true": _as_arrow(y_true, "y_true"), "y_score": _as_arrow(y_score, "y_score")}
    if sample_weight is not None:
        arrays["sample_weight"] = _as_arrow(sample_weight, "sample_weight")
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise InputError(f"Inconsistent lengths: {shown}. Pass one label, score (and weight) per row.")
    table = pa.table(arrays)
    weight = "sample_weight" if sample_weight is not None else None
    return columns_from_table(table, label="y_true", score="y_score", weight=weight, pos_label=pos_label)
