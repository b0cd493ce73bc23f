"""Binned counts: a fixed-size, mergeable histogram of positive and negative weight per score bin.

Memory is O(bins) whatever the number of rows, and two histograms over the same edges merge by
addition. Bin b holds scores in [edges[b], edges[b+1]); the last bin is closed. Scores outside
[lo, hi] are clipped into the edge bins. Counts at the bin edges are exact: a score is placed by
comparing it with the edges themselves, not only by the rounded arithmetic that finds the bin.
"""

from __future__ import annotations

import numba as nb
import numpy as np


def bin_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """``bins + 1`` increasing edges from lo to hi."""
    return np.linspace(lo, hi, bins + 1)


@nb.njit(cache=True, nogil=True, inline="always")
def _bin_of(s, lo, scale, edges, bins):
    # clamp in floating point first: a huge score would overflow the int conversion
    x = (s - lo) * scale
    if x <= 0.0:
        b = 0
    elif x >= bins:
        b = bins - 1
    else:
        b = int(x)
    # the float division can land one bin off at an edge: settle it against the edges
    if b > 0 and s < edges[b]:
        b -= 1
    elif b + 1 < bins and s >= edges[b + 1]:
        b += 1
    return b


@nb.njit(cache=True, nogil=True, parallel=True)
def _binned(y, score, weight, weighted, edges):
    bins = edges.shape[0] - 1
    lo = edges[0]
    scale = bins / (edges[bins] - lo)
    n = score.shape[0]
    chunks = max(1, min(64, n // 65536))
    step = (n + chunks - 1) // chunks
    # one interleaved histogram per chunk, slot 2b + y: no branch on the label in the loop
    hist = np.zeros((chunks, 2 * bins), np.float64)
    counts = np.zeros((chunks, 2 * bins), np.int64)
    for c in nb.prange(chunks):
        start = c * step
        stop = min(n, start + step)
        if weighted:
            for k in range(start, stop):
                hist[c, 2 * _bin_of(score[k], lo, scale, edges, bins) + y[k]] += weight[k]
        else:
            for k in range(start, stop):
                counts[c, 2 * _bin_of(score[k], lo, scale, edges, bins) + y[k]] += 1
    total = hist.sum(axis=0) if weighted else counts.sum(axis=0).astype(np.float64)
    return total[1::2].copy(), total[0::2].copy()


def binned_counts(y, score, edges, weight=None):
    """Per-bin positive and negative weight, ``(pos_hist, neg_hist)``, each of length ``len(edges) - 1``."""
    weighted = weight is not None
    w = weight if weighted else np.empty(0, np.float64)
    return _binned(y, score, w, weighted, np.asarray(edges, np.float64))


def bin_index(score, edges):
    """The bin of every score, as :func:`binned_counts` places it (int32)."""
    out = np.empty(score.shape[0], np.int32)
    _bin_index(score, edges, out)
    return out


@nb.njit(cache=True, nogil=True)
def _bin_index(score, edges, out):
    bins = edges.shape[0] - 1
    lo = edges[0]
    scale = bins / (edges[bins] - lo)
    for k in range(score.shape[0]):
        out[k] = _bin_of(score[k], lo, scale, edges, bins)
