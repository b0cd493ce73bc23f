"""Validating data that arrives in batches: labels and segment codes consistent across batches."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.data.encode import combined_codes
from thresher.data.validate import _BINARY_DEFAULTS, _describe, _match_pos_label, clean_score
from thresher.errors import InputError


class BatchLabels:
    """Turn each batch's label column into uint8 (1 = positive), checking binarity across batches."""

    def __init__(self, name: str, pos_label=None):
        self.name = name
        self.pos_label = pos_label
        self.seen: set = set()
        self.positive = None

    def __call__(self, values, offset: int) -> np.ndarray:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if values.null_count:
            row = offset + int(np.flatnonzero(np.asarray(values.is_null()))[0])
            raise InputError(f"The label column '{self.name}' has missing values (first at row {row}). Every row "
                             "needs a label: drop unlabelled rows first.")
        if pa.types.is_floating(values.type) and pc.any(pc.is_nan(values)).as_py():
            raise InputError(f"The label column '{self.name}' has NaN values. Every row needs a label.")
        arr = values.to_numpy(zero_copy_only=False) if pa.types.is_integer(values.type) else None
        low = high = None
        if arr is not None and arr.size:
            low, high = int(arr.min()), int(arr.max())
        if low is not None and 0 <= low and high <= 1:
            self.seen.update({low, high})  # 0/1 integers: no hashing
        else:
            self.seen.update(pc.unique(values).to_pylist())
        if len(self.seen) > 2:
            raise InputError(f"The label column '{self.name}' has more than two distinct values "
                             f"({_describe(sorted(self.seen, key=str)[:6])}); thresher needs binary labels.")
        if self.positive is None:
            self.positive = self._positive()
        if self.positive is None:  # not seen yet in this batch stream: nothing is positive so far
            return np.zeros(len(values), np.uint8)
        if arr is not None and low is not None and 0 <= low and high <= 1 and self.positive == 1:
            return arr.view(np.uint8) if arr.dtype in (np.int8, np.uint8) else (arr == 1).view(np.uint8)
        return pc.equal(values, pa.scalar(self.positive, type=values.type)).to_numpy(
            zero_copy_only=False).view(np.uint8)

    def _positive(self):
        if self.pos_label is None:
            if not any(self.seen <= allowed for allowed in _BINARY_DEFAULTS):
                raise InputError(f"The label column '{self.name}' holds {_describe(sorted(self.seen, key=str))}; say "
                                 "which value is the positive class with pos_label= (CLI: --pos-label).")
            return True if any(isinstance(v, bool) for v in self.seen) else 1
        return _match_pos_label(list(self.seen), self.pos_label)

    def finish(self) -> object:
        if self.pos_label is not None and _match_pos_label(list(self.seen), self.pos_label) is None:
            raise InputError(f"pos_label {self.pos_label!r} never occurs in the label column '{self.name}' (values: "
                             f"{_describe(sorted(self.seen, key=str))}). Check the spelling.")
        return self.positive if self.positive is not None else (self.pos_label if self.pos_label is not None else 1)


class BatchSegments:
    """Global segment codes for batches (a batch's own dictionary is mapped onto the global one)."""

    def __init__(self, names):
        self.names = tuple(names)
        self.index: dict[tuple, int] = {}
        self.keys: list[tuple] = []

    def __call__(self, table: pa.Table) -> np.ndarray:
        if not self.names:
            return np.zeros(table.num_rows, np.int64)
        inverse, combos = combined_codes([table.column(name) for name in self.names])
        mapping = np.empty(len(combos), np.int64)
        for i, key in enumerate(combos):
            if key not in self.index:
                self.index[key] = len(self.keys)
                self.keys.append(key)
            mapping[i] = self.index[key]
        return mapping[inverse]
