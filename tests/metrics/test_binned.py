"""The binned state: merge of shards = one-shot, exact counts at bin edges, bounds contain the
exact areas (hypothesis), plus hand-checked placement at edges and clipping."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import thresher
from thresher import BinnedCounts

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)
from reference_cases import HYPOTHESIS

EDGE_MODES = ("uniform", "ties", "on_edges", "float32")


@st.composite
def binned_data(draw, max_n=60):
    """(y, s, w, bins) with scores in [0, 1]: uniform, heavy ties, exactly on or one ulp off bin edges."""
    n = draw(st.integers(1, max_n))
    bins = draw(st.integers(2, 200))
    seed = draw(st.integers(0, 2**32 - 1))
    mode = draw(st.sampled_from(EDGE_MODES))
    weighted = draw(st.booleans())
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    if mode == "uniform":
        s = rng.random(n)
    elif mode == "ties":
        s = np.round(rng.random(n), 1)
    elif mode == "on_edges":
        edges = np.linspace(0.0, 1.0, bins + 1)
        s = edges[rng.integers(0, bins + 1, n)]
        # k / bins is often one ulp away from linspace's edge; nudge some by one ulp either way
        s = np.where(rng.random(n) < 0.3, rng.integers(0, bins + 1, n) / bins, s)
        s = np.clip(np.where(rng.random(n) < 0.3, np.nextafter(s, rng.choice([-1.0, 2.0], n)), s), 0.0, 1.0)
    else:
        s = rng.random(n).astype(np.float32)
    w = None
    if weighted:
        w = rng.random(n) * 4
        w[rng.random(n) < 0.2] = 0.0
    return y, s, w, bins


@HYPOTHESIS
@given(data=binned_data(), k=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_merge_of_binned_shards_equals_one_shot(data, k, seed):
    y, s, w, bins = data
    assignment = np.random.default_rng(seed).integers(0, k, len(y))
    merged = None
    for shard in range(k):
        rows = np.flatnonzero(assignment == shard)
        if len(rows) == 0:
            continue
        part = BinnedCounts.from_scores(y[rows], s[rows], sample_weight=None if w is None else w[rows], bins=bins)
        merged = part if merged is None else merged.merge(part)
    one_shot = BinnedCounts.from_scores(y, s, sample_weight=w, bins=bins)
    assert np.array_equal(merged.edges, one_shot.edges)
    if w is None:
        assert np.array_equal(merged.pos, one_shot.pos) and np.array_equal(merged.neg, one_shot.neg)
    else:
        np.testing.assert_allclose(merged.pos, one_shot.pos, rtol=0, atol=1e-9)
        np.testing.assert_allclose(merged.neg, one_shot.neg, rtol=0, atol=1e-9)
    assert merged.pos.sum() + merged.neg.sum() == pytest.approx((np.ones(len(y)) if w is None else w).sum())


@HYPOTHESIS
@given(data=binned_data())
def test_binned_counts_are_exact_at_edges_and_bounds_contain_the_exact_areas(data):
    y, s, w, bins = data
    exact = thresher.curve(y, s, sample_weight=w)
    binned = thresher.binned_curve(y, s, bins=bins, sample_weight=w)
    assert not binned.exact
    assert np.all(np.diff(binned.thresholds) < 0)
    assert np.isin(binned.thresholds, np.linspace(0, 1, bins + 1)).all()
    for k, t in enumerate(binned.thresholds):
        point = exact.at(t)
        assert abs(binned.tp[k] - point.tp) <= 1e-9 and abs(binned.fp[k] - point.fp) <= 1e-9, (
            f"at bin edge {t!r}: binned ({binned.tp[k]}, {binned.fp[k]}) != exact ({point.tp}, {point.fp})")
    np.testing.assert_allclose([binned.positives, binned.negatives], [exact.positives, exact.negatives], atol=1e-9)

    auc = thresher.roc_auc(y, s, sample_weight=w)
    lo, hi = binned.roc_auc_bounds()
    if np.isnan(auc):
        assert np.isnan(lo) and np.isnan(hi)
    else:
        assert lo - 1e-12 <= auc <= hi + 1e-12, (lo, auc, hi)
    ap = thresher.average_precision(y, s, sample_weight=w)
    lo, hi = binned.average_precision_bounds()
    if np.isnan(ap):
        assert np.isnan(lo) and np.isnan(hi)
    else:
        assert lo - 1e-12 <= ap <= hi + 1e-12, (lo, ap, hi)


@HYPOTHESIS
@given(data=binned_data())
def test_bounds_are_tight_when_each_bin_holds_one_class(data):
    """With no bin holding both classes the binned ROC AUC is exact (zero-width interval)."""
    y, s, w, bins = data
    binned = BinnedCounts.from_scores(y, s, sample_weight=w, bins=bins)
    if np.any((binned.pos > 0) & (binned.neg > 0)):
        return
    lo, hi = binned.curve().roc_auc_bounds()
    auc = thresher.roc_auc(y, s, sample_weight=w)
    if not np.isnan(auc):
        assert hi - lo <= 1e-12 and abs(lo - auc) <= 1e-12


def test_edges_belong_to_the_bin_they_start():
    # bins of width 0.25: [0, .25) [.25, .5) [.5, .75) [.75, 1]
    b = BinnedCounts.from_scores([1, 0, 1, 0, 1], [0.0, 0.25, 0.5, 0.75, 1.0], bins=4)
    assert b.edges.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert b.pos.tolist() == [1, 0, 1, 1] and b.neg.tolist() == [0, 1, 0, 1]
    c = b.curve()
    assert c.thresholds.tolist() == [0.75, 0.5, 0.25, 0.0]
    assert c.tp.tolist() == [1, 2, 2, 3] and c.fp.tolist() == [1, 1, 2, 2]


def test_scores_outside_the_range_are_clipped_into_the_edge_bins():
    b = BinnedCounts.from_scores([1, 0, 1], [-3.0, 0.5, 7.0], bins=4)
    assert b.pos.tolist() == [1, 0, 0, 1] and b.neg.tolist() == [0, 0, 1, 0]


_HUGE = """
import json, numpy as np
from thresher import BinnedCounts
out = []
for score in (1e19, 1e300, float(np.finfo(np.float32).max)):
    b = BinnedCounts.from_scores([0, 1], [0.5, score], bins=10)
    out.append([float(b.pos.sum()), float(b.neg.sum()), float(b.pos[-1])])
