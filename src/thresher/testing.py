"""pytest integration: model-quality checks as ordinary assertions.

::

    from thresher.testing import assert_gate, assert_metric

    def test_model_gate():
        assert_gate("gate.yaml")                              # every check of the gate file

    def test_recall_floor(scored):
        assert_metric(scored.y, scored.p, "recall.lower95 >= 0.9 at threshold 0.5")

A failure raises :class:`GateAssertionError` (an ``AssertionError``) whose message is the checks
table, so pytest shows value, bound, verdict and why for every check.
"""

from __future__ import annotations

import numpy as np

from thresher.data.columns import Columns
from thresher.data.load import from_arrays, load
from thresher.errors import GateError
from thresher.gate.evaluate import Options, evaluate_check
from thresher.gate.gatefile import GateCheck
from thresher.gate.measure import Sample
from thresher.gate.render import render_text
from thresher.gate.result import CheckResult, DatasetSummary, GateResult
from thresher.gate.spec import AtPolicy, parse

__all__ = ["GateAssertionError", "assert_gate", "assert_metric"]


class GateAssertionError(AssertionError):
    """A gate or metric check failed; ``result`` holds the :class:`~thresher.gate.GateResult`."""

    def __init__(self, message: str, result: GateResult):
        super().__init__(message)
        self.result = result


def _raise_if_failed(result: GateResult, what: str) -> GateResult:
    if not result.passed:
        failed = ", ".join(f"'{c.title}'" for c in result.failures)
        raise GateAssertionError(f"{what} failed: {failed}\n\n{render_text(result)}", result)
    return result


def assert_gate(gate, *, baseline: str | None = None, store=None, record: bool = False) -> GateResult:
    """Run a gate file (or :class:`~thresher.gate.Gate`) and fail the test if any check fails.

    ``baseline`` (``"latest"`` or a run id) compares 'vs baseline' checks with a recorded run in
    ``store`` (a URL or :class:`~thresher.gate.RunStore`; default ``$THRESHER_STORE`` or
    ``.thresher/runs.db``); without it they are skipped. Nothing is recorded unless ``record=True``.
    Returns the result when every check passes.
    """
    from thresher.gate.run import check_gate

    result = check_gate(gate, baseline=baseline, store=store, record=record)
    return _raise_if_failed(result, f"gate '{result.gate}'")


def assert_metric(y_true, y_score, check: str, *, sample_weight=None, pos_label=None, segments=None,
                  baseline_score=None, confidence: float = 0.95, n_resamples: int = 1000,
                  seed: int = 0) -> CheckResult:
    """Assert one check (in the gate's check language) on arrays; returns its result when it passes.

    ``segments``: one segment value per row, for 'per segment:' checks. ``baseline_score``: the
    baseline model's scores on the same rows, for 'vs baseline' checks (a paired test).

    >>> assert_metric([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9], "roc_auc >= 0.8").verdict
    'pass'
    """
    parsed = parse(check)
    if isinstance(parsed.at, AtPolicy):
        raise GateError(f"'{check}' is measured at a policy; assert_metric has none. Use assert_gate with a gate file "
                        "that names the policy, or 'at threshold T'.")
    if parsed.per_segment and segments is None:
        raise GateError(f"'{check}' is a per-segment check: pass segments= (one segment value per row).")
    if parsed.baseline and baseline_score is None:
        raise GateError(f"'{check}' compares with a baseline: pass baseline_score= (the baseline's scores on the "
                        "same rows).")
    if segments is not None:
        data = {"y": y_true, "score": y_score, "segment": segments}
        if sample_weight is not None:
            data["weight"] = sample_weight
        cols = load(data, label="y", score="score", weight="weight" if sample_weight is not None else None,
                    by="segment", pos_label=pos_label)
    else:
        cols = from_arrays(y_true, y_score, sample_weight, pos_label)
    sample = Sample(cols)
    baseline = None
    if parsed.baseline:
        if len(baseline_score) != len(cols):
            raise GateError(f"baseline_score has {len(baseline_score)} values for {len(cols)} rows; the paired test "
                            "needs the baseline's score of every row.")
        base = from_arrays(np.zeros(len(cols), np.uint8), baseline_score).score
        baseline = sample.with_scores(base)
    result = evaluate_check(GateCheck(parsed, "data", 0), sample, baseline=baseline,
                            options=Options(confidence, n_resamples, seed))
    gate_result = GateResult("-", "assert_metric", "", [result], {"data": _summary(cols)}, confidence)
    _raise_if_failed(gate_result, "metric check")
    return result


def _summary(cols: Columns) -> DatasetSummary:
    pos = float(cols.y.sum()) if cols.weight is None else float(cols.weight[cols.y == 1].sum())
    neg = float(len(cols)) - pos if cols.weight is None else float(cols.weight[cols.y == 0].sum())
    return DatasetSummary("data", "(arrays)", len(cols), pos, neg, "", "")
