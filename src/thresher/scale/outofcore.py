"""Exact evaluation of data larger than memory, on one machine, in two streaming passes.

Pass 1 reads the label, score and segment columns batch by batch and counts rows per (segment,
class, top 16 bits of the float32 key). Pass 2 reads them again and stores only the low 16 key
bits of each row, 2 bytes a row (4 with segments: the overall curve is counted alongside), placed
by those counts. Each bucket is then sorted in place (counting sort for large buckets) and the
parallel walk of :mod:`thresher.kernels.counts` emits the exact curve. Nothing is approximated:
the result equals counting everything in memory. float64 scores that float32 cannot represent
exactly are counted the same way on 64-bit keys: pass 1 starts over when it first meets one, and
pass 2 stores their low 48 key bits, 8 bytes a row (see :mod:`thresher.kernels.keys`). Sample
weights cost 8 more bytes a row (each weight is placed beside its key and sorted with it). The one
requirement: a source that reads the same rows twice (checked).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numba as nb
import numpy as np

from thresher.data.columns import segment_names
from thresher.data.stream import BatchLabels, BatchSegments
from thresher.data.validate import clean_score, clean_weight
from thresher.errors import InputError
from thresher.kernels.counts import counts_from_parts, measure_parts
from thresher.kernels.keys import (FLOAT32, FLOAT64, N_HIGH, KeyLayout, floats_of_keys, histogram, scatter,
                                   scatter_weighted, sort_buckets, sort_buckets_weighted)
from thresher.metrics.curve import Curve
from thresher.metrics.evaluate import Evaluation, Summary
from thresher.scale.sources import Source, open_source

_ALL = np.empty(0, np.int64)  # every row in region 0, the overall curve


class _WideScores(Exception):
    """Pass 1 met float64 scores that float32 cannot hold exactly: count again on 64-bit keys."""


def _scores(values, name: str, offset: int, layout: KeyLayout) -> np.ndarray:
    """Finite scores in the layout's dtype; :class:`_WideScores` when float32 would change one."""
    s = clean_score(values, name, offset)
    if s.dtype == layout.score:
        return s
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: not equal, so wide
        narrow = s.astype(layout.score)
    if layout is FLOAT32 and not np.array_equal(narrow, s):
        raise _WideScores
    return narrow


@dataclass(frozen=True)
class StreamCurves:
    """Exact curves of a streamed source: overall and per segment, with row counts."""

    overall: Curve
    segments: dict  # name -> Curve, one per combination of the ``by`` values
    rows: int
    pos_label: object
    by: tuple
    keys: tuple = ()  # the segment values of each entry of ``segments``, in the same order
    fingerprint: str | None = None  # with ``exact_curves(..., fingerprint=True)``
    weighted: bool = False
    segment_rows: dict = None  # name -> rows read (weight 0 included)
    zero_weight_ranges: dict = None  # None (all rows) or name -> (min, max) score of its weight-0 rows, if any

    def level_rows(self) -> dict[tuple, int]:
        """Rows read per key prefix, as :meth:`level_curves` keys them."""
        out = {(): self.rows}
        for key, name in zip(self.keys, self.segments):
            for depth in range(1, len(self.by) + 1):
                out[key[:depth]] = out.get(key[:depth], 0) + self.segment_rows[name]
        return out

    def level_ranges(self) -> dict[tuple, list]:
        """Key prefix -> ``[min, max]`` score of every row read there, weight-0 rows included (the curves
        leave those out), keyed as :meth:`level_curves`."""
        out = {}
        extra = self.zero_weight_ranges or {}
        leaves = [((), self.overall, extra.get(None))]
        leaves += [(key, curve, extra.get(name)) for (name, curve), key in zip(self.segments.items(), self.keys)]
        for key, curve, dropped in leaves:
            lo, hi = (float(curve.thresholds[-1]), float(curve.thresholds[0])) if len(curve) else (np.inf, -np.inf)
            if dropped is not None:
                lo, hi = min(lo, dropped[0]), max(hi, dropped[1])
            for depth in ([0] if key == () else range(1, len(key) + 1)):
                prefix = key[:depth]
                old = out.get(prefix, [np.inf, -np.inf])
                out[prefix] = [min(old[0], lo), max(old[1], hi)]
        return out

    def level_curves(self) -> dict[tuple, Curve]:
        """Every key prefix -> its exact curve: ``()`` for all rows, then each prefix of the segment
        values (outer segments are merges of their inner ones), as
        :func:`thresher.select.select.select_on_level_curves` takes them."""
        out: dict[tuple, Curve] = {(): self.overall}
        leaves = dict(zip(self.keys, self.segments.values()))
        for depth in range(1, len(self.by)):
            for key, curve in leaves.items():
                prefix = key[:depth]
                out[prefix] = out[prefix].merge(curve) if prefix in out else curve
        out.update(leaves)
        return out


