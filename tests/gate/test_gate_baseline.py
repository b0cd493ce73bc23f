"""Baseline checks: a retrain that differs only by noise passes, a real regression fails.

The synthetic rows (gate_data.scored_rows) hold three models scored on the same cases: the
baseline, a retrain of the same true quality ("noise") whose observed metrics happen to fall
below the margins, and a weaker model ("regressed"). Each test asserts the situation it claims
(e.g. the noisy delta really is below the margin) before asserting the verdict.
"""

import numpy as np
import pytest
import yaml
from gate_data import write_gate, write_scores

from thresher.data.load import from_arrays
from thresher.errors import GateError
from thresher.gate import check_gate, open_store, paired_difference, parse_check
from thresher.gate.measure import Sample
from thresher.stats import delong_test

CHECKS = [
    "roc_auc vs baseline >= -0.005",                     # DeLong
    "average_precision vs baseline >= -0.01",            # paired bootstrap
    "recall vs baseline >= -0.02 at threshold 0.5",      # paired bootstrap at a fixed threshold
    "precision vs baseline >= -0.02 at recall>=0.5",     # re-chosen on every resample
]


@pytest.fixture
def history(tmp_path, rows):
    """A gate, and a SQLite store holding one passing run on the baseline model's scores."""
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    gate = write_gate(tmp_path, CHECKS + ["roc_auc >= 0.5"])
    url = str(tmp_path / "runs.db")
    first = check_gate(gate, store=url)
    assert first.passed and first.recorded_in == url
    assert [c.verdict for c in first.checks] == ["skip"] * 4 + ["pass"]
    assert "no baseline yet" not in first.checks[0].why  # no --baseline given: plainly skipped
    return tmp_path, gate, url, first


def test_noise_passes(history, rows):
    tmp_path, gate, url, first = history
    write_scores(tmp_path / "golden.csv", rows, "noise")
    result = check_gate(gate, baseline="latest", store=url, record=False)
    assert result.datasets["golden"].baseline_run == first.run_id
    for check in result.checks[:4]:
        # the observed difference is below the margin, yet within noise: the check passes
        assert check.value < check.bound, check.why
        assert check.details["interval"][1] >= check.bound
        assert check.verdict == "pass" and check.details["noise"] is True
        assert "but not significantly" in check.why and check.details["baseline_run"] == first.run_id
    assert result.checks[0].details["method"] == "DeLong"
    assert result.checks[1].details["method"] == "paired bootstrap"
    assert result.passed


def test_a_real_regression_fails(history, rows):
    tmp_path, gate, url, first = history
    write_scores(tmp_path / "golden.csv", rows, "regressed")
    result = check_gate(gate, baseline=first.run_id[:6], store=url, record=False)
    assert not result.passed
    for check in result.checks[:4]:
        assert check.verdict == "fail", check.why
        assert check.details["interval"][1] < check.bound  # the whole interval lies beyond the margin
        assert "significantly" in check.why and "a regression" in check.why
        assert check.details["p_value"] < 0.05


