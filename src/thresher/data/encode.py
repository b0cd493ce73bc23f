"""Dictionary codes of a column: the building block of segments and rule matching."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def dictionary_codes(values) -> tuple[np.ndarray, list]:
    """``(codes, distinct)``: int64 code per row and the distinct values (``None`` for nulls).

    A dictionary-encoded column is used as it is (no decode and re-hash); its dictionary may then
    hold values that no row uses.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_dictionary(values.type):
        distinct = values.dictionary.to_pylist()
        codes = values.indices.to_numpy(zero_copy_only=False)
        if values.null_count:
            codes = np.where(np.asarray(values.is_null()), len(distinct), np.nan_to_num(codes, nan=0))
            distinct.append(None)
        return codes.astype(np.int64), distinct
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


def combined_codes(columns) -> tuple[np.ndarray, list[tuple]]:
    """One code per row for the combination of several columns, and the combination of each code.

    Only combinations that occur are returned; codes are dense in ``range(len(combinations))``.
    """
    n = len(columns[0])
    codes = np.zeros(n, np.int64)
    distincts = []
    for column in columns:
        c, d = dictionary_codes(column)
        codes = codes * len(d) + c
        distincts.append(d)
    space = int(np.prod([len(d) for d in distincts], dtype=np.float64))
    if space <= 1 << 22:
        # a presence table beats sorting the codes when the combination space is small
        present = np.flatnonzero(np.bincount(codes, minlength=space))
        dense = np.full(space, -1, np.int64)
        dense[present] = np.arange(present.size)
        inverse = dense[codes]
    else:
        present, inverse = np.unique(codes, return_inverse=True)
        inverse = inverse.ravel()
    combos = []
    for code in present:
        values = []
        for d in reversed(distincts):
            values.append(d[int(code % len(d))])
            code //= len(d)
        combos.append(tuple(reversed(values)))
    return inverse, combos
