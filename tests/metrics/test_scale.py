"""Exactness at scale: 200 000 rows, against scikit-learn, with every numba thread (several chunks
and value-range parts in the kernel whenever the machine has more than one core)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import thresher

from numba_threads import all_threads, one_numba_thread  # noqa: F401  (fixtures)

N = 200_000


def _data(kind: str, rng: np.random.Generator):
    y = (rng.random(N) < 0.1).astype(np.int64)  # imbalanced
    noise = rng.normal(0, 1, N) + 1.5 * y
    if kind == "float32_ties":
        s = np.round(1 / (1 + np.exp(-noise)), 3).astype(np.float32)  # ~1000 distinct values
    elif kind == "float64":
        s = 1 / (1 + np.exp(-noise))  # all distinct
    else:  # logits of both signs: wide key span
        s = noise * 3
    return y, s


@pytest.mark.parametrize("kind", ["float32_ties", "float64", "logits"])
@pytest.mark.parametrize("weighted", [False, True])
def test_medium_case_matches_sklearn(kind, weighted, all_threads):
    rng = np.random.default_rng(7)
    y, s = _data(kind, rng)
    w = None
    if weighted:
        w = rng.integers(0, 4, N).astype(np.float64)  # integer weights keep the sums exact; zeros drop rows
    c = thresher.curve(y, s, sample_weight=w)
    tns, fps, fns, tps, thr = skm.confusion_matrix_at_thresholds(y, s, sample_weight=w)
    assert c.thresholds.dtype == s.dtype
    assert np.array_equal(c.thresholds, thr)
    assert np.array_equal(c.tp, tps) and np.array_equal(c.fp, fps)
    assert np.array_equal(c.tn, tns) and np.array_equal(c.fn, fns)
    if kind == "float32_ties":
        assert len(c) < 1500  # the ties really are ties

    auc = skm.roc_auc_score(y, s, sample_weight=w)
    assert abs(thresher.roc_auc(y, s, sample_weight=w) - auc) <= 1e-12
    assert abs(c.roc_auc() - auc) <= 1e-12
    assert abs(c.roc_auc(max_fpr=0.1) - skm.roc_auc_score(y, s, sample_weight=w, max_fpr=0.1)) <= 1e-12
    ap = skm.average_precision_score(y, s, sample_weight=w)
    assert abs(thresher.average_precision(y, s, sample_weight=w) - ap) <= 1e-12
    assert abs(c.average_precision() - ap) <= 1e-12


def test_medium_case_real_weights(all_threads):
    rng = np.random.default_rng(8)
    y, s = _data("float32_ties", rng)
    w = rng.random(N) * 2
    w[rng.random(N) < 0.05] = 0
    c = thresher.curve(y, s, sample_weight=w)
    _, fps, _, tps, thr = skm.confusion_matrix_at_thresholds(y, s, sample_weight=w)
    assert np.array_equal(c.thresholds, thr)
    np.testing.assert_allclose(c.tp, tps, rtol=1e-12)
    np.testing.assert_allclose(c.fp, fps, rtol=1e-12)
    assert abs(c.roc_auc() - skm.roc_auc_score(y, s, sample_weight=w)) <= 1e-12
    assert abs(c.average_precision() - skm.average_precision_score(y, s, sample_weight=w)) <= 1e-12