@contextmanager
def _progress(total, description: str, enabled: bool):
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.update(task, advance=n)


def _grow(hist: np.ndarray, regions: int) -> np.ndarray:
    if regions <= hist.shape[0]:
        return hist
    bigger = np.zeros((max(regions, 2 * hist.shape[0]), 2, N_HIGH), np.int64)
    bigger[: hist.shape[0]] = hist
    return bigger


def _read(source: Source, label: str, score: str, by: tuple, pos_label, labels: BatchLabels,
          segments: BatchSegments, advance, layout: KeyLayout, weight: str | None = None, rows: list | None = None,
          dropped: dict | None = None):
    """Yield ``(y, scores, segment codes or None, weights or None)`` per batch, validated, with row
    offsets in messages and scores in ``layout``'s dtype; rows of weight 0 are dropped (as in
    memory), after ``rows`` (per region: all rows, then each segment) has counted them and
    ``dropped`` (region -> [min, max]) has taken their score range."""
    columns = list(dict.fromkeys([label, score, *by, *([weight] if weight else [])]))
    offset = 0
    for batch in source.batches(columns):
        import pyarrow as pa

        table = pa.Table.from_batches([batch])
        y = labels(table.column(label), offset)
        s = _scores(table.column(score), score, offset, layout)
        seg = segments(table) if by else None
        if rows is not None:
            rows[0] += table.num_rows
            if seg is not None and len(seg):
                counted = np.bincount(seg)
                rows.extend([0] * (1 + len(counted) - len(rows)))
                for g in np.flatnonzero(counted):
                    rows[g + 1] += int(counted[g])
        w = None
        if weight:
            w = clean_weight(table.column(weight), weight, offset=offset)
            keep = w > 0
            if not keep.all():
                if dropped is not None:
                    _widen(dropped, 0, s[~keep])
                    for g in np.unique(seg[~keep]) if seg is not None else ():
                        _widen(dropped, int(g) + 1, s[~keep & (seg == g)])
                y, s, w = y[keep], s[keep], w[keep]
                seg = seg[keep] if seg is not None else None
        offset += table.num_rows
        advance(table.num_rows)
        yield y, s, seg, w


def _widen(ranges: dict, region: int, s: np.ndarray) -> None:
    lo, hi = ranges.get(region, (np.inf, -np.inf))
    ranges[region] = (min(lo, float(s.min())), max(hi, float(s.max())))


