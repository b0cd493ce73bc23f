"""Upper convex hull of a monotone point sequence (the ROC convex hull)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def upper_hull(x, y):
    """Indices of the upper convex hull of points sorted by non-decreasing x (monotone chain)."""
    n = x.shape[0]
    hull = np.empty(n, np.int64)
    h = 0
    for i in range(n):
        while h >= 2:
            a = hull[h - 2]
            b = hull[h - 1]
            # drop b when it lies on or below the segment a -> i
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross >= 0:
                h -= 1
            else:
                break
        hull[h] = i
        h += 1
    return hull[:h].copy()
