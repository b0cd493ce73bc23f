"""thresher.testing: gate and metric checks as pytest assertions whose failure message is the table."""

import pytest
from gate_data import write_gate, write_scores

from thresher.errors import GateError
from thresher.testing import GateAssertionError, assert_gate, assert_metric


def test_assert_gate_passes_and_fails_with_the_table(tmp_path, rows):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    good = write_gate(tmp_path, ["roc_auc >= 0.7", "roc_auc vs baseline >= 0"], file="good.yaml")
    result = assert_gate(good)
    assert result.passed and [c.verdict for c in result.checks] == ["pass", "skip"]
    assert not (tmp_path / ".thresher").exists()  # nothing recorded unless asked

    bad = write_gate(tmp_path, ["roc_auc >= 0.7", {"check": "recall >= 0.9 at threshold 1.0", "name": "recall floor"}],
                     file="bad.yaml")
    with pytest.raises(AssertionError) as info:
        assert_gate(bad)
    message = str(info.value)
    assert message.startswith("gate 'synthetic' failed: 'recall floor'")
    # the table: check, value, bound, verdict and why
    for part in ("check", "value", "bound", "verdict", "why", "recall floor", "FAIL", "PASS", "< 0.9",
                 "1 failed"):
        assert part in message, part
    assert isinstance(info.value, GateAssertionError) and not info.value.result.passed


def test_assert_gate_with_a_baseline(tmp_path, rows):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    gate = write_gate(tmp_path, ["roc_auc vs baseline >= -0.005"])
    store = str(tmp_path / "runs.db")
    assert_gate(gate, store=store, record=True)
    write_scores(tmp_path / "golden.csv", rows, "regressed")
    with pytest.raises(GateAssertionError, match="a regression"):
        assert_gate(gate, baseline="latest", store=store)


def test_assert_metric(rows):
    y, s = rows["y"], rows["baseline"]
    assert assert_metric(y, s, "roc_auc >= 0.7").verdict == "pass"
    with pytest.raises(GateAssertionError) as info:
        assert_metric(y, s, "recall.lower95 >= 0.9 at threshold 1.0")
    message = str(info.value)
    assert "metric check failed: 'recall.lower95 >= 0.9 at threshold 1.0'" in message
    assert "Wilson 95% lower bound" in message and "FAIL" in message
    # per segment and against a baseline's scores on the same rows
    result = assert_metric(y, s, "per segment: recall >= 0.3 at threshold 1.0", segments=rows["region"])
    assert len(result.segments) == 2
    assert assert_metric(y, rows["noise"], "roc_auc vs baseline >= -0.005", baseline_score=s).verdict == "pass"
    with pytest.raises(GateAssertionError, match="significantly"):
        assert_metric(y, rows["regressed"], "roc_auc vs baseline >= -0.005", baseline_score=s)
    # what the check needs but was not given
    with pytest.raises(GateError, match="pass segments="):
        assert_metric(y, s, "per segment: recall >= 0.3 at threshold 1.0")
    with pytest.raises(GateError, match="pass baseline_score="):
        assert_metric(y, s, "roc_auc vs baseline >= 0")
    with pytest.raises(GateError, match="assert_metric has none"):
        assert_metric(y, s, "recall >= 0.3 at policy")
    with pytest.raises(GateError, match="baseline_score has 3 values for 1000 rows"):
        assert_metric(y, s, "roc_auc vs baseline >= 0", baseline_score=[0.1, 0.2, 0.3])