def exact_curves(source, *, label: str, score: str, by=(), pos_label=None, weight: str | None = None,
                 progress: bool = False, timings: dict | None = None, fingerprint: bool = False) -> StreamCurves:
    """Exact curves of any re-readable source (see :func:`thresher.scale.sources.open_source`).

    Memory: 2 bytes a row for float32 scores, 8 for float64 scores that float32 cannot hold, and 8
    more with ``weight``, a sample-weight column (each row's weight is placed beside its key);
    then the curves, one point per distinct score. ``timings``, when given, receives the seconds
    spent in each phase (for benchmarks); ``fingerprint`` adds a content hash of the rows (see
    :class:`StreamFingerprint`)."""
    clock = _Clock(timings)
    source = open_source(source)
    by = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    total = source.count_rows()
    layout = FLOAT32
    while True:  # float32 keys (2 bytes a row) until a score needs float64: then once more on 64-bit keys
        labels = BatchLabels(label, pos_label)
        segments = BatchSegments(by)
        hist = np.zeros((1 + (8 if by else 0), 2, N_HIGH), np.int64)
        region_rows, dropped = [0], {}
        digest = StreamFingerprint() if fingerprint else None
        step = "counting (pass 1 of 2)" if layout is FLOAT32 else "counting again, float64 scores (pass 1 of 2)"
        try:
            with _progress(total, step, progress) as advance:
                for y, s, seg, w in _read(source, label, score, by, pos_label, labels, segments, advance, layout,
                                          weight, region_rows, dropped):
                    if digest is not None:
                        digest.update(y, s, seg, w)
                    histogram(y, s, _ALL, hist)
                    if seg is not None:
                        hist = _grow(hist, 1 + len(segments.keys))
                        histogram(y, s, seg + 1, hist)
            break
        except _WideScores:
            layout = FLOAT64
    clock("pass 1: read + count")
    rows = region_rows[0]
    if rows == 0:
        raise InputError(f"{source.describe} has no rows.")
    positive = labels.finish()
    regions = 1 + len(segments.keys)
    hist = hist[:regions]
    flat = hist.ravel()
    bounds = np.zeros(flat.size + 1, np.int64)
    np.cumsum(flat, out=bounds[1:])
    buffer = np.empty(int(bounds[-1]), layout.stored)
    placed_weights = np.empty(int(bounds[-1]) if weight else 0, np.float64)
    cursor = bounds[:-1].reshape(hist.shape).copy()
    ends = bounds[1:].reshape(hist.shape)
    frozen = BatchSegments(by)
    frozen.index, frozen.keys = dict(segments.index), list(segments.keys)
    changed = InputError(f"{source.describe} returned different rows on the second read; out-of-core counting "
                         "needs a source that reads the same rows twice (a fixed file set, a deterministic query).")
    with _progress(total, "placing (pass 2 of 2)", progress) as advance:
        try:
            for y, s, seg, w in _read(source, label, score, by, pos_label, BatchLabels(label, pos_label), frozen,
                                      advance, layout, weight):
                _scatter_checked(y, s, w, _ALL, cursor, ends, buffer, placed_weights)
                if seg is not None:
                    _scatter_checked(y, s, w, seg + 1, cursor, ends, buffer, placed_weights)
        except _WideScores:  # float64 scores that pass 1 did not see
            raise changed from None
    if not np.array_equal(cursor.ravel(), bounds[1:]) or len(frozen.keys) != len(segments.keys):
        raise changed
    clock("pass 2: read + place")
    del cursor
    # most rows sit in a few buckets: hand buckets to threads one at a time, not in fixed halves
    with nb.parallel_chunksize(1):
        if weight:
            sort_buckets_weighted(buffer, placed_weights, bounds)
        else:
            sort_buckets(buffer, bounds, nb.get_num_threads())
    clock("sort buckets")
    parts, measured = [], []
    for r in range(regions):
        pos_start = np.append(bounds[(2 * r) * N_HIGH:(2 * r + 1) * N_HIGH], bounds[(2 * r + 1) * N_HIGH])
        neg_start = np.append(bounds[(2 * r + 1) * N_HIGH:(2 * r + 2) * N_HIGH], bounds[(2 * r + 2) * N_HIGH])
        parts.append((pos_start, neg_start))
        with nb.parallel_chunksize(1):
            measured.append(measure_parts(buffer, pos_start, neg_start, placed_weights if weight else None))
    _check_curves_fit(sum(int(m[0].sum()) for m in measured), layout, source.describe)
    curves = []
    bases = layout.bases
    for (pos_start, neg_start), m in zip(parts, measured):
        with nb.parallel_chunksize(1):
            keys, tp, fp = counts_from_parts(buffer, pos_start, neg_start, bases,
                                             placed_weights if weight else None, m)
        curves.append(Curve(floats_of_keys(keys, layout), tp, fp, float(tp[-1]) if len(tp) else 0.0,
                            float(fp[-1]) if len(fp) else 0.0))
    clock("emit curves")
    seg_names = segment_names(segments.keys)
    region_rows += [0] * (regions - len(region_rows))
    return StreamCurves(curves[0], dict(zip(seg_names, curves[1:])), rows, positive, by, tuple(segments.keys),
                        digest.finish(by, segments.keys) if digest is not None else None, weight is not None,
                        dict(zip(seg_names, region_rows[1:])),
                        {(None if r == 0 else seg_names[r - 1]): v for r, v in dropped.items()})


