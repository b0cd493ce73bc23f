import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from thresher.errors import InputError
from thresher.stats.calibration import brier_score, calibration_check, expected_calibration_error, reliability_table


@pytest.mark.parametrize("seed", range(5))
def test_brier_and_reliability_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(int)
    w = rng.random(2000)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert brier_score(y, p, w) == pytest.approx(brier_score_loss(y, p, sample_weight=w), abs=1e-12)
    table = reliability_table(y, p, bins=10)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(table["observed"], observed, atol=1e-12)
    np.testing.assert_allclose(table["predicted"], predicted, atol=1e-12)


def test_ece_matches_an_independent_computation():
    rng = np.random.default_rng(1)
    p = rng.random(5000)
    y = (rng.random(5000) < p**2).astype(int)
    bins = np.minimum((p * 10).astype(int), 9)
    expected = sum(np.mean(bins == b) * abs(y[bins == b].mean() - p[bins == b].mean()) for b in range(10))
    assert expected_calibration_error(y, p) == pytest.approx(expected, abs=1e-12)


def test_verdict_separates_calibrated_from_miscalibrated_scores():
    rng = np.random.default_rng(2)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    good = calibration_check(y, p, cost=100.0, bayes_cost=101.0)
    bad = calibration_check(y, p**4, cost=100.0, bayes_cost=140.0)
    assert good.calibrated_enough and "calibrated enough" in good.verdict()
    assert not bad.calibrated_enough and "NOT calibrated" in bad.verdict()
    assert bad.ece > 0.1


def test_scores_outside_unit_interval_are_rejected():
    with pytest.raises(InputError, match="probabilities in \\[0, 1\\]"):
        brier_score(np.array([0, 1]), np.array([-2.0, 3.0]))
