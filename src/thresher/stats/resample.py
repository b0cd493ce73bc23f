"""Numba kernels of the stratified bootstrap (internal; the public API is :mod:`thresher.stats.bootstrap`).

Rows are sorted once by score, highest first. A resample is a vector of counts per row: ``n_pos``
uniform draws among the positives and ``n_neg`` among the negatives (an exact multinomial, so
class sizes never change). One linear pass over the sorted rows then gives the resample's
weighted ROC AUC (ties 1/2), average precision (scikit-learn's step sum) and best F1, with no
sorting per resample.

Random numbers come from SplitMix64 streams keyed by ``(seed, resample index)``, so results are
identical whatever the number of threads and whichever thread runs which resample. Each 64-bit
output gives two 32-bit draws, mapped to ``[0, size)`` by Lemire's multiply-shift with rejection
(unbiased).
"""

from __future__ import annotations

import numba as nb
import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)

# times a row is drawn in one resample: one byte keeps a million rows' counts in L2 cache. A row
# drawn 256 times (odds below 1e-500 even for huge classes) is detected and reported, never wrapped.
COUNT = np.uint8
POSITIVE = 1  # bit of ``kind``: the row is a positive
GROUP_END = 2  # bit of ``kind``: the row is the last of its tie group (the next score is lower)


