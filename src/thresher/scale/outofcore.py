"""Exact evaluation of data larger than memory, on one machine, in two streaming passes.

Pass 1 reads the label, score and segment columns batch by batch and counts rows per (segment,
class, top 16 bits of the float32 key). Pass 2 reads them again and stores only the low 16 key
bits of each row, 2 bytes a row (4 with segments: the overall curve is counted alongside), placed
by those counts. Each bucket is then sorted in place (counting sort for large buckets) and the
parallel walk of :mod:`thresher.kernels.counts` emits the exact curve. Nothing is approximated:
the result equals counting everything in memory. Limits: float32 scores (float64 scores must be
exactly representable in float32), no sample weights, a source that reads the same rows twice.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numba as nb
import numpy as np

from thresher.data.columns import segment_names
from thresher.data.stream import BatchLabels, BatchSegments, float32_scores
from thresher.errors import InputError
from thresher.kernels.counts import counts_from_parts
from thresher.kernels.keys import N_HIGH, floats_of_keys, histogram, scatter, sort_buckets
from thresher.metrics.curve import Curve
from thresher.metrics.evaluate import Evaluation, Summary
from thresher.scale.sources import Source, open_source

_BASES = np.arange(N_HIGH, dtype=np.int64) << 16
_ALL = np.empty(0, np.int64)  # every row in region 0, the overall curve


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
          segments: BatchSegments, advance):
    """Yield ``(y, scores, segment codes or None)`` per batch, validated, with row offsets in messages."""
    columns = list(dict.fromkeys([label, score, *by]))
    offset = 0
    for batch in source.batches(columns):
        import pyarrow as pa

        table = pa.Table.from_batches([batch])
        y = labels(table.column(label), offset)
        s = float32_scores(table.column(score), score, offset)
        seg = segments(table) if by else None
        offset += table.num_rows
        advance(table.num_rows)
        yield y, s, seg


def exact_curves(source, *, label: str, score: str, by=(), pos_label=None, progress: bool = False,
                 timings: dict | None = None, fingerprint: bool = False) -> StreamCurves:
    """Exact curves of any re-readable source (see :func:`thresher.scale.sources.open_source`).

    ``timings``, when given, receives the seconds spent in each phase (for benchmarks);
    ``fingerprint`` adds a content hash of the rows (see :class:`StreamFingerprint`)."""
    clock = _Clock(timings)
    source = source if isinstance(source, Source) else open_source(source)
    by = tuple(b.strip() for b in by.split(",")) if isinstance(by, str) else tuple(by or ())
    labels = BatchLabels(label, pos_label)
    segments = BatchSegments(by)
    total = source.count_rows()
    hist = np.zeros((1 + (8 if by else 0), 2, N_HIGH), np.int64)
    rows = 0
    digest = StreamFingerprint() if fingerprint else None
    with _progress(total, "counting (pass 1 of 2)", progress) as advance:
        for y, s, seg in _read(source, label, score, by, pos_label, labels, segments, advance):
            if digest is not None:
                digest.update(y, s, seg)
            histogram(y, s, _ALL, hist)
            if seg is not None:
                hist = _grow(hist, 1 + len(segments.keys))
                histogram(y, s, seg + 1, hist)
            rows += len(s)
    clock("pass 1: read + count")
    if rows == 0:
        raise InputError(f"{source.describe} has no rows.")
    positive = labels.finish()
    regions = 1 + len(segments.keys)
    hist = hist[:regions]
    flat = hist.ravel()
    bounds = np.zeros(flat.size + 1, np.int64)
    np.cumsum(flat, out=bounds[1:])
    buffer = np.empty(int(bounds[-1]), np.uint16)
    cursor = bounds[:-1].reshape(hist.shape).copy()
    ends = bounds[1:].reshape(hist.shape)
    frozen = BatchSegments(by)
    frozen.index, frozen.keys = dict(segments.index), list(segments.keys)
    with _progress(total, "placing (pass 2 of 2)", progress) as advance:
        for y, s, seg in _read(source, label, score, by, pos_label, BatchLabels(label, pos_label), frozen, advance):
            _scatter_checked(y, s, _ALL, cursor, ends, buffer)
            if seg is not None:
                _scatter_checked(y, s, seg + 1, cursor, ends, buffer)
    if not np.array_equal(cursor.ravel(), bounds[1:]) or len(frozen.keys) != len(segments.keys):
        raise InputError(f"{source.describe} returned different rows on the second read; out-of-core counting needs "
                         "a source that reads the same rows twice (a fixed file set, a deterministic query).")
    clock("pass 2: read + place")
    del cursor
    # most rows sit in a few buckets: hand buckets to threads one at a time, not in fixed halves
    with nb.parallel_chunksize(1):
        sort_buckets(buffer, bounds, nb.get_num_threads())
    clock("sort buckets")
    curves = []
    for r in range(regions):
        pos_start = np.append(bounds[(2 * r) * N_HIGH:(2 * r + 1) * N_HIGH], bounds[(2 * r + 1) * N_HIGH])
        neg_start = np.append(bounds[(2 * r + 1) * N_HIGH:(2 * r + 2) * N_HIGH], bounds[(2 * r + 2) * N_HIGH])
        with nb.parallel_chunksize(1):
            keys, tp, fp = counts_from_parts(buffer, pos_start, neg_start, _BASES)
        curves.append(Curve(floats_of_keys(keys), tp, fp, float(tp[-1]) if len(tp) else 0.0,
                            float(fp[-1]) if len(fp) else 0.0))
    clock("emit curves")
    names = dict(zip(segment_names(segments.keys), curves[1:]))
    return StreamCurves(curves[0], names, rows, positive, by, tuple(segments.keys),
                        digest.finish(by, segments.keys) if digest is not None else None)


class StreamFingerprint:
    """``sha256-stream:<hex>``: a content hash of streamed rows (labels as 0/1, scores as float64,
    segment values), the same whatever the batch sizes or the file format. It is not the in-memory
    :func:`thresher.data.fingerprint.fingerprint` (that one hashes all labels, then all scores): a
    stream hashes each column separately and then the column digests."""

    def __init__(self):
        import hashlib

        self._labels, self._scores, self._codes = hashlib.sha256(), hashlib.sha256(), hashlib.sha256()

    def update(self, y, s, codes) -> None:
        self._labels.update(np.ascontiguousarray(y, np.uint8).tobytes())
        self._scores.update(np.ascontiguousarray(s, "<f8").tobytes())
        if codes is not None:
            self._codes.update(np.ascontiguousarray(codes, "<i8").tobytes())

    def finish(self, by, keys) -> str:
        import hashlib

        h = hashlib.sha256(b"thresher-stream-v1")
        for part in (self._labels, self._scores, self._codes):
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


def _scatter_checked(y, s, seg, cursor, ends, buffer):
    # a source that grew between passes must not write past its buckets
    if not scatter(y, s, seg, cursor, ends, buffer):
        raise InputError("The source returned more rows on the second read than on the first; out-of-core counting "
                         "needs a source that reads the same rows twice (a fixed file set, a deterministic query).")


def evaluate(source=None, *, label: str, score: str, by=None, pos_label=None, threshold: float = 0.5,
             sql: str | None = None, database: str | None = None, progress: bool = False) -> Evaluation:
    """:func:`thresher.evaluate` for data larger than memory (exact; see the module docstring).

    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.parquet")
    >>> pq.write_table(pa.table({"y": [0, 0, 1, 1], "p": pa.array([0.1, 0.4, 0.35, 0.8], pa.float32())}), path)
    >>> evaluate(path, label="y", score="p").overall.roc_auc
    0.75
    """
    src = open_source(source, sql=sql, database=database)
    result = exact_curves(src, label=label, score=score, by=by or (), pos_label=pos_label, progress=progress)

    def summary(curve: Curve) -> Summary:
        return Summary(int(curve.positives + curve.negatives), curve, curve.at(threshold))

    segments = {name: summary(c) for name, c in result.segments.items()}
    return Evaluation(summary(result.overall), float(threshold), result.by, segments, result.pos_label, False)
