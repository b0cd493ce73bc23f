"""Stratified bootstrap: each resample equals the metric on the explicitly materialised resample."""

import json
import math

import numba
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import thresher
from thresher import ParameterError
from thresher.stats import bootstrap, bootstrap_threshold_metrics
from thresher.stats import resample


def tied_data(seed, n=200, prevalence=0.35):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    s = np.round(rng.normal(size=n) + y, 1)  # many ties inside and across classes
    return y, s


def materialise(y, s, w, seed, r):
    """Row indices of resample ``r`` by the documented convention: rows sorted by score, highest
    first (stable, so ties keep input order), each class drawn in that order. Zero weights dropped."""
    keep = np.flatnonzero(w > 0) if w is not None else np.arange(len(y))
    order = keep[np.argsort(-s[keep], kind="stable")]
    pos, neg = order[y[order] == 1], order[y[order] == 0]
    cp, cn = resample.resample_counts(len(pos), len(neg), np.uint64(seed), r)
    assert cp.sum() == len(pos) and cn.sum() == len(neg)  # stratified: class sizes kept
    return np.concatenate([np.repeat(pos, cp), np.repeat(neg, cn)])


def best_f1(y, s, w):
    c = thresher.curve(y, s, sample_weight=w)
    k = int(np.nanargmax(c.f1))  # first maximum: the highest threshold among ties
    return c.f1[k], c.thresholds[k]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 11])
def test_each_resample_equals_the_materialised_resample(seed, weighted):
    y, s = tied_data(seed)
    w = np.random.default_rng(seed).choice([0.0, 0.5, 1.0, 2.5], size=len(y)) if weighted else None
    result = bootstrap(y, s, n_resamples=40, seed=seed, sample_weight=w)
    for r in (0, 1, 17, 39):
        idx = materialise(y, s, w, seed, r)
        wr = None if w is None else w[idx]
        assert result.samples["roc_auc"][r] == pytest.approx(roc_auc_score(y[idx], s[idx], sample_weight=wr), abs=1e-12)
        assert result.samples["average_precision"][r] == pytest.approx(
            average_precision_score(y[idx], s[idx], sample_weight=wr), abs=1e-12)
        f1, thr = best_f1(y[idx], s[idx], wr)
        assert result.samples["max_f1"][r] == pytest.approx(f1, abs=1e-12)
        if not weighted:  # with float weights an F1 tie may break by rounding; counts are exact
            assert result.samples["max_f1_threshold"][r] == thr


def test_estimate_is_the_metric_on_the_data():
    y, s = tied_data(3, n=500)
    r = bootstrap(y, s, n_resamples=10)
    assert r.estimate["roc_auc"] == pytest.approx(thresher.roc_auc(y, s), abs=1e-12)
    assert r.estimate["average_precision"] == pytest.approx(thresher.average_precision(y, s), abs=1e-12)
    f1, thr = best_f1(y, s, None)
    assert r.estimate["max_f1"] == pytest.approx(f1, abs=1e-12) and r.estimate["max_f1_threshold"] == thr


def test_seeded_and_independent_of_thread_count():
    y, s = tied_data(4, n=3000)
    a = bootstrap(y, s, n_resamples=50, seed=123)
    b = bootstrap(y, s, n_resamples=50, seed=123)
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        c = bootstrap(y, s, n_resamples=50, seed=123)
    finally:
        numba.set_num_threads(previous)
    d = bootstrap(y, s, n_resamples=50, seed=124)
    for m in a.samples:
        np.testing.assert_array_equal(a.samples[m], b.samples[m])
        np.testing.assert_array_equal(a.samples[m], c.samples[m])
    assert not np.array_equal(a.samples["roc_auc"], d.samples["roc_auc"])
    # a longer run starts with the same resamples
    np.testing.assert_array_equal(bootstrap(y, s, n_resamples=80, seed=123).samples["roc_auc"][:50], a.samples["roc_auc"])


def test_interval_contains_estimate_and_shrinks_with_data():
    rng = np.random.default_rng(8)
    widths = []
    for n in (500, 8000):
        y = (rng.random(n) < 0.3).astype(int)
        s = rng.normal(size=n) + 1.2 * y
        r = bootstrap(y, s, n_resamples=400, seed=1)
        for m in ("roc_auc", "average_precision", "max_f1"):
            low, high = r.interval(m)
            assert low < r.estimate[m] < high
        low, high = r.interval("roc_auc")
        widths.append(high - low)
        assert r.interval("roc_auc", 0.5)[1] - r.interval("roc_auc", 0.5)[0] < high - low
        assert r.std("roc_auc") == pytest.approx(np.std(r.samples["roc_auc"], ddof=1))
    assert widths[1] < widths[0] / 2


def test_percentile_interval_is_numpy_linear_quantile():
    y, s = tied_data(5)
    r = bootstrap(y, s, n_resamples=101, seed=2, confidence=0.9)
    assert r.interval("average_precision") == tuple(np.quantile(r.samples["average_precision"], [0.05, 0.95]))