class StreamFingerprint:
    """``sha256-stream:<hex>``: a content hash of streamed rows (labels as 0/1, scores as float64,
    segment values), the same whatever the batch sizes or the file format. It is not the in-memory
    :func:`thresher.data.fingerprint.fingerprint` (that one hashes all labels, then all scores): a
    stream hashes each column separately and then the column digests."""

    def __init__(self):
        import hashlib

        self._labels, self._scores, self._codes = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()
        self._weights = hashlib.sha256()

    def update(self, y, s, codes, weights=None) -> None:
        self._labels.update(np.ascontiguousarray(y, np.uint8).tobytes())
        self._scores.update(np.ascontiguousarray(s, "<f8").tobytes())
        if codes is not None:
            self._codes.update(np.ascontiguousarray(codes, "<i8").tobytes())
        if weights is not None:
            self._weights.update(np.ascontiguousarray(weights, "<f8").tobytes())

    def finish(self, by, keys) -> str:
        import hashlib

        h = hashlib.sha256(b"thresher-stream-v1")
        for part in (self._labels, self._scores, self._codes, self._weights):
            h.update(part.digest())
        h.update(repr((tuple(by), [tuple(map(str, k)) for k in keys])).encode())
        return "sha256-stream:" + h.hexdigest()


class _Clock:
    def __init__(self, timings: dict | None):
        import time

        self._time = time.perf_counter
        self.timings = timings
        self.last = self._time()

    def __call__(self, phase: str) -> None:
        now = self._time()
        if self.timings is not None:
            self.timings[phase] = now - self.last
        self.last = now


CURVE_BYTES_PER_POINT = 32  # while emitting: the key (8), tp and fp (16), the threshold (4 or 8)


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _check_curves_fit(points: int, layout: KeyLayout, describe: str) -> None:
    """A clear error, not the kernel's out-of-memory kill, when the exact curves cannot fit: they hold
    one point per distinct score (per segment too), however few bytes a row the counting took."""
    available = _available_memory()
    need = points * CURVE_BYTES_PER_POINT
    if available is None or need <= available:
        return
    kind = "float64 scores rarely tie" if layout is FLOAT64 else "each distinct score is a point"
    raise InputError(f"The exact curves of {describe} hold {points:,} points ({kind}), about {need / 2**30:.1f} GiB, "
                     f"and this machine has {available / 2**30:.1f} GiB available. Round the scores (to float32, or to "
                     "fewer digits), or use binned mode (--bins N), which bounds its error and fits in constant "
                     "memory.")


def _scatter_checked(y, s, w, seg, cursor, ends, buffer, placed_weights):
    # a source that grew between passes must not write past its buckets
    placed = scatter(y, s, seg, cursor, ends, buffer) if w is None else \
        scatter_weighted(y, s, w, seg, cursor, ends, buffer, placed_weights)
    if not placed:
        raise InputError("The source returned more rows on the second read than on the first; out-of-core counting "
                         "needs a source that reads the same rows twice (a fixed file set, a deterministic query).")


def evaluate(source=None, *, label: str, score: str, weight: str | None = None, by=None, pos_label=None,
             threshold: float = 0.5, sql: str | None = None, database: str | None = None,
             progress: bool = False) -> Evaluation:
    """:func:`thresher.evaluate` for data larger than memory (exact; see the module docstring).

    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.parquet")
    >>> pq.write_table(pa.table({"y": [0, 0, 1, 1], "p": pa.array([0.1, 0.4, 0.35, 0.8], pa.float32())}), path)
    >>> evaluate(path, label="y", score="p").overall.roc_auc
    0.75
    """
    src = open_source(source, sql=sql, database=database)
    result = exact_curves(src, label=label, score=score, by=by or (), pos_label=pos_label, weight=weight,
                          progress=progress)
    weighted = weight is not None

    def summary(curve: Curve, rows: int) -> Summary:
        return Summary(rows, curve, curve.at(threshold), weighted)

    segments = {name: summary(c, result.segment_rows[name]) for name, c in result.segments.items()}
    return Evaluation(summary(result.overall, result.rows), float(threshold), result.by, segments, result.pos_label,
                      weighted)