print(json.dumps(out))
"""


def test_huge_scores_are_clipped_not_lost():
    # in a subprocess: an overflowing bin index (the bug this guards against) writes out of bounds
    done = subprocess.run([sys.executable, "-c", _HUGE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for pos_total, neg_total, pos_last_bin in json.loads(done.stdout):
        assert (pos_total, neg_total, pos_last_bin) == (1.0, 1.0, 1.0)


def test_huge_negative_scores_are_clipped():
    b = BinnedCounts.from_scores([0, 1], [0.5, -1e300], bins=10)
    assert b.pos.tolist() == [1.0] + [0.0] * 9


def test_merge_needs_the_same_edges():
    a = BinnedCounts.from_scores([0, 1], [0.2, 0.7], bins=10)
    with pytest.raises(thresher.ParameterError, match="same bin edges"):
        a.merge(BinnedCounts.from_scores([0, 1], [0.2, 0.7], bins=11))
    with pytest.raises(thresher.ParameterError, match="same bin edges"):
        a.merge(BinnedCounts.from_scores([0, 1], [0.2, 0.7], bins=10, range=(0, 2)))
    with pytest.raises(thresher.ParameterError, match="Only exact curves merge"):
        thresher.curve([0, 1], [0.2, 0.7]).merge(a.curve())


def test_binned_curve_with_custom_range():
    y, s = [0, 1, 1, 0], [-2.0, 3.0, 1.0, 0.0]
    c = thresher.binned_curve(y, s, bins=5, range=(-2.0, 3.0))
    exact = thresher.curve(y, s)
    for k, t in enumerate(c.thresholds):
        assert (c.tp[k], c.fp[k]) == (exact.at(t).tp, exact.at(t).fp)