def test_draws_are_uniform_within_class():
    # every row equally likely: mean count per row over many resamples is 1 (exact multinomial)
    totals = np.zeros(7)
    for r in range(3000):
        cp, cn = resample.resample_counts(7, 3, np.uint64(9), r)
        assert cp.sum() == 7 and cn.sum() == 3
        totals += cp
    mean = totals / 3000
    assert np.all(np.abs(mean - 1) < 0.06)  # sd of each mean is about 0.017


def test_zero_weight_rows_are_dropped_not_drawn():
    y, s = tied_data(6)
    w = np.ones(len(y))
    w[::5] = 0.0
    keep = w > 0
    a = bootstrap(y, s, n_resamples=30, seed=4, sample_weight=w)
    b = bootstrap(y[keep], s[keep], n_resamples=30, seed=4)
    for m in a.samples:
        np.testing.assert_allclose(a.samples[m], b.samples[m], rtol=0, atol=1e-12)


def test_threshold_metrics_pair_with_bootstrap_resamples():
    y, s = tied_data(7)
    w = np.random.default_rng(7).uniform(0.5, 2.0, size=len(y))
    for weights in (None, w):
        r = bootstrap_threshold_metrics(y, s, 0.5, n_resamples=25, seed=3, sample_weight=weights,
                                        metrics=("precision", "recall", "f1", "specificity"))
        full = thresher.confusion(y, s, threshold=0.5, sample_weight=weights)
        for m in r.samples:
            assert r.estimate[m] == pytest.approx(getattr(full, m), abs=1e-12)
        for k in (0, 9, 24):
            idx = materialise(y, s, weights, 3, k)
            c = thresher.confusion(y[idx], s[idx], threshold=0.5, sample_weight=None if weights is None else weights[idx])
            for m in r.samples:
                assert r.samples[m][k] == pytest.approx(getattr(c, m), abs=1e-12)


def test_threshold_metrics_undefined_are_nan():
    y, s = tied_data(8)
    r = bootstrap_threshold_metrics(y, s, 100.0, n_resamples=5)  # nothing flagged
    assert np.all(np.isnan(r.samples["precision"])) and np.all(r.samples["recall"] == 0)
    assert all(math.isnan(v) for v in r.interval("precision"))


def test_single_class_gives_nan_auc():
    r = bootstrap([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], n_resamples=5)
    assert np.all(np.isnan(r.samples["roc_auc"])) and math.isnan(r.estimate["roc_auc"])
    assert np.all(r.samples["average_precision"] == 1.0)  # AP is defined with positives only, as thresher's
    r = bootstrap([0, 0, 0], [0.1, 0.2, 0.3], n_resamples=5)
    assert all(np.all(np.isnan(v)) for v in r.samples.values())
    assert r.to_dict()["metrics"]["roc_auc"]["low"] is None


def test_metric_subset_and_to_dict():
    y, s = tied_data(9)
    r = bootstrap(y, s, n_resamples=20, metrics=("roc_auc",))
    assert list(r.samples) == ["roc_auc"] and list(r.estimate) == ["roc_auc"]
    d = json.loads(json.dumps(r.to_dict()))
    assert d["n_resamples"] == 20 and set(d["metrics"]["roc_auc"]) == {"estimate", "low", "high", "std"}
    with pytest.raises(ParameterError, match="No bootstrap samples for 'average_precision'"):
        r.interval("average_precision")


def test_float32_scores():
    y, s = tied_data(10)
    s32 = s.astype(np.float32)
    r = bootstrap(y, s32, n_resamples=5)
    assert r.estimate["roc_auc"] == pytest.approx(thresher.roc_auc(y, s32), abs=1e-12)
    assert r.estimate["max_f1_threshold"] in set(s32.astype(np.float64))


@pytest.mark.parametrize("kwargs,name", [
    ({"n_resamples": 0}, "n_resamples"), ({"n_resamples": 2.5}, "n_resamples"), ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"), ({"confidence": 1.0}, "confidence"), ({"metrics": ("auc",)}, "metrics"),
    ({"metrics": ()}, "metrics"),
])
def test_parameter_validation(kwargs, name):
    with pytest.raises(ParameterError, match=f"The '{name}' parameter of bootstrap"):
        bootstrap([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], **kwargs)


def test_threshold_parameter_validation():
    with pytest.raises(ParameterError, match="The 'threshold' parameter of bootstrap_threshold_metrics"):
        bootstrap_threshold_metrics([0, 1], [0.1, 0.2], float("nan"))
    with pytest.raises(ParameterError, match="Unknown metric 'recal'"):
        bootstrap_threshold_metrics([0, 1], [0.1, 0.2], 0.5, metrics=("recal",))


def test_count_overflow_is_detected():
    counts = np.array([255], dtype=resample.COUNT)
    _, overflowed, _ = resample.draw_counts(counts, np.empty(0), False, resample.stream_start(np.uint64(0), 0))
    assert overflowed
