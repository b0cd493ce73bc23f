"""What runs on one partition of a distributed frame: an Arrow table in, a small Arrow table out.

Exact counts over a frame split across machines take three passes, each a pure function of one
partition (Spark ``mapInArrow``, Dask ``map_partitions``); :mod:`thresher.scale.plan` and
:mod:`thresher.scale.distributed` are the driver's side.

1. :func:`histogram`: rows, weight and per-case amounts per (segment, label value, score bucket).
   A bucket is a fixed range of the score's order-preserving integer key (its top 16 bits for
   float32, 20 for float64), so buckets of different partitions line up without a shuffle. The
   driver aggregates this small table: it gives the labels, the totals and where to cut each
   segment's score range into *units* whose offsets (the weight of every unit above) are known.
2. :func:`partial_counts`: per distinct score of the partition and segment, its positive and
   negative weight (thresher's counting kernel), tagged with its unit; shuffled by unit.
3. :func:`thresher.scale.units.unit_summary`: every partial count of one unit, merged by score
   and made cumulative from the unit's offset: exact absolute counts at each of the unit's
   thresholds. Only area contributions and a few points leave the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from thresher.data.encode import combined_codes
from thresher.data.validate import clean_label, clean_score, clean_weight
from thresher.errors import InputError
from thresher.kernels.counts import exact_counts
from thresher.select.objectives import Objective

CHUNK_ROWS = 1 << 21  # rows counted at once: bounds worker memory whatever the partition size


@dataclass(frozen=True)
class Spec:
    """Which columns hold what (``amounts``: per-case cost columns an objective names)."""

    label: str
    score: str
    weight: str | None = None
    by: tuple[str, ...] = ()
    amounts: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys([self.label, self.score, *([self.weight] if self.weight else []), *self.by,
                                   *self.amounts]))


@dataclass(frozen=True)
class Task:
    """What the unit pass keeps: points to locate (``queries``: thresholds for every group, or per
    group in ``group_queries``), the objective whose best candidates to keep, and optionally only
    some groups (``groups``)."""

    queries: tuple[float, ...] = ()
    objective: Objective | None = None
    group_queries: dict | None = None
    groups: frozenset | None = None

    def queries_of(self, group: int) -> tuple[float, ...]:
        if self.group_queries is not None:
            return tuple(self.group_queries.get(group, ())) + self.queries
        return self.queries


# columns ----------------------------------------------------------------------------------------
def score_buckets(score: np.ndarray) -> np.ndarray:
    """Bucket of each score: the top bits of its order-preserving integer key (monotone in the score)."""
    if score.dtype == np.float32:
        bits, mask, shift = score.view(np.int32).astype(np.int64), 0x7FFFFFFF, 16
    else:
        bits, mask, shift = score.view(np.int64), 0x7FFFFFFFFFFFFFFF, 44
    key = np.where(bits < 0, bits ^ mask, bits)
    key[score == 0] = 0  # -0.0 joins +0.0
    return key >> shift


def checked_labels(values, name: str) -> tuple[pa.Array, pa.Array]:
    """The label column and its distinct values (at most two); raises thresher's message otherwise."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    distinct = pc.unique(values)
    nan = pa.types.is_floating(values.type) and pc.any(pc.is_nan(values)).as_py()
    if values.null_count or nan or len(distinct) > 2:
        clean_label(values, name)  # raises the single-machine message
    return values, distinct


def positive_flags(values, positive) -> np.ndarray:
    """uint8 1 where the label equals the positive value the driver resolved."""
    values, _ = checked_labels(values, "label")
    y = pc.equal(values, pa.scalar(positive, type=values.type)).to_numpy(zero_copy_only=False)
    return y.view(np.uint8)


def _weights(table: pa.Table, spec: Spec):
    weight = clean_weight(table.column(spec.weight), spec.weight) if spec.weight else None
    amounts = []
    for name in spec.amounts:
        amount = clean_weight(table.column(name), name, what="cost")
        amounts.append(amount * weight if weight is not None else amount)
    return weight, amounts


def segment_text(combo: tuple) -> tuple:
    """Segment values as text (None stays None): the same on every worker and the driver."""
    return tuple(None if v is None else str(v) for v in combo)


def _segment_codes(table: pa.Table, spec: Spec, with_repr: bool = False):
    if not spec.by:
        return (np.zeros(table.num_rows, np.int64), [()]) + (([()],) if with_repr else ())
    codes, combos = combined_codes([table.column(n) for n in spec.by])
    text = [segment_text(c) for c in combos]
    if with_repr:
        # the repr names segments whose readable names collide (thresher.data.columns.segment_names)
        return codes, text, [tuple(None if v is None else repr(v) for v in c) for c in combos]
    return codes, text