def test_the_delong_difference_is_thresher_stats(rows):
    y = rows["y"]
    current = Sample(from_arrays(y, rows["noise"]))
    base = current.with_scores(rows["baseline"])
    d = paired_difference(parse_check("roc_auc vs baseline >= -0.005"), current, base, level=0.95, margin=-0.005)
    t = delong_test(y, rows["noise"], rows["baseline"])
    assert d.delta == pytest.approx(t.diff) and d.se == pytest.approx(t.se)
    assert d.low == pytest.approx(t.diff - 1.959964 * t.se, abs=1e-6)
    # the same model against itself: no difference, no variance, p = 1
    same = paired_difference(parse_check("roc_auc vs baseline >= 0"), current, current, level=0.95)
    assert (same.delta, same.p_value) == (0.0, 1.0)
    same = paired_difference(parse_check("recall vs baseline >= 0 at threshold 0.5"), current, current,
                             level=0.95, n_resamples=50)
    assert (same.delta, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_the_same_scores_rerun_are_exactly_equal(history):
    # scores are stored as float32; the current ones are compared as float32 too, so a rerun is a
    # zero difference, not a rounding artefact that a zero-margin check could call a regression
    tmp_path, gate, url, first = history
    gate = write_gate(tmp_path, ["roc_auc vs baseline >= 0", "average_precision vs baseline >= 0"], file="zero.yaml")
    result = check_gate(gate, baseline=first.run_id, store=url, record=False)
    assert [c.value for c in result.checks] == [0.0, 0.0] and result.passed


def test_latest_means_the_latest_passing_run_on_the_same_rows(history, rows):
    tmp_path, gate, url, first = history
    write_scores(tmp_path / "golden.csv", rows, "regressed")
    failed = check_gate(gate, baseline="latest", store=url)  # recorded, but failed
    assert not failed.passed
    again = check_gate(gate, baseline="latest", store=url, record=False)
    # still compared with the first run: a failing run never becomes the baseline
    assert again.datasets["golden"].baseline_run == first.run_id and not again.passed
    # other rows (one label flipped): no earlier run scored them, so the baseline checks are skipped
    flipped = dict(rows, y=rows["y"].copy())
    flipped["y"][0] = 1 - flipped["y"][0]
    write_scores(tmp_path / "golden.csv", flipped, "baseline")
    result = check_gate(gate, baseline="latest", store=url, record=False)
    assert [c.verdict for c in result.checks[:4]] == ["skip"] * 4
    assert "no passing run of gate 'synthetic' on these rows" in result.checks[0].why
    # naming a run recorded on other rows is an input error, with both fingerprints
    with pytest.raises(GateError, match="scored different rows of dataset 'golden'") as info:
        check_gate(gate, baseline=first.run_id, store=url, record=False)
    assert first.datasets["golden"].rows_fingerprint in str(info.value)
    assert result.datasets["golden"].rows_fingerprint in str(info.value)
    with pytest.raises(GateError, match="No run 'abcdef'"):
        check_gate(gate, baseline="abcdef", store=url, record=False)


def test_per_segment_and_policy_baselines(tmp_path, rows):
    policy = {"name": "p", "version": 1, "score": "score", "actions": ["flag", "pass"],
              "rules": [{"name": "default", "tiers": [{"action": "flag", "threshold": 0.8}], "otherwise": "pass"}]}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(policy))
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    gate = write_gate(tmp_path, ["per segment: roc_auc vs baseline >= -0.01", "recall vs baseline >= -0.05 at policy"],
                      policy="p.yaml")
    url = str(tmp_path / "runs.db")
    check_gate(gate, store=url)
    write_scores(tmp_path / "golden.csv", rows, "regressed")
    result = check_gate(gate, baseline="latest", store=url, record=False)
    per_segment, policy_check = result.checks
    assert sorted(s.segment for s in per_segment.segments) == ["region=north", "region=south"]
    assert per_segment.verdict == "fail" and all(s.verdict == "fail" for s in per_segment.segments)
    # the baseline's decisions are the ones it recorded: the same policy on the baseline scores
    flagged_before = (rows["baseline"] >= 0.8) & (rows["y"] == 1)
    flagged_now = (rows["regressed"] >= 0.8) & (rows["y"] == 1)
    assert policy_check.details["baseline"] == pytest.approx(flagged_before.sum() / rows["y"].sum())
    assert policy_check.details["current"] == pytest.approx(flagged_now.sum() / rows["y"].sum())
    assert policy_check.verdict == "fail"


def test_the_store_keeps_what_a_paired_test_needs(history, rows):
    tmp_path, gate, url, first = history
    with open_store(url) as store:
        stored = store.dataset(first.run_id, "golden")
    np.testing.assert_array_equal(stored.scores, rows["baseline"])
    np.testing.assert_array_equal(stored.y, rows["y"])
    assert stored.weight is None and stored.segments.names == ("region",)
    assert stored.rows_fingerprint == first.datasets["golden"].rows_fingerprint
