"""Hand-computable cases: scikit-learn's docstring examples and the edges of the NaN rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

import thresher
from thresher import Confusion, Curve

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]


def test_sklearn_docstring_example_counts():
    # sklearn.metrics.confusion_matrix_at_thresholds docstring
    c = thresher.curve(Y, S)
    assert c.thresholds.tolist() == [0.8, 0.4, 0.35, 0.1]
    assert c.tp.tolist() == [1, 1, 2, 2]
    assert c.fp.tolist() == [0, 1, 1, 2]
    assert c.tn.tolist() == [2, 1, 1, 0]
    assert c.fn.tolist() == [1, 1, 0, 0]
    assert (c.positives, c.negatives, len(c)) == (2.0, 2.0, 4)


def test_sklearn_docstring_example_roc_curve_with_pos_label_2():
    # sklearn.metrics.roc_curve docstring: y = [1, 1, 2, 2], pos_label=2
    fpr, tpr, thr = thresher.curve([1, 1, 2, 2], S, pos_label=2).roc()
    assert fpr.tolist() == [0, 0, 0.5, 0.5, 1]
    assert tpr.tolist() == [0, 0.5, 0.5, 1, 1]
    assert thr.tolist() == [np.inf, 0.8, 0.4, 0.35, 0.1]


def test_sklearn_docstring_example_pr_curve():
    precision, recall, thr = thresher.curve(Y, S).pr()
    assert precision.tolist() == [0.5, 2 / 3, 0.5, 1.0, 1.0]
    assert recall.tolist() == [1.0, 1.0, 0.5, 0.5, 0.0]
    assert thr.tolist() == [0.1, 0.35, 0.4, 0.8]


def test_sklearn_docstring_example_areas():
    c = thresher.curve(Y, S)
    assert thresher.roc_auc(Y, S) == c.roc_auc() == 0.75
    # AP = 1/2 * 1 (recall 0.5 at precision 1) + 1/2 * 2/3 (recall 1 at precision 2/3)
    assert thresher.average_precision(Y, S) == pytest.approx(5 / 6, abs=1e-15)
    assert c.average_precision() == pytest.approx(5 / 6, abs=1e-15)
    # trapezoids through (recall, precision) = (0, 1) (0.5, 1) (0.5, 0.5) (1, 2/3) (1, 0.5)
    assert c.pr_auc() == pytest.approx(0.5 * 1 + 0.5 * (0.5 + 2 / 3) / 2, abs=1e-15)


def test_docstring_example_confusion_at_thresholds():
    c = thresher.curve(Y, S)
    assert c.at(0.4).matrix().tolist() == [[1, 1], [1, 1]]
    assert c.at(0.35).matrix().tolist() == [[1, 1], [0, 2]]
    assert c.at(0.36).matrix().tolist() == [[1, 1], [1, 1]]  # between scores: the point above applies
    assert c.at(0.9).matrix().tolist() == [[2, 0], [2, 0]]  # above every score: nothing flagged
    assert c.at(-5).matrix().tolist() == [[0, 2], [0, 2]]  # below every score: everything flagged
    assert c.at(0.35).precision == 2 / 3 and c.at(0.35).recall == 1.0


def test_mcc_docstring_example():
    # sklearn.metrics.matthews_corrcoef docstring: y_true [+1, +1, +1, -1], y_pred [+1, -1, +1, +1]
    conf = thresher.curve([1, 1, 1, -1], [1, 0, 1, 1]).at(1)
    assert (conf.tp, conf.fn, conf.fp, conf.tn) == (2, 1, 1, 0)
    assert conf.mcc == pytest.approx(-1 / 3, abs=1e-15)


def test_balanced_accuracy_docstring_example():
    # sklearn.metrics.balanced_accuracy_score docstring: y_true [0,1,0,0,1,0], y_pred [0,1,0,0,0,1]
    conf = thresher.curve([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]).at(1)
    assert conf.balanced_accuracy == 0.625
    assert conf.accuracy == 4 / 6


def test_f_beta_by_hand():
    conf = Confusion(0.5, tp=8, fp=2, tn=85, fn=5)
    assert conf.precision == 0.8 and conf.recall == 8 / 13
    assert conf.f1 == pytest.approx(2 * 8 / (2 * 8 + 2 + 5), abs=1e-15)
    assert conf.f_beta(2) == pytest.approx(5 * 8 / (5 * 8 + 4 * 5 + 2), abs=1e-15)
    assert conf.f_beta(0.5) == pytest.approx(1.25 * 8 / (1.25 * 8 + 0.25 * 5 + 2), abs=1e-15)
    assert conf.metric("f2") == conf.f_beta(2) and conf.metric("f0.5") == conf.f_beta(0.5)
    assert conf.sensitivity == conf.tpr == conf.recall
    assert conf.ppv == conf.precision and conf.tnr == conf.specificity == 85 / 87
    assert conf.alert_rate == conf.ppr == 10 / 100 and conf.prevalence == 13 / 100
    assert conf.youden_j == pytest.approx(8 / 13 + 85 / 87 - 1, abs=1e-15)


def test_n_equals_1():
    c = thresher.curve([1], [0.5])
    assert c.thresholds.tolist() == [0.5] and c.tp.tolist() == [1] and c.fp.tolist() == [0]
    assert math.isnan(c.roc_auc()) and math.isnan(thresher.roc_auc([1], [0.5]))
    assert c.average_precision() == 1.0 == thresher.average_precision([1], [0.5])
    precision, recall, thr = c.pr()
    assert precision.tolist() == [1, 1] and recall.tolist() == [1, 0] and thr.tolist() == [0.5]
    negative = thresher.curve([0], [0.5])
    assert math.isnan(negative.roc_auc()) and math.isnan(negative.average_precision())
    assert math.isnan(negative.pr_auc())


@pytest.mark.parametrize(("scores", "auc", "ap"), [([0.2, 0.8], 1.0, 1.0), ([0.8, 0.2], 0.0, 0.5),
                                                   ([0.5, 0.5], 0.5, 0.5)])
def test_n_equals_2(scores, auc, ap):
    assert thresher.roc_auc([0, 1], scores) == auc
    assert thresher.average_precision([0, 1], scores) == ap
    assert thresher.curve([0, 1], scores).roc_auc() == auc


def test_constant_scores():
    y = [0, 1, 1, 0, 1]
    c = thresher.curve(y, [0.3] * 5)
    assert c.thresholds.tolist() == [0.3] and c.tp.tolist() == [3] and c.fp.tolist() == [2]
    assert c.roc_auc() == 0.5 == thresher.roc_auc(y, [0.3] * 5)
    assert c.average_precision() == 3 / 5  # one step to recall 1 at the prevalence


def test_no_positives_is_nan_where_sklearn_is_not():
    y, s = [0, 0, 0], [0.1, 0.5, 0.9]
    c = thresher.curve(y, s)
    assert math.isnan(thresher.roc_auc(y, s)) and math.isnan(c.roc_auc(max_fpr=0.5))
    assert math.isnan(thresher.average_precision(y, s)) and math.isnan(c.pr_auc())
    assert np.isnan(c.recall).all()
    with pytest.warns(UserWarning):
        assert skm.average_precision_score(y, s) == 0.0  # scikit-learn's choice, not thresher's
    with pytest.warns(UserWarning):
        assert skm.precision_recall_curve(y, s)[1][:-1].tolist() == [1, 1, 1]


def test_no_negatives():
    c = thresher.curve([1, 1], [0.1, 0.9])
    assert math.isnan(c.roc_auc()) and np.isnan(c.fpr).all()
    assert c.average_precision() == 1.0


def test_mcc_zero_over_zero_is_nan():
    # nothing flagged: tp + fp = 0, so MCC is 0/0
    conf = thresher.curve([0, 1, 1], [0.1, 0.2, 0.3]).at(0.5)
    assert (conf.tp, conf.fp) == (0, 0)
    assert math.isnan(conf.mcc) and math.isnan(conf.precision) and conf.recall == 0.0
    assert conf.f1 == 0.0  # 2tp / (2tp + fp + fn) = 0 / 2 is defined
    assert skm.matthews_corrcoef([0, 1, 1], [0, 0, 0]) == 0.0
    everything = Confusion(0.0, tp=0, fp=0, tn=0, fn=0)
    assert all(math.isnan(everything.metric(m)) for m in ("precision", "recall", "f1", "mcc", "accuracy"))


def test_string_bool_and_pm1_labels_agree():
    expected = thresher.curve(Y, S)
    for labels, kwargs in ((["ham", "ham", "spam", "spam"], {"pos_label": "spam"}),
                           ([False, False, True, True], {}),
                           ([-1, -1, 1, 1], {}),
                           ([0.0, 0.0, 1.0, 1.0], {}),
                           ([1, 1, 0, 0], {"pos_label": 0})):
        c = thresher.curve(labels, S, **kwargs)
        assert c.tp.tolist() == expected.tp.tolist() and c.fp.tolist() == expected.fp.tolist(), labels


def test_zero_weight_rows_leave_the_thresholds():
    c = thresher.curve([0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4], sample_weight=[1, 0, 2, 0])
    assert c.thresholds.tolist() == [0.3, 0.1]
    assert c.tp.tolist() == [2, 2] and c.fp.tolist() == [0, 1]
    assert skm.confusion_matrix_at_thresholds([0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4],
                                              sample_weight=[1, 0, 2, 0])[4].tolist() == [0.3, 0.1]


def test_signed_zeros_are_one_threshold():
    c = thresher.curve([0, 1, 1], [-0.0, 0.0, 1.0])
    assert len(c) == 2 and c.thresholds[1] == 0.0
    assert c.tp.tolist() == [1, 2] and c.fp.tolist() == [0, 1]


def test_float32_scores_compare_exactly_with_a_float64_threshold():
    s = np.array([0.1, 0.7], np.float32)
    just_above = float(np.nextafter(np.float64(s[0]), 1))  # rounds to s[0] in float32
    c = thresher.curve([1, 0], s)
    assert c.thresholds.dtype == np.float32
    assert c.at(just_above).tp == 0  # 0.1f < just_above as real numbers
    assert c.at(float(s[0])).tp == 1
    assert thresher.confusion([1, 0], s, threshold=just_above).tp == 0


def test_integer_scores_become_float64():
    c = thresher.curve([0, 1, 1], [3, 7, 7])
    assert c.thresholds.dtype == np.float64 and c.thresholds.tolist() == [7, 3]


def test_partial_auc_by_hand():
    # perfect ranking standardises to 1; a reversed one has partial area 0: 0.5 * (1 + (0 - low) / (high - low))
    y, s = [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]
    assert thresher.roc_auc(y, s, max_fpr=0.5) == 1.0
    low, high = 0.5 * 0.5**2, 0.5
    assert thresher.roc_auc(y, s[::-1], max_fpr=0.5) == pytest.approx(0.5 * (1 - low / (high - low)), abs=1e-15)
    assert thresher.roc_auc(y, s, max_fpr=1) == thresher.roc_auc(y, s) == 1.0


def test_curve_empty_is_the_merge_identity():
    c = thresher.curve(Y, S)
    for merged in (Curve.empty().merge(c), c.merge(Curve.empty())):
        assert merged.thresholds.tolist() == c.thresholds.tolist()
        assert merged.tp.tolist() == c.tp.tolist() and merged.fp.tolist() == c.fp.tolist()
        assert (merged.positives, merged.negatives) == (c.positives, c.negatives)
    assert len(Curve.empty()) == 0 and math.isnan(Curve.empty().roc_auc())


def test_to_dict_shows_nan_as_none_and_counts_as_int():
    d = thresher.curve([0, 1, 1], [0.1, 0.2, 0.3]).at(0.5).to_dict()
    assert d == {"threshold": 0.5, "tp": 0, "fp": 0, "tn": 1, "fn": 2, "precision": None, "recall": 0,
                 "f1": 0, "specificity": 1, "alert_rate": 0}