@nb.njit(cache=True, nogil=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(cache=True, nogil=True)
def stream_start(seed, r):
    """Starting state of resample ``r``'s stream (``seed`` as uint64)."""
    return _mix(seed ^ _mix(np.uint64(r) * _GAMMA + _GAMMA))


@nb.njit(cache=True, nogil=True)
def draw_counts(counts, weights, weighted, state):
    """Add ``len(counts)`` uniform draws from ``[0, len(counts))`` to ``counts``.

    Returns ``(drawn weight, overflowed, state)``. :func:`draw_above` draws the same indices."""
    size = counts.shape[0]
    bound = np.uint64(max(size, 1))
    reject = ((np.uint64(1) << _S32) - bound) % bound  # 2**32 mod bound
    total = 0.0
    overflow = False
    n = 0
    while n < size:
        state += _GAMMA
        z = _mix(state)
        product = (z >> _S32) * bound
        if (product & _LOW32) >= reject:
            i = product >> _S32
            counts[i] += 1
            overflow |= counts[i] == 0  # read back: the sum itself is computed in a wider integer
            total += weights[i] if weighted else 1.0
            n += 1
        if n < size:
            product = (z & _LOW32) * bound
            if (product & _LOW32) >= reject:
                i = product >> _S32
                counts[i] += 1
                overflow |= counts[i] == 0
                total += weights[i] if weighted else 1.0
                n += 1
    return total, overflow, state


@nb.njit(cache=True, nogil=True)
def draw_above(size, k, weights, weighted, state):
    """The draws of :func:`draw_counts` without counts: ``(drawn weight, drawn weight of rows < k, state)``."""
    bound = np.uint64(max(size, 1))
    reject = ((np.uint64(1) << _S32) - bound) % bound
    kk = np.uint64(k)
    total = 0.0
    above = 0.0
    n = 0
    while n < size:
        state += _GAMMA
        z = _mix(state)
        product = (z >> _S32) * bound
        if (product & _LOW32) >= reject:
            i = product >> _S32
            x = weights[i] if weighted else 1.0
            total += x
            above += x if i < kk else 0.0
            n += 1
        if n < size:
            product = (z & _LOW32) * bound
            if (product & _LOW32) >= reject:
                i = product >> _S32
                x = weights[i] if weighted else 1.0
                total += x
                above += x if i < kk else 0.0
                n += 1
    return total, above, state


@nb.njit(cache=True, nogil=True)
def resample_counts(n_pos, n_neg, seed, r):
    """The counts of resample ``r``: ``(positive counts, negative counts)`` in class order (tests)."""
    cp = np.zeros(n_pos, COUNT)
    cn = np.zeros(n_neg, COUNT)
    none = np.empty(0, np.float64)
    state = stream_start(seed, r)
    _, _, state = draw_counts(cp, none, False, state)
    draw_counts(cn, none, False, state)
    return cp, cn


@nb.njit(cache=True, nogil=True)
def curve_pass(cpos, cneg, wpos, wneg, weighted, kind, scores, positives, buf_tp, buf_fp, buf_row):
    """One pass over all rows, highest score first, for the resample given by the counts.

    ``kind[t]`` tells the class of merged row ``t`` and whether its tie group ends there. Count
    and weight arrays carry one padding element so both classes are read without a branch (the
    classes are shuffled, so a branch would mispredict). Groups that add positive weight are
    written to the buffers, and a second, short loop sums average precision and finds the best
    F1 there: F1 only falls while negatives are added, so its maximum is at such a group.
    Returns ``(roc_area, ap_sum, best_f1, best_threshold)``; F1 ties keep the highest threshold.
    """
    ip = 0
    jn = 0
    ctp = 0.0
    cfp = 0.0
    dtp = 0.0
    dfp = 0.0
    roc = 0.0
    m = 0
    for t in range(kind.shape[0]):
        k = kind[t]
        isp = k & POSITIVE
        f = float(isp)
        if weighted:
            dtp += cpos[ip] * wpos[ip] * f
            dfp += cneg[jn] * wneg[jn] * (1.0 - f)
        else:
            dtp += cpos[ip] * f
            dfp += cneg[jn] * (1.0 - f)
        ip += isp
        jn += 1 - isp
        if k & GROUP_END:
            roc += dfp * (2.0 * ctp + dtp)
            ctp += dtp
            cfp += dfp
            buf_tp[m] = ctp
            buf_fp[m] = cfp
            buf_row[m] = t
            m += dtp > 0.0
            dtp = 0.0
            dfp = 0.0
    ap = 0.0
    previous = 0.0
    best_num = 0.0
    best_den = 1.0
    best_row = -1
    for g in range(m):
        tp = buf_tp[g]
        flagged = tp + buf_fp[g]
        ap += (tp - previous) * (tp / flagged)
        previous = tp
        # F1 = 2 tp / (flagged + positives), compared without dividing
        den = flagged + positives
        if tp * best_den > best_num * den:
            best_num = tp
            best_den = den
            best_row = buf_row[g]
    if best_row < 0:
        return 0.5 * roc, ap, np.nan, np.nan
    return 0.5 * roc, ap, 2.0 * best_num / best_den, scores[best_row]


@nb.njit(cache=True, nogil=True, parallel=True)
def bootstrap_curves(n_pos, n_neg, wpos, wneg, weighted, kind, scores, seed, n_resamples, n_chunks):
    """Per resample: ``(auc, ap, best_f1, best_threshold, overflowed)``.

    Resamples are split into ``n_chunks`` contiguous runs (one per thread); ``wpos`` and ``wneg``
    are padded by one element when weighted."""
    auc = np.empty(n_resamples)
    ap = np.empty(n_resamples)
    f1 = np.empty(n_resamples)
    thr = np.empty(n_resamples)
    overflow = np.zeros(n_resamples, np.bool_)
    step = (n_resamples + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        cpos = np.zeros(n_pos + 1, COUNT)
        cneg = np.zeros(n_neg + 1, COUNT)
        buf_tp = np.empty(n_pos + 1)
        buf_fp = np.empty(n_pos + 1)
        buf_row = np.empty(n_pos + 1, np.int64)
        for r in range(c * step, min(n_resamples, (c + 1) * step)):
            cpos[:] = 0
            cneg[:] = 0
            state = stream_start(seed, r)
            p, o1, state = draw_counts(cpos[:n_pos], wpos, weighted, state)
            q, o2, state = draw_counts(cneg[:n_neg], wneg, weighted, state)
            overflow[r] = o1 or o2
            roc, ap_sum, best, best_thr = curve_pass(cpos, cneg, wpos, wneg, weighted, kind, scores, p,
                                                     buf_tp, buf_fp, buf_row)
            auc[r] = roc / (p * q) if p > 0 and q > 0 else np.nan
            ap[r] = max(0.0, ap_sum / p) if p > 0 else np.nan
            f1[r] = best if p > 0 else np.nan
            thr[r] = best_thr if p > 0 else np.nan
    return auc, ap, f1, thr, overflow


@nb.njit(cache=True, nogil=True, parallel=True)
def bootstrap_at(n_pos, n_neg, wpos, wneg, weighted, k_pos, k_neg, seed, n_resamples):
    """Per resample: ``(tp, fp, positives, negatives)`` weights, where the top ``k_pos`` positives
    and ``k_neg`` negatives are the rows at or above a threshold. Same draws as :func:`bootstrap_curves`."""
    tp = np.empty(n_resamples)
    fp = np.empty(n_resamples)
    pw = np.empty(n_resamples)
    nw = np.empty(n_resamples)
    for r in nb.prange(n_resamples):
        state = stream_start(seed, r)
        pw[r], tp[r], state = draw_above(n_pos, k_pos, wpos, weighted, state)
        nw[r], fp[r], state = draw_above(n_neg, k_neg, wneg, weighted, state)
    return tp, fp, pw, nw
