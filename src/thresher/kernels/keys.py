"""Exact counting over order-preserving score keys split in two: 16 high bits pick a bucket, the
low bits are stored.

Out-of-core counting keeps only the low bits of each row's key: the high bits are implied by the
bucket the row is placed in. float32 scores keep 16 low bits (2 bytes a row); float64 scores keep 48
(a uint64, 8 bytes a row). Each bucket is then sorted in place: a 16-bit bucket by counting when it
is large (65,536 slots, one pass), otherwise, and always for 48 bits, by a comparison sort.

A key is the float's bits with the negative half folded (``bits ^ 0x7F…F`` below zero; -0.0 joins
+0.0), shifted by half the range so that it is unsigned and sorts as the scores do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from numba import types
from numba.extending import overload

N_HIGH = 1 << 16


@dataclass(frozen=True)
class KeyLayout:
    """How a score dtype's keys are split: ``low_bits`` stored per row as ``stored``, the rest in the bucket."""

    score: type  # the score dtype
    bits: type  # the signed integer of the same width
    low_bits: int
    stored: type  # the dtype of the buffer that holds the low bits, and of the keys

    @property
    def bases(self) -> np.ndarray:
        """Each bucket's first key (add a row's stored low bits to get its key)."""
        key = np.uint64 if self.stored == np.uint64 else np.int64
        return np.arange(N_HIGH, dtype=key) << key(self.low_bits)


FLOAT32 = KeyLayout(np.float32, np.int32, 16, np.uint16)
FLOAT64 = KeyLayout(np.float64, np.int64, 48, np.uint64)


def layout_of(score: np.ndarray) -> KeyLayout:
    return FLOAT32 if score.dtype == np.float32 else FLOAT64


def _split(bits, s):  # (bucket, low bits) of a score's key; compiled per width below
    raise NotImplementedError


@overload(_split, inline="always")
def _split_by_width(bits, s):
    if isinstance(bits, types.Integer) and bits.bitwidth == 32:
        def split32(bits, s):
            k = np.int64(bits)
            if k < 0:
                k ^= np.int64(0x7FFFFFFF)
            if s == 0:
                k = 0
            k += np.int64(1 << 31)  # unsigned, below 2**32
            return k >> 16, k & 0xFFFF
        return split32

    def split64(bits, s):
        k = np.int64(bits)
        if k < 0:
            k ^= np.int64(0x7FFFFFFFFFFFFFFF)
        if s == 0:
            k = 0
        u = np.uint64(k) + np.uint64(1 << 63)  # wraps into the unsigned order
        return u >> np.uint64(48), u & np.uint64(0xFFFFFFFFFFFF)
    return split64


@nb.njit(cache=True, nogil=True, parallel=True)
def _bits_of_keys32(keys, bits):
    for i in nb.prange(keys.shape[0]):
        k = keys[i] - np.int64(1 << 31)
        bits[i] = np.int32(k ^ np.int64(0x7FFFFFFF) if k < 0 else k)


@nb.njit(cache=True, nogil=True, parallel=True)
def _bits_of_keys64(keys, bits):
    for i in nb.prange(keys.shape[0]):
        k = np.int64(keys[i] - np.uint64(1 << 63))
        bits[i] = k ^ np.int64(0x7FFFFFFFFFFFFFFF) if k < 0 else k


def floats_of_keys(keys: np.ndarray, layout: KeyLayout = FLOAT32) -> np.ndarray:
    """The scores of keys (inverse of the key transform), in the layout's score dtype."""
    bits = np.empty(keys.shape[0], layout.bits)  # numpy's allocation: huge pages when large
    (_bits_of_keys32 if layout is FLOAT32 else _bits_of_keys64)(keys, bits)
    return bits.view(layout.score)


def histogram(y, score, segment, hist):
    """Add each row to ``hist[segment, 1 - y, bucket]`` (positives in class row 0); an empty
    ``segment`` array puts every row in segment 0."""
    _histogram(y, score, score.view(layout_of(score).bits), segment, hist)


@nb.njit(cache=True, nogil=True)
def _histogram(y, score, bits, segment, hist):
    one = segment.shape[0] == 0
    for i in range(score.shape[0]):
        bucket, _low = _split(bits[i], score[i])
        hist[0 if one else segment[i], 1 - y[i], bucket] += 1


def scatter(y, score, segment, cursor, ends, buffer):
    """Store each row's low key bits at ``cursor[segment, 1 - y, bucket]`` and advance it.

    Returns False, having stored nothing more, as soon as a bucket would pass its end (``ends``):
    the rows differ from those that were counted."""
    return scatter_weighted(y, score, None, segment, cursor, ends, buffer, None)


def scatter_weighted(y, score, weight, segment, cursor, ends, buffer, weights):
    """:func:`scatter` that also stores each row's weight at the same place of ``weights`` (None: no weights)."""
    weighted = weight is not None
    return _scatter(y, score, score.view(layout_of(score).bits), weight if weighted else _NO_WEIGHTS, weighted,
                    segment, cursor, ends, buffer, weights if weighted else _NO_WEIGHTS)


_NO_WEIGHTS = np.empty(0, np.float64)


@nb.njit(cache=True, nogil=True)
def _scatter(y, score, bits, weight, weighted, segment, cursor, ends, buffer, weights):
    one = segment.shape[0] == 0
    for i in range(score.shape[0]):
        bucket, low = _split(bits[i], score[i])
        c = (0 if one else segment[i], 1 - y[i], bucket)
        at = cursor[c]
        if at >= ends[c]:
            return False
        buffer[at] = low
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


def sort_buckets(buffer, bounds, n_threads):
    """Sort every bucket ``buffer[bounds[b]:bounds[b + 1]]`` ascending, in place."""
    if buffer.dtype == np.uint16:
        _sort_buckets16(buffer, bounds, n_threads)
    else:
        _sort_buckets_by_comparison(buffer, bounds)


@nb.njit(cache=True, nogil=True, parallel=True)
def _sort_buckets_by_comparison(buffer, bounds):
    for b in nb.prange(bounds.shape[0] - 1):
        lo = bounds[b]
        hi = bounds[b + 1]
        if hi - lo > 1:
            buffer[lo:hi].sort()


@nb.njit(cache=True, nogil=True, parallel=True)
def _sort_buckets16(buffer, bounds, n_threads):
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
