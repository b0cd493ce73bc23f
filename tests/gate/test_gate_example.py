"""The shipped example gate (examples/gate.yaml) on the bundled credit-default data."""

from pathlib import Path

import pytest

from thresher.examples import path as example_path
from thresher.gate import Gate, check_gate

EXAMPLE = Path(__file__).parents[2] / "examples" / "gate.yaml"


def test_the_example_gate_passes_and_compares_with_its_baseline(tmp_path):
    gate = Gate.load(EXAMPLE)
    assert gate.datasets["credit"].path.resolve() == example_path().resolve()
    store = str(tmp_path / "runs.db")
    first = check_gate(gate, store=store)
    assert first.passed, [c.why for c in first.failures]
    assert {c.verdict for c in first.checks if "vs baseline" in c.check} == {"skip"}
    d = first.datasets["credit"]
    assert (d.n, d.positives) == (10_000, 333)
    assert d.metrics["roc_auc"] == pytest.approx(0.948979, abs=1e-6)  # the dataset's published reference
    assert d.rows_fingerprint == gate.datasets["credit"].rows_fingerprint  # the pin holds
    second = check_gate(gate, baseline="latest", store=store, record=False)
    assert second.passed and {c.verdict for c in second.checks} == {"pass"}
    assert second.datasets["credit"].baseline_run == first.run_id
