"""Tier assignment: for each row, the first tier of its rule whose threshold the score reaches."""

from __future__ import annotations

import numba as nb
import numpy as np


def decide_rows(score, rule, thresholds, n_tiers, tier_action, otherwise, no_tier):
    """Per row: action code, tier code (the tier's action, or ``no_tier`` below every tier) and the
    deciding threshold (the lowest tier's when no tier is reached; NaN for a rule without tiers).
    The outputs are numpy's allocations (huge pages on large arrays), filled by the kernel."""
    n = score.shape[0]
    out = np.empty(n, np.int8), np.empty(n, np.int8), np.empty(n, np.float64)
    _decide(score, rule, thresholds, n_tiers, tier_action, otherwise, no_tier, *out)
    return out


@nb.njit(cache=True, nogil=True, parallel=True)
def _decide(score, rule, thresholds, n_tiers, tier_action, otherwise, no_tier, action, tier, threshold):
    n = score.shape[0]
    for i in nb.prange(n):
        r = rule[i]
        s = score[i]
        k = n_tiers[r]
        j = 0
        while j < k and s < thresholds[r, j]:
            j += 1
        if j < k:
            action[i] = tier_action[r, j]
            tier[i] = tier_action[r, j]
            threshold[i] = thresholds[r, j]
        else:
            action[i] = otherwise[r]
            tier[i] = no_tier
            threshold[i] = thresholds[r, k - 1] if k > 0 else np.nan
