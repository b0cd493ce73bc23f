"""What each kind of check measures and when it passes, against hand counts and thresher's own layers."""

import numpy as np
import pytest
import yaml

import thresher
from thresher.data.load import from_arrays
from thresher.gate import check_gate
from thresher.gate.measure import Sample
from thresher.gate.paired import _Sorted, stratified_weights
from thresher.metrics.curve import Curve
from thresher.stats import bootstrap, bootstrap_threshold_metrics, delong_auc_ci, wilson
from thresher.testing import GateAssertionError, assert_metric

from gate_data import write_gate, write_scores

# ten rows counted by hand: at threshold 0.5 the flagged rows are 0.9, 0.8, 0.7 (pos) and 0.6, 0.55 (neg)
Y = [1, 1, 1, 0, 0, 1, 0, 0, 1, 0]
S = [0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.2, 0.1, 0.05]


def judge(y, s, check, **kw):
    """The check's result whether it passes or fails."""
    try:
        return assert_metric(y, s, check, **kw)
    except GateAssertionError as exc:
        return exc.result.checks[0]


def test_point_checks_pass_and_fail_on_hand_counts():
    r = judge(Y, S, "recall >= 0.6 at threshold 0.5")  # tp 3 of 5 positives
    assert r.verdict == "pass" and r.value == 0.6
    assert r.details["tp"] == 3 and r.details["fn"] == 2 and r.details["threshold"] == 0.5
    r = judge(Y, S, "precision > 0.6 at threshold 0.5")  # 3 of 5 flagged: exactly 0.6 is not > 0.6
    assert r.verdict == "fail" and r.value == 0.6
    assert "precision 0.6000 <= 0.6 at threshold 0.5 (tp 3, fp 2, fn 2, tn 3)" in r.why
    assert judge(Y, S, "fpr <= 0.4 at threshold 0.5").verdict == "pass"  # 2 of 5 negatives
    r = judge(Y, S, "roc_auc >= 0.7")
    assert r.value == pytest.approx(thresher.roc_auc(Y, S)) and r.verdict == "pass"


def test_a_chosen_operating_point_is_thresher_select():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(int)
    s = rng.normal(size=2000) + y
    point = thresher.select({"y": y, "s": s}, "max-precision recall>=0.8", label="y", score="s")
    r = judge(y, s, "precision >= 0.1 at recall>=0.8")
    assert r.value == pytest.approx(point.precision, abs=0) and r.details["threshold"] == pytest.approx(point.threshold)
    assert "chosen by 'max-precision recall>=0.8'" in r.why
    # an objective no threshold meets makes the value undefined: the check fails and says why
    r = judge(y, s, "recall >= 0.1 at precision>=0.999 confidence=0.95")
    assert r.verdict == "fail" and np.isnan(r.value)
    assert "No threshold satisfies 'max-recall precision>=0.999 confidence=0.95'" in r.why


def test_a_lower_bound_is_not_the_point_estimate():
    # 24 of 25 positives caught: the point (0.96) clears 0.93, its Wilson lower bound does not
    y = [1] * 25 + [0] * 25
    s = [0.9] * 24 + [0.1] + [0.2] * 25
    assert judge(y, s, "recall >= 0.93 at threshold 0.5").verdict == "pass"
    r = judge(y, s, "recall.lower95 >= 0.93 at threshold 0.5")
    low, _ = wilson(24, 25, 0.95)
    assert r.verdict == "fail" and r.value == pytest.approx(low) and r.details["method"] == "Wilson"
    assert r.details["estimate"] == 0.96 and "Wilson 95% lower bound" in r.why
    # the level in the name, and the gate's confidence for a bare .lower
    assert judge(y, s, "recall.lower80 >= 0.5 at threshold 0.5").value == pytest.approx(wilson(24, 25, 0.8)[0])
    assert judge(y, s, "recall.lower >= 0.5 at threshold 0.5", confidence=0.9).value == \
        pytest.approx(wilson(24, 25, 0.9)[0])
    assert judge(y, s, "recall.upper95 <= 0.999 at threshold 0.5").value == pytest.approx(wilson(24, 25)[1])


def test_intervals_come_from_thresher_stats(rows):
    y, s = rows["y"], rows["baseline"]
    r = judge(y, s, "roc_auc.lower95 >= 0.5")
    assert r.value == pytest.approx(delong_auc_ci(y, s).low) and r.details["method"] == "DeLong"
    r = judge(y, s, "average_precision.lower90 >= 0.1", n_resamples=200, seed=4)
    expected = bootstrap(y, s, n_resamples=200, seed=4, confidence=0.9, metrics=("average_precision",))
    assert r.value == pytest.approx(expected.interval("average_precision")[0])
    r = judge(y, s, "f1.lower95 >= 0.1 at threshold 1.0", n_resamples=200, seed=4)
    expected = bootstrap_threshold_metrics(y, s, 1.0, n_resamples=200, seed=4, metrics=("f1",))
    assert r.value == pytest.approx(expected.interval("f1")[0]) and r.details["method"] == "bootstrap"
    # weighted rows: DeLong is for counts, so ROC AUC falls back to the (weighted) bootstrap
    w = np.where(y == 1, 2.0, 1.0)
    r = judge(y, s, "roc_auc.lower95 >= 0.5", sample_weight=w, n_resamples=200)
    assert r.details["method"] == "bootstrap" and r.value < r.details["estimate"]
    r = judge(y, s, "pr_auc.lower95 >= 0.1", n_resamples=200)
    assert r.details["method"] == "bootstrap" and r.value < r.details["estimate"] < r.details["interval"][1]


