"""Column checks. Each takes an Arrow array and the column's name, and returns a clean numpy array
or raises :class:`~thresher.errors.InputError` naming the column, the first bad row and a fix."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.errors import InputError

_BINARY_DEFAULTS = ({0, 1}, {-1, 1}, {False, True})


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _to_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _check_nulls(values: pa.Array, name: str, what: str, fix: str, offset: int = 0) -> None:
    if values.null_count:
        row = offset + _first_row(np.asarray(values.is_null()))
        raise InputError(
            f"The {what} column '{name}' has {values.null_count} missing value(s) (first at row {row}). {fix}"
        )


def _numeric(values: pa.Array, name: str, what: str) -> np.ndarray:
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.dictionary_decode()
        t = values.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)):
        raise InputError(
            f"The {what} column '{name}' holds {t} values; it must hold numbers. "
            f"Check that '{name}' is the right column, or convert it to numbers first."
        )
    if pa.types.is_decimal(t) or pa.types.is_boolean(t):
        values = values.cast(pa.float64())
    return values.to_numpy(zero_copy_only=False)


def clean_score(values, name: str, offset: int = 0) -> np.ndarray:
    """Finite float32/float64 scores; float32 is kept (half the memory), integers become float64.

    ``offset`` is added to row numbers in messages (for data read in batches)."""
    values = _to_array(values)
    _check_nulls(values, name, "score", "Drop or impute those rows before evaluating.", offset)
    s = _numeric(values, name, "score")
    if s.dtype == np.float16:
        s = s.astype(np.float32)
    elif s.dtype not in (np.float32, np.float64):
        s = s.astype(np.float64)
    # one pass: a sum propagates NaN and inf without allocating a mask (a finite sum proves every score
    # finite); min/max confirm the rare overflowing sum, and a mask is built only to report
    with np.errstate(over="ignore", invalid="ignore"):
        total = s.sum() if s.size else 0.0
    if not np.isfinite(total) and not (np.isfinite(s.min()) and np.isfinite(s.max())):
        bad = ~np.isfinite(s)
        row = offset + _first_row(bad)
        kinds = sorted({"NaN" if np.isnan(v) else ("+inf" if v > 0 else "-inf") for v in s[bad][:1000]})
        raise InputError(
            f"The score column '{name}' has {int(bad.sum())} non-finite value(s) ({', '.join(kinds)}; "
            f"first at row {row}). Scores must be finite numbers: drop those rows or fix the model output."
        )
    return s


def clean_weight(values, name: str, what: str = "weight", offset: int = 0) -> np.ndarray:
    """Finite, non-negative float64 sample weights (or per-case costs: ``what="cost"``).

    ``offset`` is added to row numbers in messages (for data read in batches)."""
    values = _to_array(values)
    _check_nulls(values, name, what, f"Give every row a {what} (0 is allowed).", offset)
    w = np.asarray(_numeric(values, name, what), dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = _first_row(bad)
        raise InputError(
            f"The {what} column '{name}' has {int(bad.sum())} negative or non-finite value(s) "
            f"(first at row {offset + row}: {w[row]!r}). {what.capitalize()}s must be finite and >= 0."
        )
    return w


def _describe(values: list) -> str:
    return ", ".join(repr(v) for v in values)


def _match_pos_label(distinct: list, pos_label):
    for v in distinct:
        if v == pos_label or str(v) == str(pos_label):
            return v
    return None


def _binary_integers(values: pa.Array):
    """``(array, distinct)`` when ``values`` are integers within {0, 1}; otherwise None."""
    if not pa.types.is_integer(values.type) or values.null_count or len(values) == 0:
        return None
    arr = values.to_numpy(zero_copy_only=False)
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high > 1:
        return None
    return arr, sorted({low, high})


def clean_label(values, name: str, pos_label=None) -> tuple[np.ndarray, object]:
    """Binary labels as uint8 (1 = positive) and the positive value actually used.

    ``pos_label=None`` means 1 (or True) when the labels are 0/1, -1/1 or booleans; any other
    labels need an explicit ``pos_label``, which must occur in the column.
    """
    values = _to_array(values)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    _check_nulls(values, name, "label", "Every row needs a label: drop unlabelled rows first.")
    if pa.types.is_floating(values.type):
        nan = np.isnan(values.to_numpy(zero_copy_only=False))
        if nan.any():
            raise InputError(
                f"The label column '{name}' has {int(nan.sum())} NaN value(s) (first at row {_first_row(nan)}). "
                "Every row needs a label: drop unlabelled rows first."
            )
    fast = _binary_integers(values)
    if fast is not None and pos_label is None:
        # 0/1 integer labels: no hashing, and uint8/int8 input is used without a copy
        arr, distinct = fast
        y = arr.view(np.uint8) if arr.dtype in (np.int8, np.uint8) else (arr == 1).view(np.uint8)
        return y, 1
    distinct = pc.unique(values).to_pylist()
    if len(distinct) > 2:
        shown = _describe(sorted(distinct, key=str)[:6]) + (", ..." if len(distinct) > 6 else "")
        raise InputError(
            f"The label column '{name}' has {len(distinct)} distinct values ({shown}); thresher needs "
            "binary labels. For a multiclass column pick one class as positive and map the rest to "
            "negative (one-vs-rest), or check that this is the label column."
        )
    if pos_label is None:
        if not any(set(distinct) <= allowed for allowed in _BINARY_DEFAULTS):
            raise InputError(
                f"The label column '{name}' holds {_describe(sorted(distinct, key=str))}; say which value is "
                f"the positive class with pos_label= (CLI: --pos-label {sorted(distinct, key=str)[-1]!s})."
            )
        positive = True if distinct and isinstance(distinct[0], bool) else 1
    else:
        positive = _match_pos_label(distinct, pos_label)
        if positive is None:
            raise InputError(
                f"pos_label {pos_label!r} never occurs in the label column '{name}' (values: "
                f"{_describe(sorted(distinct, key=str))}). Check the spelling, or pick one of those values."
            )
    y = pc.equal(values, pa.scalar(positive, type=values.type)).to_numpy(zero_copy_only=False)
    return y.view(np.uint8) if y.dtype == np.bool_ else y.astype(np.uint8), positive
