"""Exact weighted counts at every distinct score, without an argsort permutation.

Scores are bucketed by an order-preserving integer key (the float's bits, sign-folded), scattered
by class into one buffer of scores (4 bytes a row for float32), each small bucket is sorted in
cache, and a merge walk per bucket emits every distinct score with the cumulative positive and
negative weight at or above it. Histogram, scatter, sort and emit all run in parallel chunks.
Because each bucket's starting cumulative counts are known from the histogram, areas (ROC AUC,
average precision) can be summed per bucket without materialising the curve at all.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_MASK32 = np.int64(0x7FFFFFFF)
_MASK64 = np.int64(0x7FFFFFFFFFFFFFFF)


@nb.njit(cache=True, nogil=True, inline="always")
def _key(bits, s, mask):
    # order-preserving integer for a float: flip the magnitude bits of negatives; -0.0 joins +0.0
    k = np.int64(bits)
    if k < 0:
        k ^= mask
    if s == 0:
        k = 0
    return k


@nb.njit(cache=True, nogil=True, parallel=True)
def _class_digit_hist(y, bits, score, weight, weighted, mask, kmin, shift, radix_mask, n_chunks):
    n = bits.shape[0]
    step = (n + n_chunks - 1) // n_chunks
    hist = np.zeros((2 * n_chunks, radix_mask + 1), np.int64)
    for c in nb.prange(n_chunks):
        for i in range(c * step, min(n, (c + 1) * step)):
            if weighted and weight[i] == 0:
                continue
            d = ((_key(bits[i], score[i], mask) - kmin) >> shift) & radix_mask
            hist[2 * c + (1 - y[i]), d] += 1
    return hist


@nb.njit(cache=True, nogil=True, parallel=True)
def _class_scatter(y, bits, score, weight, weighted, mask, kmin, shift, radix_mask, hist, n_chunks, out, out_w):
    # first pass: split classes (positives first) and order by the lowest digit, stably
    n = bits.shape[0]
    offsets = np.empty_like(hist)
    total = 0
    for cls in range(2):
        for d in range(radix_mask + 1):
            for c in range(n_chunks):
                offsets[2 * c + cls, d] = total
                total += hist[2 * c + cls, d]
    step = (n + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        for i in range(c * step, min(n, (c + 1) * step)):
            if weighted and weight[i] == 0:
                continue
            d = ((_key(bits[i], score[i], mask) - kmin) >> shift) & radix_mask
            row = 2 * c + (1 - y[i])
            at = offsets[row, d]
            out[at] = score[i]
            if weighted:
                out_w[at] = weight[i]
            offsets[row, d] = at + 1


@nb.njit(cache=True, nogil=True, parallel=True)
def _radix_pass(src, src_bits, src_w, dst, dst_w, weighted, lo, hi, mask, kmin, shift, radix_mask, n_chunks):
    # one stable LSD pass over src[lo:hi] into dst[lo:hi] by the digit at `shift`
    n = hi - lo
    step = (n + n_chunks - 1) // n_chunks
    hist = np.zeros((n_chunks, radix_mask + 1), np.int64)
    for c in nb.prange(n_chunks):
        for i in range(lo + c * step, min(hi, lo + (c + 1) * step)):
            hist[c, ((_key(src_bits[i], src[i], mask) - kmin) >> shift) & radix_mask] += 1
    offsets = np.empty_like(hist)
    total = lo
    for d in range(radix_mask + 1):
        for c in range(n_chunks):
            offsets[c, d] = total
            total += hist[c, d]
    for c in nb.prange(n_chunks):
        for i in range(lo + c * step, min(hi, lo + (c + 1) * step)):
            d = ((_key(src_bits[i], src[i], mask) - kmin) >> shift) & radix_mask
            at = offsets[c, d]
            dst[at] = src[i]
            if weighted:
                dst_w[at] = src_w[i]
            offsets[c, d] = at + 1


@nb.njit(cache=True, nogil=True)
def _part_bounds(values, n_pos, n_parts):
    # value-range parts for the parallel walk: split points taken from the larger class, located in
    # both sorted classes with a left search so a tie group never straddles two parts
    n = values.shape[0]
    pos = values[:n_pos]
    neg = values[n_pos:]
    big = neg if neg.shape[0] >= pos.shape[0] else pos
    pos_start = np.empty(n_parts + 1, np.int64)
    neg_start = np.empty(n_parts + 1, np.int64)
    pos_start[0] = 0
    neg_start[0] = n_pos
    for k in range(1, n_parts):
        v = big[(k * big.shape[0]) // n_parts]
        pos_start[k] = np.searchsorted(pos, v)
        neg_start[k] = n_pos + np.searchsorted(neg, v)
    pos_start[n_parts] = n_pos
    neg_start[n_parts] = n
    return pos_start, neg_start


@nb.njit(cache=True, nogil=True)
def _walk(values, weights, weighted, p_lo, p_hi, n_lo, n_hi, ctp, cfp, out_thr, out_tp, out_fp, at, emit, base):
    """Merge-walk one bucket's positives [p_lo, p_hi) and negatives [n_lo, n_hi) from the top.

    Emits points at ``at`` when ``emit`` (threshold = value + ``base``: 0 for scores, the bucket's
    high key bits for buckets of low key bits); returns (distinct, ctp, cfp, roc_area, ap_sum)."""
    i = p_hi - 1
    j = n_hi - 1
    m = 0
    roc = 0.0
    ap = 0.0
    while i >= p_lo or j >= n_lo:
        if i >= p_lo and (j < n_lo or values[i] >= values[j]):
            v = values[i]
        else:
            v = values[j]
        dtp = 0.0
        dfp = 0.0
        while i >= p_lo and values[i] == v:
            dtp += weights[i] if weighted else 1.0
            i -= 1
        while j >= n_lo and values[j] == v:
            dfp += weights[j] if weighted else 1.0
            j -= 1
        roc += dfp * (2.0 * ctp + dtp)
        ctp += dtp
        cfp += dfp
        if dtp > 0.0:
            ap += dtp * (ctp / (ctp + cfp))
        if emit:
            out_thr[at + m] = v + base
            out_tp[at + m] = ctp
            out_fp[at + m] = cfp
        m += 1
    return m, ctp, cfp, roc, ap


@nb.njit(cache=True, nogil=True, parallel=True)
def _measure_parts(values, weights, weighted, pos_start, neg_start):
    n_buckets = pos_start.shape[0] - 1
    distinct = np.zeros(n_buckets, np.int64)
    sum_pos = np.zeros(n_buckets, np.float64)
    sum_neg = np.zeros(n_buckets, np.float64)
    dummy = np.empty(0, values.dtype)
    dummy_f = np.empty(0, np.float64)
    for b in nb.prange(n_buckets):
        m, ctp, cfp, _, _ = _walk(values, weights, weighted, pos_start[b], pos_start[b + 1], neg_start[b],
                                  neg_start[b + 1], 0.0, 0.0, dummy, dummy_f, dummy_f, 0, False, 0)
        distinct[b] = m
        sum_pos[b] = ctp
        sum_neg[b] = cfp
    return distinct, sum_pos, sum_neg


@nb.njit(cache=True, nogil=True)
def _starts_from_top(distinct, sum_pos, sum_neg):
    # bucket b is walked after every bucket above it: its output offset and starting counts
    n_buckets = distinct.shape[0]
    at = np.empty(n_buckets + 1, np.int64)
    ctp = np.empty(n_buckets, np.float64)
    cfp = np.empty(n_buckets, np.float64)
    a = 0
    p = 0.0
    q = 0.0
    for b in range(n_buckets - 1, -1, -1):
        at[b] = a
        ctp[b] = p
        cfp[b] = q
        a += distinct[b]
        p += sum_pos[b]
        q += sum_neg[b]
    at[n_buckets] = a
    return at, ctp, cfp


@nb.njit(cache=True, nogil=True, parallel=True)
def _emit(values, weights, weighted, pos_start, neg_start, at, ctp, cfp, bases, out_thr, out_tp, out_fp):
    n_buckets = pos_start.shape[0] - 1
    for b in nb.prange(n_buckets):
        _walk(values, weights, weighted, pos_start[b], pos_start[b + 1], neg_start[b], neg_start[b + 1],
              ctp[b], cfp[b], out_thr, out_tp, out_fp, at[b], True, bases[b])


@nb.njit(cache=True, nogil=True, parallel=True)
def _bucket_areas(values, weights, weighted, pos_start, neg_start, ctp, cfp):
    n_buckets = pos_start.shape[0] - 1
    roc = np.zeros(n_buckets, np.float64)
    ap = np.zeros(n_buckets, np.float64)
    dummy = np.empty(0, values.dtype)
    dummy_f = np.empty(0, np.float64)
    for b in nb.prange(n_buckets):
        _, _, _, r, a = _walk(values, weights, weighted, pos_start[b], pos_start[b + 1], neg_start[b],
                              neg_start[b + 1], ctp[b], cfp[b], dummy, dummy_f, dummy_f, 0, False, 0)
        roc[b] = r
        ap[b] = a
    return 0.5 * roc.sum(), ap.sum()


def _float_key(value: float, dtype) -> int:
    if value == 0:
        return 0
    arr = np.array([value], dtype)
    k = int(arr.view(np.int32 if dtype == np.float32 else np.int64)[0])
    mask = 0x7FFFFFFF if dtype == np.float32 else 0x7FFFFFFFFFFFFFFF
    return k ^ mask if k < 0 else k


class Buckets:
    """Scores sorted ascending within each class (positives first) and cut into value-range parts
    whose sizes and sums are known, so the walk over them runs in parallel (internal)."""

    __slots__ = ("values", "weights", "weighted", "pos_start", "neg_start", "distinct", "sum_pos", "sum_neg")

    def __init__(self, y, score, weight=None):
        weighted = weight is not None
        w = weight if weighted else np.empty(0, np.float64)
        self.weighted = weighted
        self.values, self.weights, n_pos = _sort_by_class(y, score, w, weighted)
        n_chunks = max(1, min(nb.get_num_threads(), score.shape[0] // 65536))
        n_parts = 1 if n_chunks == 1 else 8 * n_chunks
        self.pos_start, self.neg_start = _part_bounds(self.values, n_pos, n_parts)
        self.distinct, self.sum_pos, self.sum_neg = _measure_parts(
            self.values, self.weights, weighted, self.pos_start, self.neg_start)

    def counts(self):
        """``(thresholds, tp, fp)``: distinct scores decreasing, cumulative weights at or above."""
        bases = np.zeros(len(self.distinct), self.values.dtype)
        return _counts(self.values, self.weights, self.weighted, self.pos_start, self.neg_start, bases,
                       (self.distinct, self.sum_pos, self.sum_neg))

    def areas(self):
        """``(roc_area, ap_sum, positives, negatives)``: AUC = roc_area / (P N), AP = ap_sum / P."""
        _, ctp, cfp = _starts_from_top(self.distinct, self.sum_pos, self.sum_neg)
        roc, ap = _bucket_areas(self.values, self.weights, self.weighted, self.pos_start, self.neg_start, ctp, cfp)
        return roc, ap, float(self.sum_pos.sum()), float(self.sum_neg.sum())


def _counts(values, weights, weighted, pos_start, neg_start, bases, measured=None):
    distinct, sum_pos, sum_neg = measured or _measure_parts(values, weights, weighted, pos_start, neg_start)
    at, ctp, cfp = _starts_from_top(distinct, sum_pos, sum_neg)
    # outputs allocated by numpy, not inside the kernel: numpy asks for transparent huge pages on large
    # arrays, so first-touch page faults (most of the time at 1e7 distinct scores) drop ~500-fold
    total = int(at[-1])
    out = np.empty(total, bases.dtype), np.empty(total, np.float64), np.empty(total, np.float64)
    _emit(values, weights, weighted, pos_start, neg_start, at, ctp, cfp, bases, *out)
    return out


def measure_parts(values, pos_start, neg_start, weights=None):
    """Per part of :func:`counts_from_parts`: its distinct values, positive and negative weight
    (``distinct.sum()`` is the length of the curve it will emit)."""
    weighted = weights is not None
    return _measure_parts(values, weights if weighted else np.empty(0, np.float64), weighted, pos_start, neg_start)


def counts_from_parts(values, pos_start, neg_start, bases, weights=None, measured=None):
    """Curve counts from parts already sorted ascending: part b holds positives
    ``values[pos_start[b]:pos_start[b+1]]`` and negatives ``values[neg_start[b]:neg_start[b+1]]``, all
    of it above every part before it; each emitted threshold is ``value + bases[b]``. ``weights``
    (aligned with ``values``) or None: every row counts 1; ``measured``: :func:`measure_parts`'s
    result, when already at hand."""
    weighted = weights is not None
    return _counts(values, weights if weighted else np.empty(0, np.float64), weighted, pos_start, neg_start, bases,
                   measured)


def _sort_by_class(y, score, weight, weighted):
    """Positives then negatives, each ascending by score, by LSD radix on order-preserving keys.

    Memory: two buffers of the score dtype (8 bytes a row for float32), plus weights if any."""
    n = score.shape[0]
    dtype = score.dtype
    mask = _MASK32 if dtype == np.float32 else _MASK64
    int_type = np.int32 if dtype == np.float32 else np.int64
    kmin = _float_key(score.min(), dtype) if n else 0
    kmax = _float_key(score.max(), dtype) if n else 0
    span_bits = (kmax - kmin).bit_length()
    if span_bits > 62:
        # keys differ by more than int64 holds (huge scores of both signs): comparison sort
        return _sort_by_class_fallback(y, score, weight, weighted)
    digit = 11 if span_bits <= 33 else 16
    passes = max(1, -(-span_bits // digit))
    radix_mask = (1 << digit) - 1
    n_chunks = max(1, min(nb.get_num_threads(), n // 65536))
    bits = score.view(int_type)
    hist = _class_digit_hist(y, bits, score, weight, weighted, mask, np.int64(kmin), 0, radix_mask, n_chunks)
    kept = int(hist.sum())
    n_pos = int(hist[0::2].sum())
    a = np.empty(kept, dtype)
    a_w = np.empty(kept if weighted else 0, np.float64)
    _class_scatter(y, bits, score, weight, weighted, mask, np.int64(kmin), 0, radix_mask, hist, n_chunks, a, a_w)
    del hist
    if passes > 1:
        b = np.empty(kept, dtype)
        b_w = np.empty(kept if weighted else 0, np.float64)
        for p in range(1, passes):
            for lo, hi in ((0, n_pos), (n_pos, kept)):
                _radix_pass(a, a.view(int_type), a_w, b, b_w, weighted, lo, hi, mask, np.int64(kmin),
                            p * digit, radix_mask, n_chunks)
            a, b, a_w, b_w = b, a, b_w, a_w
        del b, b_w
    return a, a_w, n_pos


def _sort_by_class_fallback(y, score, weight, weighted):
    keep = weight != 0 if weighted else slice(None)
    ys, ss = y[keep], score[keep]
    order = np.lexsort((ss, 1 - ys))
    values = ss[order]
    weights = weight[keep][order] if weighted else np.empty(0, np.float64)
    return values, weights, int(np.count_nonzero(ys))


def exact_counts(y, score, weight=None):
    """Distinct thresholds (decreasing) with cumulative positive (tp) and negative (fp) weight.

    ``y`` is uint8 0/1, ``score`` finite float32/float64, ``weight`` float64 >= 0 or None
    (zero-weight rows are dropped, as scikit-learn does).
    """
    return Buckets(y, score, weight).counts()


def exact_areas(y, score, weight=None):
    """``(roc_area, ap_sum, positives, negatives)`` in one pass, no curve materialised."""
    return Buckets(y, score, weight).areas()


@nb.njit(cache=True, nogil=True)
def curve_areas(tp, fp):
    """``(roc_area, ap_sum)`` from cumulative curve counts (same sums as :func:`exact_areas`)."""
    roc = 0.0
    ap = 0.0
    ptp = 0.0
    pfp = 0.0
    for k in range(tp.shape[0]):
        dtp = tp[k] - ptp
        dfp = fp[k] - pfp
        roc += dfp * (tp[k] + ptp)
        if dtp > 0.0:
            ap += dtp * (tp[k] / (tp[k] + fp[k]))
        ptp = tp[k]
        pfp = fp[k]
    return 0.5 * roc, ap


def pr_arrays(tp, fp, positives):
    """Precision and recall in increasing-threshold order with the (recall 0, precision 1) anchor
    appended, as scikit-learn's ``precision_recall_curve`` lays them out; NaN where undefined.
    Large curves fill the arrays on every thread (the time is mostly first-touch page faults)."""
    n = tp.shape[0]
    precision = np.empty(n + 1, np.float64)
    recall = np.empty(n + 1, np.float64)
    (_pr_fill_parallel if n >= 1 << 16 else _pr_fill)(tp, fp, positives, precision, recall)
    return precision, recall


def _pr_fill_body(tp, fp, positives, precision, recall):
    n = tp.shape[0]
    for k in nb.prange(n):
        i = n - 1 - k
        flagged = tp[i] + fp[i]
        precision[k] = tp[i] / flagged if flagged != 0 else np.nan
        recall[k] = tp[i] / positives if positives != 0 else np.nan
    precision[n] = 1.0
    recall[n] = 0.0


_pr_fill = nb.njit(cache=True, nogil=True)(_pr_fill_body)
_pr_fill_parallel = nb.njit(cache=True, nogil=True, parallel=True)(_pr_fill_body)