def test_per_segment_needs_every_segment_to_pass():
    y = [1, 1, 0, 0, 1, 1, 0, 0]
    s = [0.9, 0.8, 0.1, 0.2, 0.9, 0.3, 0.1, 0.2]
    seg = ["a", "a", "a", "a", "b", "b", "b", "b"]
    r = judge(y, s, "per segment: recall >= 0.75 at threshold 0.5", segments=seg)
    assert r.verdict == "fail" and r.value == 0.5  # the worst segment
    assert [(p.segment, p.verdict, p.value) for p in r.segments] == [("segment=a", "pass", 1.0),
                                                                     ("segment=b", "fail", 0.5)]
    assert r.why.startswith("1 of 2 segments fail: segment=b: recall 0.5000 < 0.75")
    assert judge(y, s, "per segment: recall >= 0.5 at threshold 0.5", segments=seg).verdict == "pass"
    # a segment where the metric is undefined fails, and says why
    r = judge(y, s, "per segment: recall >= 0.5 at threshold 0.5", segments=["a"] * 6 + ["c"] * 2)
    assert r.verdict == "fail" and np.isnan(r.value)
    assert "segment=c: recall is undefined at threshold 0.5" in r.why and "there are no positives" in r.why


def test_policy_checks_count_the_flagged_cases(tmp_path, rows):
    policy = {"name": "p", "version": 2, "score": "score", "segments": ["region"],
              "actions": ["block", "review", "allow"],
              "rules": [{"name": "north", "match": {"region": "north"},
                         "tiers": [{"action": "block", "threshold": 1.5}, {"action": "review", "threshold": 0.8}]},
                        {"name": "default", "tiers": [{"action": "block", "threshold": 1.2}]}]}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    gate = write_gate(tmp_path, ["recall >= 0.1 at policy", "precision >= 0.1 at policy action=block",
                                 "recall.lower95 >= 0.1 at policy", "f1.lower95 >= 0.1 at policy"],
                      policy="policy.yaml")
    result = check_gate(gate)
    s, y, region = rows["baseline"], rows["y"] == 1, rows["region"]
    north = region == "north"
    block = np.where(north, s >= 1.5, s >= 1.2)
    flagged = block | (north & (s >= 0.8))
    any_tier, blocked, bound, f1 = result.checks
    assert any_tier.value == pytest.approx((flagged & y).sum() / y.sum())
    assert blocked.value == pytest.approx((block & y).sum() / block.sum())
    assert bound.value == pytest.approx(wilson((flagged & y).sum(), y.sum())[0])
    assert f1.details["method"] == "bootstrap" and f1.value < f1.details["estimate"]
    assert result.datasets["golden"].policy == "p v2"


def test_golden_data_metrics_and_segments(tmp_path, rows):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    result = check_gate(write_gate(tmp_path, ["roc_auc >= 0.5"]))
    d = result.datasets["golden"]
    ev = thresher.evaluate(tmp_path / "golden.csv", label="y", score="score", by="region")
    assert d.n == 1000 and d.positives == ev.overall.positives
    assert d.metrics["roc_auc"] == pytest.approx(ev.overall.roc_auc, abs=0)
    assert d.segments["region=north"]["average_precision"] == pytest.approx(ev.segments["north"].average_precision)
    assert result.passed and result.counts() == {"total": 1, "pass": 1, "fail": 0, "skip": 0}
    assert result.to_dict()["checks"][0]["verdict"] == "pass"


def test_resampled_curves_are_exact(rows):
    # the O(n) curve of a reweighting equals counting the reweighted rows from scratch
    y, s = rows["y"], rows["noise"]
    cols = from_arrays(y, s)
    sorted_ = _Sorted(cols.y, cols.score)
    for w in stratified_weights(cols.y, None, 3, seed=1):
        fast = sorted_.curve(w)
        exact = Curve.from_columns(from_arrays(y, s, w))
        np.testing.assert_array_equal(fast.thresholds, exact.thresholds)
        np.testing.assert_allclose(fast.tp, exact.tp)
        np.testing.assert_allclose(fast.fp, exact.fp)
        assert fast.average_precision() == pytest.approx(exact.average_precision(), abs=1e-12)
        # class sizes never change
        assert w[y == 1].sum() == (y == 1).sum() and w[y == 0].sum() == (y == 0).sum()
    assert Sample(cols).curve.roc_auc() == pytest.approx(thresher.roc_auc(y, s))
