"""Invariants of the exact curve (hypothesis): merge = one-shot, row order and weight scale are
irrelevant, flipping labels and negating scores swaps the roles, thinning keeps exact points."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import thresher
from thresher import Curve

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)
from reference_cases import HYPOTHESIS

TIES = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]


@st.composite
def datasets(draw, max_n=40, weighted=None, score_range=(-5.0, 5.0)):
    """(y, s, w): labels 0/1, scores (heavy ties, distinct float64, float32 or ints), weights or None."""
    n = draw(st.integers(1, max_n))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    kind = draw(st.sampled_from(["ties", "float64", "float32", "ints"]))
    lo, hi = score_range
    if kind == "ties":
        s = np.array(draw(st.lists(st.sampled_from(TIES), min_size=n, max_size=n)))
    elif kind == "float64":
        s = np.array(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))
    elif kind == "float32":
        s = np.array(draw(st.lists(st.floats(lo, hi, width=32), min_size=n, max_size=n)), dtype=np.float32)
    else:
        s = np.array(draw(st.lists(st.integers(int(np.ceil(lo)), int(hi)), min_size=n, max_size=n)), dtype=np.int64)
    if weighted is None:
        weighted = draw(st.booleans())
    w = None
    if weighted:
        weight = st.one_of(st.just(0.0), st.floats(0.01, 10.0), st.integers(1, 5).map(float))
        w = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
    return y, s, w


def _sub(w, rows):
    return None if w is None else w[rows]


def assert_same_counts(actual: Curve, expected: Curve, exact: bool):
    assert np.array_equal(actual.thresholds.astype(np.float64), expected.thresholds.astype(np.float64))
    if exact:
        assert np.array_equal(actual.tp, expected.tp) and np.array_equal(actual.fp, expected.fp)
        assert (actual.positives, actual.negatives) == (expected.positives, expected.negatives)
    else:
        np.testing.assert_allclose(actual.tp, expected.tp, rtol=0, atol=1e-9)
        np.testing.assert_allclose(actual.fp, expected.fp, rtol=0, atol=1e-9)
        np.testing.assert_allclose([actual.positives, actual.negatives], [expected.positives, expected.negatives],
                                   rtol=0, atol=1e-9)


def assert_same_value(a: float, b: float, atol: float):
    assert (np.isnan(a) and np.isnan(b)) or abs(a - b) <= atol, (a, b)


@HYPOTHESIS
@given(data=datasets(), k=st.integers(1, 6), shards=st.data(), via_columns=st.booleans())
def test_merge_of_shards_equals_one_shot(data, k, shards, via_columns):
    y, s, w = data
    assignment = np.array(shards.draw(st.lists(st.integers(0, k - 1), min_size=len(y), max_size=len(y))))
    merged = Curve.empty()
    for shard in shards.draw(st.permutations(range(k))):
        rows = np.flatnonzero(assignment == shard)
        if len(rows) == 0:
            continue  # an empty shard is an error to count, and the identity to merge
        if via_columns:
            table = {"y": y[rows], "s": s[rows], **({} if w is None else {"w": w[rows]})}
            part = Curve.from_columns(thresher.load(table, label="y", score="s", weight=None if w is None else "w"))
        else:
            part = thresher.curve(y[rows], s[rows], sample_weight=_sub(w, rows))
        merged = merged.merge(part)
    one_shot = thresher.curve(y, s, sample_weight=w)
    assert_same_counts(merged, one_shot, exact=w is None)
    assert_same_value(merged.roc_auc(), one_shot.roc_auc(), 1e-9)
    assert_same_value(merged.average_precision(), one_shot.average_precision(), 1e-9)


@HYPOTHESIS
@given(data=datasets(), order=st.data())
def test_row_order_is_irrelevant(data, order):
    y, s, w = data
    p = np.array(order.draw(st.permutations(range(len(y)))))
    a = thresher.curve(y, s, sample_weight=w)
    b = thresher.curve(y[p], s[p], sample_weight=_sub(w, p))
    assert_same_counts(b, a, exact=w is None)
    atol = 0.0 if w is None else 1e-12
    assert_same_value(thresher.roc_auc(y[p], s[p], sample_weight=_sub(w, p)), thresher.roc_auc(y, s, sample_weight=w),
                      atol)
    assert_same_value(thresher.average_precision(y[p], s[p], sample_weight=_sub(w, p)),
                      thresher.average_precision(y, s, sample_weight=w), atol)


@HYPOTHESIS
@given(data=datasets(), k=st.floats(1e-3, 1e3))
def test_scaling_weights_changes_no_ratio(data, k):
    y, s, w = data
    base = np.ones(len(y)) if w is None else w
    a = thresher.curve(y, s, sample_weight=w)
    b = thresher.curve(y, s, sample_weight=base * k)
    assert np.array_equal(a.thresholds, b.thresholds)
    for ours, theirs in ((a.roc(), b.roc()), (a.pr(), b.pr())):
        for u, v in zip(ours, theirs):
            np.testing.assert_allclose(u, v, rtol=0, atol=1e-9)
    assert_same_value(a.roc_auc(), b.roc_auc(), 1e-9)
    assert_same_value(a.roc_auc(max_fpr=0.3), b.roc_auc(max_fpr=0.3), 1e-9)
    assert_same_value(a.average_precision(), b.average_precision(), 1e-9)
    assert_same_value(a.pr_auc(), b.pr_auc(), 1e-9)
    assert_same_value(thresher.roc_auc(y, s, sample_weight=w), thresher.roc_auc(y, s, sample_weight=base * k), 1e-9)
    assert_same_value(thresher.average_precision(y, s, sample_weight=w),
                      thresher.average_precision(y, s, sample_weight=base * k), 1e-9)


@HYPOTHESIS
@given(data=datasets())
def test_flipping_labels_and_negating_scores_swaps_roles(data):
    y, s, w = data
    auc = thresher.roc_auc(y, s, sample_weight=w)
    assert_same_value(thresher.roc_auc(1 - y, -s, sample_weight=w), auc, 1e-12)
    if not np.isnan(auc):
        # flipping only the labels mirrors the curve
        assert abs(thresher.roc_auc(1 - y, s, sample_weight=w) - (1 - auc)) <= 1e-12
        assert abs(thresher.roc_auc(y, -s, sample_weight=w) - (1 - auc)) <= 1e-12
    # the positive class of the flipped problem is the negative class here
    flipped = thresher.curve(1 - y, -s, sample_weight=w)
    direct = thresher.curve(y, s, sample_weight=w)
    np.testing.assert_allclose([flipped.positives, flipped.negatives], [direct.negatives, direct.positives],
                               rtol=1e-12, atol=0)


@HYPOTHESIS
@given(data=datasets(max_n=40, score_range=(0.0, 1.0)), keep_some=st.booleans(), params=st.data())
def test_thin_keeps_exact_points_and_bounds_contain_the_areas(data, keep_some, params):
    y, s, w = data
    rng = np.random.default_rng(params.draw(st.integers(0, 2**32 - 1)))
    # grow the data so the curve has more points than max_points
    extra = params.draw(st.integers(0, 300))
    y = np.concatenate([y, rng.integers(0, 2, extra)])
    s = np.concatenate([s.astype(np.float64), np.round(rng.random(extra), int(rng.integers(1, 5)))]).astype(s.dtype)
    if w is not None:
        w = np.concatenate([w, rng.random(extra) * 3])
    full = thresher.curve(y, s, sample_weight=w)
    max_points = params.draw(st.integers(2, 60))
    keep = [float(t) for t in rng.choice(full.thresholds, min(3, len(full)))] if keep_some and len(full) else []
    thin = full.thin(max_points, keep=keep)
    if len(full) <= max_points:
        assert thin is full
        return
    assert not thin.exact and len(thin) <= len(full)
    idx = np.searchsorted(-full.thresholds, -thin.thresholds)
    assert np.array_equal(full.thresholds[idx], thin.thresholds), "a thinned point that is not in the full curve"
    assert np.array_equal(full.tp[idx], thin.tp) and np.array_equal(full.fp[idx], thin.fp)
    assert (thin.positives, thin.negatives) == (full.positives, full.negatives)
    assert thin.thresholds[0] == full.thresholds[0] and thin.thresholds[-1] == full.thresholds[-1]
    assert np.all(np.diff(thin.thresholds) < 0)
    f1 = full.f1
    if not np.isnan(f1).all():
        assert full.thresholds[np.nanargmax(f1)] in thin.thresholds
        assert np.nanmax(thin.f1) == np.nanmax(f1)
    for t in keep:
        assert full.thresholds[full.index_at(t)] in thin.thresholds
    # the ROC convex hull is kept: every linear cost has the same optimum on the thinned curve
    # (counting the option to flag nothing, the hull's origin, on both sides)
    for cost_fp, cost_fn in ((1.0, 1.0), (1.0, 10.0), (10.0, 1.0), (rng.random(), rng.random())):
        full_cost = min(cost_fn * full.positives, np.min(cost_fp * full.fp + cost_fn * full.fn))
        thin_cost = min(cost_fn * thin.positives, np.min(cost_fp * thin.fp + cost_fn * thin.fn))
        assert thin_cost <= full_cost + 1e-9
    for exact, bounds in ((full.roc_auc(), thin.roc_auc_bounds()), (full.average_precision(),
                                                                   thin.average_precision_bounds())):
        if np.isnan(exact):
            assert np.isnan(bounds).all()
        else:
            assert bounds[0] - 1e-12 <= exact <= bounds[1] + 1e-12, (bounds, exact)
