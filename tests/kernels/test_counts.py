"""The counting kernel against a plain numpy reference, on the inputs that stress the radix sort
(signed zeros, subnormals, both signs, wide key spans) and the parallel part split (ties that
straddle split values, one empty class)."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.kernels.counts import Buckets, curve_areas, exact_areas, exact_counts
from thresher.kernels.hull import upper_hull

from numba_threads import all_threads, one_numba_thread  # noqa: F401  (fixtures)


def reference_counts(y, s, w=None):
    """Distinct scores decreasing, cumulative positive / negative weight at or above each."""
    w = np.ones(len(s)) if w is None else w
    keep = w != 0
    y, s, w = y[keep], s[keep].astype(np.float64), w[keep]
    thresholds = np.unique(s)[::-1]  # np.unique treats -0.0 == 0.0
    k = np.searchsorted(-thresholds, -s)  # index of each row's threshold
    tp = np.cumsum(np.bincount(k, weights=w * (y == 1), minlength=len(thresholds)))
    fp = np.cumsum(np.bincount(k, weights=w * (y == 0), minlength=len(thresholds)))
    return thresholds, tp, fp


def check(y, s, w=None):
    y = np.asarray(y, np.uint8)
    thresholds, tp, fp = exact_counts(y, s, w)
    ref_thr, ref_tp, ref_fp = reference_counts(y, s, w)
    assert thresholds.dtype == s.dtype
    assert np.array_equal(thresholds.astype(np.float64), ref_thr)
    if w is None:
        assert np.array_equal(tp, ref_tp) and np.array_equal(fp, ref_fp)
    else:
        np.testing.assert_allclose(tp, ref_tp, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fp, ref_fp, rtol=1e-12, atol=1e-12)
    roc, ap, p, n = exact_areas(y, s, w)
    roc2, ap2 = curve_areas(tp, fp)
    totals = (ref_tp[-1], ref_fp[-1]) if len(ref_tp) else (0.0, 0.0)
    assert (p, n) == pytest.approx(totals, rel=1e-12)
    assert roc == pytest.approx(roc2, rel=1e-12, abs=1e-12) and ap == pytest.approx(ap2, rel=1e-12, abs=1e-12)
    return thresholds, tp, fp


F64_CASES = {
    "signed zeros": [-0.0, 0.0, -0.0, 0.0, 1.0],
    "subnormals": [5e-324, -5e-324, 0.0, 1e-320, -1e-320, 2.2250738585072014e-308],
    "huge both signs": [-1.7976931348623157e308, 1.7976931348623157e308, 0.0, -1.0, 1.0],
    "all negative": [-3.5, -1e-10, -2.0, -3.5, -7e100],
    "one value": [0.25] * 7,
    "adjacent floats": list(np.nextafter(0.5, np.array([0.0, 1.0, 0.5, 0.0, 1.0]))),
    "integers": [3.0, 1.0, 2.0, 3.0, 1.0, 100.0],
}


@pytest.mark.parametrize("name", sorted(F64_CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adversarial_scores(name, dtype):
    with np.errstate(over="ignore", under="ignore"):
        s = np.asarray(F64_CASES[name], dtype=dtype)
    s = s[np.isfinite(s)]  # float64 maxima overflow to inf in float32
    rng = np.random.default_rng(len(name))
    for _ in range(20):
        y = rng.integers(0, 2, len(s))
        check(y, s)
        check(y, s, rng.integers(0, 3, len(s)).astype(np.float64))


def test_signed_zeros_are_one_threshold():
    thresholds, tp, fp = check([1, 0, 1], np.array([-0.0, 0.0, 1.0]))
    assert len(thresholds) == 2 and tp.tolist() == [1, 2] and fp.tolist() == [0, 1]


def test_zero_weight_rows_are_dropped_everywhere():
    s = np.array([0.9, 0.5, 0.1, 0.5])
    thresholds, tp, fp = check([1, 0, 0, 1], s, np.array([0.0, 0.0, 2.0, 1.0]))
    assert thresholds.tolist() == [0.5, 0.1] and tp.tolist() == [1, 1] and fp.tolist() == [0, 2]
    thresholds, tp, fp = exact_counts(np.array([1, 0], np.uint8), np.array([0.3, 0.4]), np.zeros(2))
    assert len(thresholds) == len(tp) == len(fp) == 0
    assert exact_areas(np.array([1, 0], np.uint8), np.array([0.3, 0.4]), np.zeros(2)) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("seed", range(5))
def test_random_float32_of_both_signs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    s = (rng.standard_cauchy(n) * 10.0 ** rng.integers(-30, 30)).astype(np.float32)
    s[rng.random(n) < 0.1] = 0.0
    check(rng.integers(0, 2, n), s)
    check(rng.integers(0, 2, n), s, rng.random(n) * (rng.random(n) > 0.3))


@pytest.mark.parametrize("positives", ["mixed", "none", "all"])
def test_parallel_parts_with_ties_across_split_values(positives, all_threads):
    rng = np.random.default_rng(3)
    n = 300_000
    s = rng.choice(np.array([0.1, 0.2, 0.3, 0.2000001]), n)  # few values: every split lands inside a tie group
    y = {"mixed": rng.integers(0, 2, n), "none": np.zeros(n, np.int64), "all": np.ones(n, np.int64)}[positives]
    buckets = Buckets(y.astype(np.uint8), s)
    if all_threads > 1:
        assert len(buckets.pos_start) > 2  # the input really was cut into several parts
    check(y, s)
    check(y, s.astype(np.float32), rng.integers(0, 3, n).astype(np.float64))


def test_parallel_parts_distinct_scores(all_threads):
    rng = np.random.default_rng(4)
    n = 262_144
    y = rng.integers(0, 2, n)
    check(y, rng.random(n))
    check(y, rng.normal(size=n))  # both signs: comparison-sort fallback
    check(y, rng.normal(size=n).astype(np.float32))


def test_upper_hull_matches_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(200):
        m = int(rng.integers(1, 30))
        x = np.concatenate([[0.0], np.cumsum(rng.integers(0, 3, m))]).astype(np.float64)
        y = np.concatenate([[0.0], np.cumsum(rng.integers(0, 3, m))]).astype(np.float64)
        hull = upper_hull(x, y)
        assert hull[0] == 0 and hull[-1] == len(x) - 1
        # every point lies on or below every hull edge
        for a, b in zip(hull[:-1], hull[1:]):
            cross = (x[b] - x[a]) * (y - y[a]) - (y[b] - y[a]) * (x - x[a])
            assert np.all(cross <= 1e-9)
        # and every hull vertex is a strict corner (points on a hull edge are dropped)
        for a, b, c in zip(hull[:-2], hull[1:-1], hull[2:]):
            assert (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a]) < 0
