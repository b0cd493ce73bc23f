"""Exact counting over float32 keys split in two: 16 high bits pick a bucket, 16 low bits are stored.

Out-of-core counting keeps only the low 16 bits of each row's order-preserving key (2 bytes a row):
the high bits are implied by the bucket the row is placed in. Each bucket is then sorted in place,
by counting when it is large (65,536 slots, one pass), otherwise by a comparison sort.
"""

from __future__ import annotations

import numba as nb
import numpy as np

N_HIGH = 1 << 16
_FOLD = np.int64(0x7FFFFFFF)
_OFFSET = np.int64(1 << 31)


@nb.njit(cache=True, nogil=True, inline="always")
def _key(bits, s):
    # order-preserving unsigned key in [0, 2**32) for a float32 (sign-folded bits; -0.0 joins +0.0)
    k = np.int64(bits)
    if k < 0:
        k ^= _FOLD
    if s == 0:
        k = 0
    return k + _OFFSET


@nb.njit(cache=True, nogil=True, parallel=True)
def _bits_of_keys(keys, bits):
    for i in nb.prange(keys.shape[0]):
        k = keys[i] - _OFFSET
        bits[i] = np.int32(k ^ _FOLD if k < 0 else k)


def floats_of_keys(keys: np.ndarray) -> np.ndarray:
    """The float32 scores of unsigned keys (inverse of the key transform)."""
    bits = np.empty(keys.shape[0], np.int32)  # numpy's allocation: huge pages when large
    _bits_of_keys(keys, bits)
    return bits.view(np.float32)


@nb.njit(cache=True, nogil=True)
def histogram(y, score, segment, hist):
    """Add each row to ``hist[segment, 1 - y, high 16 bits]`` (positives in class row 0); an empty
    ``segment`` array puts every row in segment 0."""
    bits = score.view(np.int32)
    one = segment.shape[0] == 0
    for i in range(score.shape[0]):
        hist[0 if one else segment[i], 1 - y[i], _key(bits[i], score[i]) >> 16] += 1


def scatter(y, score, segment, cursor, ends, buffer):
    """Store each row's low 16 key bits at ``cursor[segment, 1 - y, high bits]`` and advance it.

    Returns False, having stored nothing more, as soon as a bucket would pass its end (``ends``):
    the rows differ from those that were counted."""
    return _scatter(y, score, _NO_WEIGHTS, False, segment, cursor, ends, buffer, _NO_WEIGHTS)


def scatter_weighted(y, score, weight, segment, cursor, ends, buffer, weights):
    """:func:`scatter` that also stores each row's weight at the same place of ``weights``."""
    return _scatter(y, score, weight, True, segment, cursor, ends, buffer, weights)


_NO_WEIGHTS = np.empty(0, np.float64)


@nb.njit(cache=True, nogil=True)
def _scatter(y, score, weight, weighted, segment, cursor, ends, buffer, weights):
    bits = score.view(np.int32)
    one = segment.shape[0] == 0
    for i in range(score.shape[0]):
        k = _key(bits[i], score[i])
        c = (0 if one else segment[i], 1 - y[i], k >> 16)
        at = cursor[c]
        if at >= ends[c]:
            return False
        buffer[at] = np.uint16(k & 0xFFFF)
        if weighted:
            weights[at] = weight[i]
        cursor[c] = at + 1
    return True


@nb.njit(cache=True, nogil=True, parallel=True)
def sort_buckets_weighted(buffer, weights, bounds):
    """Sort every bucket ascending by key, in place, carrying the weights along (stable: equal keys
    keep the order they were placed in)."""
    for b in nb.prange(bounds.shape[0] - 1):
        lo = bounds[b]
        hi = bounds[b + 1]
        if hi - lo < 2:
            continue
        order = np.argsort(buffer[lo:hi], kind="mergesort")
        keys = buffer[lo:hi][order]
        w = weights[lo:hi][order]
        buffer[lo:hi] = keys
        weights[lo:hi] = w


@nb.njit(cache=True, nogil=True, parallel=True)
def sort_buckets(buffer, bounds, n_threads):
    """Sort every bucket ``buffer[bounds[b]:bounds[b + 1]]`` ascending, in place."""
    scratch = np.zeros((n_threads, N_HIGH), np.int64)
    for b in nb.prange(bounds.shape[0] - 1):
        lo = bounds[b]
        hi = bounds[b + 1]
        if hi - lo < 2:
            continue
        if hi - lo >= 4096:
            counts = scratch[nb.get_thread_id()]
            for i in range(lo, hi):
                counts[buffer[i]] += 1
            at = lo
            for v in range(N_HIGH):
                c = counts[v]
                if c:
                    for _ in range(c):
                        buffer[at] = v
                        at += 1
                    counts[v] = 0
        elif hi - lo > 32:
            buffer[lo:hi].sort()
        else:
            for i in range(lo + 1, hi):
                v = buffer[i]
                j = i - 1
                while j >= lo and buffer[j] > v:
                    buffer[j + 1] = buffer[j]
                    j -= 1
                buffer[j + 1] = v