def chunks(tables, rows: int = CHUNK_ROWS):
    """Re-batch an iterator of Arrow tables/batches into tables of about ``rows`` rows."""
    pending, held = [], 0
    for item in tables:
        t = item if isinstance(item, pa.Table) else pa.Table.from_batches([item])
        if t.num_rows == 0:
            continue
        pending.append(t)
        held += t.num_rows
        if held >= rows:
            yield pa.concat_tables(pending).combine_chunks()
            pending, held = [], 0
    if pending:
        yield pa.concat_tables(pending).combine_chunks()


# pass 1 ------------------------------------------------------------------------------------------
def histogram_schema(spec: Spec, label_type: pa.DataType) -> pa.Schema:
    fields = [pa.field(f"segment_{i}", pa.string()) for i in range(len(spec.by))]
    fields += [pa.field(f"segment_repr_{i}", pa.string()) for i in range(len(spec.by))]
    fields += [pa.field("first", pa.int64()), pa.field("label", label_type), pa.field("bucket", pa.int64()),
               pa.field("rows", pa.int64()), pa.field("weight", pa.float64())]
    fields += [pa.field(f"amount_{i}", pa.float64()) for i in range(len(spec.amounts))]
    return pa.schema(fields)


def histogram(table: pa.Table, spec: Spec, position: int) -> pa.Table:
    """Pass 1 over one chunk; ``position`` orders chunks (partition << 40 | first row) so segments
    can be listed in order of first appearance, as on one machine."""
    if table.num_rows == 0:
        return histogram_schema(spec, table.schema.field(spec.label).type).empty_table()
    try:
        score = clean_score(table.column(spec.score), spec.score)
        labels, distinct = checked_labels(table.column(spec.label), spec.label)
        weight, amounts = _weights(table, spec)
    except InputError as exc:
        partition, row = position >> 40, position & ((1 << 40) - 1)
        raise InputError(f"{exc} (In partition {partition} of the frame, counting its rows from {row}.)") from None
    label_code = pc.index_in(labels, value_set=distinct).to_numpy(zero_copy_only=False).astype(np.int64)
    bucket = score_buckets(score)
    codes, combos, reprs = _segment_codes(table, spec, with_repr=True)
    low = int(bucket.min())
    span = int(bucket.max()) - low + 1
    key = (codes * 2 + label_code) * span + (bucket - low)
    size = len(combos) * 2 * span
    if size <= 1 << 22:
        # a dense table beats sorting when segments x labels x buckets is small
        rows = np.bincount(key, minlength=size)
        present = np.flatnonzero(rows)
        rows = rows[present]
        sums = [np.bincount(key, weights=w, minlength=size)[present] for w in [weight, *amounts] if w is not None]
    else:
        present, inverse = np.unique(key, return_inverse=True)
        rows = np.bincount(inverse)
        sums = [np.bincount(inverse, weights=w) for w in [weight, *amounts] if w is not None]
    wsum = sums.pop(0) if weight is not None else rows.astype(np.float64)
    combo = present // (2 * span)
    _, first_row = np.unique(codes, return_index=True)
    columns = {f"segment_{i}": pa.array([combos[c][i] for c in combo], pa.string()) for i in range(len(spec.by))}
    for i in range(len(spec.by)):
        columns[f"segment_repr_{i}"] = pa.array([reprs[c][i] for c in combo], pa.string())
    columns["first"] = pa.array(position + first_row[combo], pa.int64())
    columns["label"] = distinct.take(pa.array((present // span) % 2))
    columns["bucket"] = pa.array(present % span + low, pa.int64())
    columns["rows"] = pa.array(rows, pa.int64())
    columns["weight"] = pa.array(wsum, pa.float64())
    for i, s in enumerate(sums):
        columns[f"amount_{i}"] = pa.array(s, pa.float64())
    return pa.table(columns)


def merge_histograms(table: pa.Table) -> pa.Table:
    """Sum histogram rows with the same (segment, label, bucket): the driver-side aggregation."""
    keys = [n for n in table.column_names if n.startswith("segment_")] + ["label", "bucket"]
    sums = [n for n in table.column_names if n in ("rows", "weight") or n.startswith("amount_")]
    merged = table.group_by(keys, use_threads=False).aggregate([("first", "min")] + [(n, "sum") for n in sums])
    merged = merged.rename_columns([n.removesuffix("_min").removesuffix("_sum") for n in merged.column_names])
    return merged.select(table.column_names)


# pass 2 ------------------------------------------------------------------------------------------
def partial_schema(spec: Spec, score_type: pa.DataType) -> pa.Schema:
    # this is the table that is shuffled: keep it narrow (unweighted counts of a chunk fit int32)
    count = pa.float64() if spec.weight else pa.int32()
    fields = [pa.field("unit", pa.int32()), pa.field("score", score_type), pa.field("positive", count),
              pa.field("negative", count)]
    for i in range(len(spec.amounts)):
        fields += [pa.field(f"amount_pos_{i}", pa.float64()), pa.field(f"amount_neg_{i}", pa.float64())]
    return pa.schema(fields)


def _at_thresholds(thresholds, own_thresholds, cumulative):
    # cumulative values of a coarser curve at each threshold (a subset of rows: zero amounts dropped)
    k = np.searchsorted(-own_thresholds, -thresholds, side="right")
    return np.where(k > 0, cumulative[np.maximum(k - 1, 0)] if len(cumulative) else 0.0, 0.0)


def cumulative_counts(y, score, weight, amounts):
    """Distinct scores (decreasing) with the cumulative positive and negative weight at or above
    each (thresher's kernel), then the cumulative positive and negative amount of each column."""
    thresholds, tp, fp = exact_counts(y, score, weight)
    out = [thresholds, tp, fp]
    for amount in amounts:
        own, atp, afp = exact_counts(y, score, amount)
        out += [_at_thresholds(thresholds, own, atp), _at_thresholds(thresholds, own, afp)]
    return out


def score_weights(y, score, weight, amounts):
    """Distinct scores (decreasing) with the positive and negative weight (and amounts) at each."""
    thresholds, *cumulative = cumulative_counts(y, score, weight, amounts)
    return [thresholds, *(np.diff(c, prepend=0.0) for c in cumulative)]


def _group_rows(group: np.ndarray):
    order = np.argsort(group, kind="stable")
    values = group[order]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    ends = np.append(starts[1:], len(values))
    for a, b in zip(starts, ends):
        yield int(values[a]), order[a:b]


def partial_counts(table: pa.Table, spec: Spec, plan, task: Task) -> pa.Table:
    """Pass 2 over one chunk: per level and group, every distinct score's weights and unit."""
    if table.num_rows == 0:
        return partial_schema(spec, pa.from_numpy_dtype(clean_score(table.column(spec.score), spec.score).dtype)) \
            .empty_table()
    score = clean_score(table.column(spec.score), spec.score)
    y = positive_flags(table.column(spec.label), plan.positive)
    weight, amounts = _weights(table, spec)
    codes, combos = _segment_codes(table, spec)
    try:
        groups = np.array([plan.groups_of(c) for c in combos], np.int64)
    except KeyError as exc:
        raise InputError(f"Segment {exc.args[0]} was not in the data when it was first read: the data changed "
                         "between passes. Cache or checkpoint the frame first.") from None
    parts = []
    for li in range(len(plan.levels)):
        row_group = groups[codes, li]
        split = [(int(row_group[0]), None)] if len(groups) == 1 or plan.levels[li] == 0 else _group_rows(row_group)
        for g, rows in split:
            if task.groups is not None and g not in task.groups:
                continue
            take = (lambda a: a) if rows is None else (lambda a: a[rows])
            cols = score_weights(take(y), take(score), None if weight is None else take(weight),
                                 [take(a) for a in amounts])
            unit = plan.unit_codes[plan.unit_of(g, score_buckets(cols[0]))]
            parts.append([unit, *cols])
    schema = partial_schema(spec, pa.from_numpy_dtype(score.dtype))
    if not parts:
        return schema.empty_table()
    arrays = [np.concatenate(c) for c in zip(*parts)]
    return pa.Table.from_arrays([pa.array(a.astype(f.type.to_pandas_dtype()), f.type) for a, f in zip(arrays, schema)],
                                schema=schema)


# policies --------------------------------------------------------------------------------------
def decide_partition(table: pa.Table, policy, plain: bool = True) -> pa.Table:
    """The input columns with the policy's decision columns appended (labels as plain strings when
    ``plain``: Spark and pandas have no use for Arrow dictionaries here)."""
    from thresher.policy.policy import DECISION_COLUMNS

    clash = [c for c in DECISION_COLUMNS if c in table.column_names]
    if clash:
        raise InputError(f"The frame already has a column '{clash[0]}'; drop or rename it before deciding.")
    decided = policy.decide_table(table)
    for name in DECISION_COLUMNS:
        column = decided.column(name)
        if plain and pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        table = table.append_column(name, column)
    return table
