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
    if cols.weight is not None:
        h.update(b"weight")
        h.update(np.ascontiguousarray(cols.weight, dtype="<f8").tobytes())
    if cols.segments is not None:
        h.update(repr((cols.segments.names, [tuple(map(str, k)) for k in cols.segments.keys])).encode())
        h.update(np.ascontiguousarray(cols.segments.codes, dtype="<i8").tobytes())
    return "sha256:" + h.hexdigest()
