"""Proportion intervals against independent references (closed-form Wilson, scipy's binomtest, beta quantiles)."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from thresher import Confusion, ParameterError
from thresher.stats import clopper_pearson, confusion_intervals, proportion_interval, wilson


def wilson_reference(k, n, confidence):
    # Wilson (1927) as written in statsmodels' proportion_confint, evaluated with math only
    z = sps.norm.isf((1 - confidence) / 2)
    q = k / n
    denom = 1 + z * z / n
    center = (q + z * z / (2 * n)) / denom
    dist = z * math.sqrt(q * (1 - q) / n + z * z / (4 * n * n)) / denom
    return max(0.0, center - dist), min(1.0, center + dist)


CASES = [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (1, 1000), (999, 1000), (50, 100), (7, 23)]


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.999])
def test_wilson_matches_closed_form_and_scipy(k, n, confidence):
    low, high = wilson(k, n, confidence)
    ref = wilson_reference(k, n, confidence)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert low == pytest.approx(ref[0], abs=1e-12) and high == pytest.approx(ref[1], abs=1e-12)
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("k,n", CASES)
@pytest.mark.parametrize("confidence", [0.5, 0.9, 0.95, 0.999])
def test_clopper_pearson_matches_scipy_exact(k, n, confidence):
    low, high = clopper_pearson(k, n, confidence)
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)


def test_edges_are_exact():
    for method in ("wilson", "clopper-pearson"):
        assert proportion_interval(0, 17, method=method)[0] == 0.0
        assert proportion_interval(17, 17, method=method)[1] == 1.0
        assert proportion_interval(2.5, 2.5, method=method)[1] == 1.0
        low, high = proportion_interval(0, 0, method=method)
        assert math.isnan(low) and math.isnan(high)


def test_clopper_pearson_is_wider_than_wilson():
    k, n = np.arange(0, 41), np.full(41, 40)
    cp, w = clopper_pearson(k, n), wilson(k, n)
    assert np.all(cp[0] <= w[0] + 1e-12) and np.all(cp[1] >= w[1] - 1e-12)


def test_vectorized_equals_scalar_and_broadcasts():
    rng = np.random.default_rng(1)
    n = rng.integers(0, 50, size=(4, 5)).astype(float)
    k = np.floor(rng.random((4, 5)) * (n + 1))
    for f in (wilson, clopper_pearson):
        low, high = f(k, n, 0.9)
        assert low.shape == high.shape == (4, 5)
        for i in np.ndindex(k.shape):
            s_low, s_high = f(float(k[i]), float(n[i]), 0.9)
            assert np.allclose([low[i], high[i]], [s_low, s_high], equal_nan=True, rtol=0, atol=1e-15)
        assert isinstance(f(3, 10)[0], float)
    low, high = wilson([1, 2, 3], 10)  # scalar trials broadcast
    assert low.shape == (3,)


def test_fractional_counts():
    # weighted counts: the beta quantiles take real shape parameters; both intervals move continuously
    low, high = clopper_pearson(2.5, 7.25, 0.95)
    assert low == pytest.approx(sps.beta.ppf(0.025, 2.5, 7.25 - 2.5 + 1), abs=1e-14)
    assert high == pytest.approx(sps.beta.ppf(0.975, 3.5, 7.25 - 2.5), abs=1e-14)
    assert wilson(2.5, 7.25) == pytest.approx(wilson_reference(2.5, 7.25, 0.95), abs=1e-12)
    for f in (wilson, clopper_pearson):
        mid = f(2.5, 7.0)
        lo_k, hi_k = f(2, 7), f(3, 7)
        assert lo_k[0] < mid[0] < hi_k[0] and lo_k[1] < mid[1] < hi_k[1]


def test_interval_contains_the_proportion():
    k, n = np.arange(0, 31), np.full(31, 30)
    for f in (wilson, clopper_pearson):
        low, high = f(k, n)
        assert np.all((low <= k / n) & (k / n <= high))


@pytest.mark.parametrize("bad", [1.5, 0, 1, 0.0, 1.0, -0.1, float("nan"), "0.9", None, True])
@pytest.mark.parametrize("owner,f", [("wilson", wilson), ("clopper_pearson", clopper_pearson),
                                     ("proportion_interval", proportion_interval)])
def test_confidence_validation(owner, f, bad):
    with pytest.raises(ParameterError, match=rf"The 'confidence' parameter of {owner} must be a float in the range \(0, 1\)"):
        f(3, 10, bad)


def test_confidence_message_shape():
    with pytest.raises(ParameterError) as err:
        wilson(3, 10, 1.5)
    assert str(err.value) == "The 'confidence' parameter of wilson must be a float in the range (0, 1). Got 1.5 instead."


@pytest.mark.parametrize("k,n,name", [(-1, 10, "successes"), (1, -10, "trials"), (float("nan"), 10, "successes"),
                                      (1, float("inf"), "trials"), (11, 10, "successes")])
def test_count_validation(k, n, name):
    with pytest.raises(ParameterError, match=f"'{name}' parameter of wilson"):
        wilson(k, n)


def test_method_validation():
    with pytest.raises(ParameterError, match="'method' parameter of proportion_interval must be one of 'wilson', 'clopper-pearson'"):
        proportion_interval(1, 2, method="exact")
    with pytest.raises(ParameterError, match="'method' parameter of confusion_intervals"):
        confusion_intervals(Confusion(0.5, 1, 1, 1, 1), method="agresti")


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_confusion_intervals(method):
    c = Confusion(0.5, tp=8, fp=2, tn=85, fn=5)
    ci = confusion_intervals(c, 0.9, method)
    assert set(ci) == {"precision", "recall", "specificity"}
    assert ci["precision"] == proportion_interval(8, 10, 0.9, method)
    assert ci["recall"] == proportion_interval(8, 13, 0.9, method)
    assert ci["specificity"] == proportion_interval(85, 87, 0.9, method)
    for metric, (low, high) in ci.items():
        assert low <= getattr(c, metric) <= high


def test_confusion_intervals_undefined_rates_are_nan():
    ci = confusion_intervals(Confusion(1.0, tp=0, fp=0, tn=5, fn=3))
    assert all(math.isnan(v) for v in ci["precision"])
    assert ci["recall"][0] == 0.0 and ci["specificity"][1] == 1.0
    ci = confusion_intervals(Confusion(0.5, tp=2.5, fp=1.25, tn=4.0, fn=0.5))  # weighted counts
    assert ci["precision"] == wilson(2.5, 3.75)
