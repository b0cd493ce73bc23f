"""DeLong's AUC variance and paired test against the O(m n) structural-components definition."""

import math

import numpy as np
import pytest
from scipy import stats as sps

import thresher
from thresher import InputError, ParameterError
from thresher.stats import delong_auc_ci, delong_test


def structural_components(y, columns):
    """DeLong et al. (1988) directly: every positive against every negative, ties count 1/2."""
    y = np.asarray(y)
    cols = [np.asarray(c, dtype=np.float64) for c in columns]
    v10, v01 = [], []
    for s in cols:
        x, z = s[y == 1], s[y == 0]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    v10, v01 = np.array(v10), np.array(v01)
    m, n = v10.shape[1], v01.shape[1]
    theta = v10.mean(axis=1)
    d10 = v10 - theta[:, None]
    d01 = v01 - theta[:, None]
    s10 = d10 @ d10.T / (m - 1)
    s01 = d01 @ d01.T / (n - 1)
    return theta, s10 / m + s01 / n


def tied_data(seed, n=300, prevalence=0.3, levels=12):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    a = np.round(rng.normal(size=n) + 0.8 * y, 1)  # rounded: many ties, within and across classes
    b = rng.integers(0, levels, size=n) + y * rng.integers(0, 3, size=n)
    return y, a, b.astype(float)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_interval_matches_structural_components(seed, confidence):
    y, a, _ = tied_data(seed)
    theta, cov = structural_components(y, [a])
    r = delong_auc_ci(y, a, confidence=confidence)
    se = math.sqrt(cov[0, 0])
    z = sps.norm.ppf(0.5 + confidence / 2)
    assert r.auc == pytest.approx(theta[0], abs=1e-12)
    assert r.auc == pytest.approx(thresher.roc_auc(y, a), abs=1e-12)
    assert r.se == pytest.approx(se, rel=1e-9)
    assert r.low == pytest.approx(max(0.0, theta[0] - z * se), abs=1e-12)
    assert r.high == pytest.approx(min(1.0, theta[0] + z * se), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_paired_test_matches_structural_components(seed):
    y, a, b = tied_data(seed, n=250 + seed * 40)
    theta, cov = structural_components(y, [a, b])
    t = delong_test(y, a, b)
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert (t.auc_a, t.auc_b) == pytest.approx(tuple(theta), abs=1e-12)
    assert t.auc_b == pytest.approx(thresher.roc_auc(y, b), abs=1e-12)
    assert t.diff == pytest.approx(theta[0] - theta[1], abs=1e-12)
    assert t.se == pytest.approx(se, rel=1e-9)
    assert t.z == pytest.approx((theta[0] - theta[1]) / se, rel=1e-9)
    assert t.p_value == pytest.approx(2 * sps.norm.sf(abs(t.z)), rel=1e-9)
    swapped = delong_test(y, b, a)
    assert swapped.z == pytest.approx(-t.z) and swapped.p_value == pytest.approx(t.p_value)


def test_identical_columns_give_p_one():
    # pROC's special case: d = 0 and se = 0 is z = 0, p = 1 (not NaN)
    y, a, _ = tied_data(3)
    for other in (a, np.exp(a), 3 * a - 1):  # any increasing transform has the same placements
        t = delong_test(y, a, other)
        assert (t.diff, t.se, t.z, t.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_zero_variance_with_a_difference_is_certain():
    y = np.array([0, 0, 0, 1, 1, 1])
    perfect = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    t = delong_test(y, perfect, np.zeros(6))
    assert t.diff == 0.5 and t.se == 0.0 and t.z == math.inf and t.p_value == 0.0


def test_strongly_better_score_has_small_p_value():
    rng = np.random.default_rng(5)
    y = (rng.random(2000) < 0.3).astype(int)
    good = rng.normal(size=2000) + 2.0 * y
    weak = rng.normal(size=2000) + 0.3 * y
    t = delong_test(y, good, weak)
    assert t.diff > 0.2 and t.p_value < 1e-10
    noise = delong_test(y, rng.normal(size=2000), rng.normal(size=2000))
    assert noise.p_value > 1e-3


def test_interval_clipped_and_perfect_separation():
    y = [0, 0, 0, 1, 1, 1]
    r = delong_auc_ci(y, [0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    assert r == (1.0, 1.0, 1.0, 0.0)
    r = delong_auc_ci([0, 0, 0, 0, 1, 1, 1, 1], [0.1, 0.2, 0.3, 0.75, 0.7, 0.8, 0.9, 0.95])
    assert r.high == 1.0 and r.auc < 1.0 and r.auc + 1.96 * r.se > 1.0


def test_auc_below_half_keeps_its_direction():
    # unlike pROC's default direction="auto", a score that ranks backwards keeps AUC < 0.5
    y, a, _ = tied_data(2)
    r = delong_auc_ci(y, -a)
    assert r.auc == pytest.approx(1 - delong_auc_ci(y, a).auc, abs=1e-12) and r.auc < 0.5


def test_single_class_is_nan_and_one_case_has_no_variance():
    assert all(math.isnan(v) for v in delong_auc_ci([1, 1, 1], [0.1, 0.2, 0.3]))
    assert all(math.isnan(v) for v in delong_test([0, 0], [0.1, 0.2], [0.3, 0.4]))
    r = delong_auc_ci([0, 0, 1], [0.1, 0.5, 0.3])
    assert r.auc == 0.5 and math.isnan(r.se) and math.isnan(r.low) and math.isnan(r.high)
    assert math.isnan(delong_test([0, 0, 1], [0.1, 0.5, 0.3], [0.2, 0.1, 0.3]).p_value)


def test_labels_and_dtypes_go_through_thresher_validation():
    y, a, b = tied_data(4, n=120)
    names = np.where(y == 1, "fraud", "ok")
    assert delong_auc_ci(names, a, pos_label="fraud") == delong_auc_ci(y, a)
    r32 = delong_test(y, a.astype(np.float32), b)
    assert r32.auc_a == pytest.approx(thresher.roc_auc(y, a.astype(np.float32)), abs=1e-12)
    with pytest.raises(InputError, match="non-finite"):
        delong_auc_ci(y, np.where(np.arange(120) == 7, np.nan, a))
    with pytest.raises(InputError, match="'score_b' has 119 rows but 'y_true' has 120"):
        delong_test(y, a, b[:-1])
    with pytest.raises(InputError, match="'score_a'"):
        delong_test(y, a[:-1], b)
    with pytest.raises(InputError, match="non-finite"):
        delong_test(y, a, np.where(np.arange(120) == 3, np.inf, b))


@pytest.mark.parametrize("bad", [0, 1, 1.5, "0.95"])
def test_confidence_validation(bad):
    with pytest.raises(ParameterError, match=r"The 'confidence' parameter of delong_auc_ci must be a float in the range \(0, 1\)"):
        delong_auc_ci([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], confidence=bad)


def test_large_input_is_fast_and_matches_roc_auc():
    rng = np.random.default_rng(0)
    y = (rng.random(200_000) < 0.1).astype(int)
    s = np.round(rng.normal(size=200_000) + y, 2)
    t = delong_test(y, s, s + rng.normal(scale=0.5, size=200_000))
    assert t.auc_a == pytest.approx(thresher.roc_auc(y, s), abs=1e-12)
    assert 0 < t.se < 0.01
