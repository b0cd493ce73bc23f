"""A content hash of the evaluated columns, so evidence and gates can tell when data changed."""

from __future__ import annotations

import hashlib

import numpy as np

from thresher.data.columns import Columns


def fingerprint(cols: Columns) -> str:
    """``sha256:<hex>`` of labels, scores (as float64), weights and segment values, in row order.

    The same rows give the same hash whatever the source format (CSV, Parquet, DataFrame).
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(cols.y, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(cols.score, dtype="<f8").tobytes())
    return _finish(h, cols)


def rows_fingerprint(cols: Columns) -> str:
    """``sha256:<hex>`` of the rows without their scores: row count, labels, weights, segments.

    Two runs of different models on the same golden rows share it (the gate pairs them by it).

    >>> a = Columns(np.array([0, 1], np.uint8), np.array([0.1, 0.9]))
    >>> b = Columns(np.array([0, 1], np.uint8), np.array([0.3, 0.2]))
    >>> rows_fingerprint(a) == rows_fingerprint(b)
    True
    """
    h = hashlib.sha256(b"thresher-rows-v1")
    h.update(np.int64(len(cols)).tobytes())
    h.update(np.ascontiguousarray(cols.y, dtype=np.uint8).tobytes())
    return _finish(h, cols)


def _finish(h, cols: Columns) -> str:
    if cols.weight is not None:
        h.update(b"weight")
        h.update(np.ascontiguousarray(cols.weight, dtype="<f8").tobytes())
    if cols.segments is not None:
        h.update(repr((cols.segments.names, [tuple(map(str, k)) for k in cols.segments.keys])).encode())
        h.update(np.ascontiguousarray(cols.segments.codes, dtype="<i8").tobytes())
    return "sha256:" + h.hexdigest()
