"""Differential tests: thresher against scikit-learn on thousands of random and adversarial cases.

Every comparison is to 1e-12 absolute. Where thresher's documented rule differs from
scikit-learn's (a 0/0 is NaN; scikit-learn sets recall to 1 with no positives and MCC to 0 when
undefined) the test asserts thresher's rule and that scikit-learn indeed differs there.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import thresher

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)
from reference_cases import make_case, pick_threshold

ATOL = 1e-12
CHUNKS = 10
CURVE_CASES = 160  # per chunk: 1600 cases
AREA_CASES = 60  # per chunk: 600 cases
THRESHOLD_CASES = 55  # per chunk: 550 cases

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:No positive class found:UserWarning"),
    pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true:UserWarning"),
    pytest.mark.filterwarnings("ignore:A single label was found:UserWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]


def assert_close(actual, expected, case, what, atol=ATOL):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape} for {case!r}"
    ok = np.isclose(actual, expected, rtol=0, atol=atol, equal_nan=True)
    assert ok.all(), f"{what}: {actual.tolist()} != {expected.tolist()} for {case!r}"


def assert_same_thresholds(actual, expected, case):
    assert actual.dtype == (np.float32 if case.s.dtype == np.float32 else np.float64), case
    assert np.array_equal(actual.astype(np.float64), np.asarray(expected, dtype=np.float64)), (
        f"thresholds {actual.tolist()} != {np.asarray(expected).tolist()} for {case!r}")


def nan_or_close(actual, expected, case, what):
    if np.isnan(expected):
        assert np.isnan(actual), f"{what}: {actual} should be NaN for {case!r}"
    else:
        assert abs(actual - expected) <= ATOL, f"{what}: {actual} != {expected} for {case!r}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_curves_match_sklearn(chunk):
    for i in range(chunk * CURVE_CASES, (chunk + 1) * CURVE_CASES):
        case = make_case(i, seed=1)
        c = thresher.curve(case.y, case.s, **case.kwargs)

        tns, fps, fns, tps, thr = skm.confusion_matrix_at_thresholds(
            case.y, case.s, pos_label=case.positive, sample_weight=case.w)
        assert_same_thresholds(c.thresholds, thr, case)
        for name, ours, theirs in (("tp", c.tp, tps), ("fp", c.fp, fps), ("tn", c.tn, tns), ("fn", c.fn, fns)):
            assert_close(ours, theirs, case, name)

        fpr, tpr, roc_thr = skm.roc_curve(case.y, case.s, pos_label=case.positive, sample_weight=case.w,
                                          drop_intermediate=False)
        our_fpr, our_tpr, our_roc_thr = c.roc()
        assert_close(our_fpr, fpr, case, "fpr")
        assert_close(our_tpr, tpr, case, "tpr")  # both NaN without positives
        assert np.array_equal(our_roc_thr, np.asarray(roc_thr, dtype=np.float64)), case

        precision, recall, pr_thr = skm.precision_recall_curve(
            case.y, case.s, pos_label=case.positive, sample_weight=case.w, drop_intermediate=False)
        our_p, our_r, our_pr_thr = c.pr()
        assert_close(our_p, precision, case, "precision")
        assert_same_thresholds(our_pr_thr, pr_thr, case)
        if case.pos_weight > 0:
            assert_close(our_r, recall, case, "recall")
        else:
            # thresher: recall is 0/0 = NaN at every threshold; scikit-learn sets it to 1
            assert np.isnan(our_r[:-1]).all() and our_r[-1] == 0.0, case
            assert np.all(recall[:-1] == 1.0)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_areas_match_sklearn(chunk):
    rng = np.random.default_rng(chunk)
    for i in range(chunk * AREA_CASES, (chunk + 1) * AREA_CASES):
        case = make_case(i, seed=2)
        c = thresher.curve(case.y, case.s, **case.kwargs)
        both = case.pos_weight > 0 and case.neg_weight > 0

        ours = [thresher.roc_auc(case.y, case.s, **case.kwargs), c.roc_auc(), c.roc_auc(max_fpr=1)]
        if both:
            expected = skm.roc_auc_score(case.y01, case.s, sample_weight=case.w)
            for value in ours:
                nan_or_close(value, expected, case, "roc_auc")
            fpr = c.roc()[0]
            # a random cut-off, and one exactly at a curve knot
            for max_fpr in (float(rng.uniform(0.01, 0.99)), float(rng.choice(fpr[fpr > 0]))):
                expected = skm.roc_auc_score(case.y01, case.s, sample_weight=case.w, max_fpr=max_fpr)
                nan_or_close(c.roc_auc(max_fpr), expected, case, f"roc_auc(max_fpr={max_fpr})")
            nan_or_close(thresher.roc_auc(case.y, case.s, max_fpr=max_fpr, **case.kwargs), expected, case,
                         f"thresher.roc_auc(max_fpr={max_fpr})")
        else:
            assert np.isnan(ours).all(), case
            assert np.isnan(c.roc_auc(max_fpr=0.5)), case

        ap_forms = [thresher.average_precision(case.y, case.s, **case.kwargs), c.average_precision()]
        pr_auc_forms = [thresher.pr_auc(case.y, case.s, **case.kwargs), c.pr_auc()]
        if case.pos_weight > 0:
            expected = skm.average_precision_score(case.y, case.s, pos_label=case.positive, sample_weight=case.w)
            for value in ap_forms:
                nan_or_close(value, expected, case, "average_precision")
            precision, recall, _ = skm.precision_recall_curve(
                case.y, case.s, pos_label=case.positive, sample_weight=case.w, drop_intermediate=False)
            expected = skm.auc(recall, precision)
            for value in pr_auc_forms:
                nan_or_close(value, expected, case, "pr_auc")
        else:
            assert np.isnan(ap_forms + pr_auc_forms).all(), case


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_threshold_metrics_match_sklearn(chunk):
    rng = np.random.default_rng(100 + chunk)
    for i in range(chunk * THRESHOLD_CASES, (chunk + 1) * THRESHOLD_CASES):
        case = make_case(i, seed=3)
        c = thresher.curve(case.y, case.s, **case.kwargs)
        t = pick_threshold(case, rng)
        conf = c.at(t)
        assert conf == thresher.confusion(case.y, case.s, threshold=t, **case.kwargs)
        y = case.y01
        pred = (case.s.astype(np.float64) >= t).astype(np.int64)  # compared as real numbers
        w = case.w

        matrix = skm.confusion_matrix(y, pred, labels=[0, 1], sample_weight=w)
        assert_close(conf.matrix(), matrix, case, f"matrix at {t}")

        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, zero_division=np.nan, average="binary",
                                                         sample_weight=w)
        nan_or_close(conf.precision, p, case, "precision")
        nan_or_close(conf.recall, r, case, "recall")
        nan_or_close(conf.f1, f, case, "f1")
        beta = float(rng.choice([0.5, 2.0, rng.uniform(0.1, 5)]))
        nan_or_close(conf.f_beta(beta), skm.fbeta_score(y, pred, beta=beta, zero_division=np.nan, sample_weight=w),
                     case, f"f_beta({beta})")

        mcc = skm.matthews_corrcoef(y, pred, sample_weight=w)
        margins = (conf.tp + conf.fp, conf.tp + conf.fn, conf.tn + conf.fp, conf.tn + conf.fn)
        if min(margins) > 0:
            nan_or_close(conf.mcc, mcc, case, "mcc")
        else:
            assert np.isnan(conf.mcc), f"MCC is 0/0 here and must be NaN for {case!r}"
            assert mcc == 0.0  # scikit-learn's convention, which thresher deliberately does not follow

        nan_or_close(conf.accuracy, skm.accuracy_score(y, pred, sample_weight=w), case, "accuracy")
        if case.pos_weight > 0 and case.neg_weight > 0:
            nan_or_close(conf.balanced_accuracy, skm.balanced_accuracy_score(y, pred, sample_weight=w), case,
                         "balanced_accuracy")
        else:
            assert np.isnan(conf.balanced_accuracy), case


def test_case_generator_covers_every_kind():
    """The chunks above really contain the adversarial kinds they are meant to."""
    cases = [make_case(i, seed=1) for i in range(CHUNKS * CURVE_CASES)]
    assert {c.s.dtype for c in cases} >= {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)}
    assert {len(c.s) for c in cases} >= {1, 2}
    assert any(c.pos_weight == 0 for c in cases) and any(c.neg_weight == 0 for c in cases)
    assert any(c.w is not None and (c.w == 0).any() for c in cases)
    assert {type(c.positive) for c in cases} >= {int, bool, str, float}
    assert any(len(np.unique(c.s)) == 1 and len(c.s) > 5 for c in cases)
    assert any(len(np.unique(c.s)) < len(c.s) / 3 for c in cases)
    zero = [c.s[c.s == 0] for c in cases]
    assert any(np.signbit(z).any() and not np.signbit(z).all() for z in zero)  # -0.0 next to 0.0
