"""A report of 1e7 rows stays small: every view is thinned for display, its marked points exact."""

from __future__ import annotations

import time

import numpy as np
import pytest

from thresher.report import build_report

MAX_BYTES = 5 * 1024 * 1024


@pytest.mark.slow
def test_a_1e7_row_report_is_under_5_mb():
    rng = np.random.default_rng(7)
    n = 10_000_000
    y = rng.random(n) < 0.04
    score = 1 / (1 + np.exp(-(rng.normal(size=n) * 1.3 + 2.2 * y - 3.5)))  # ~1e7 distinct probabilities
    start = time.perf_counter()
    report = build_report({"label": y, "score": score}, objectives=["min-cost fn=20 fp=1"])
    html = report.to_html()
    seconds = time.perf_counter() - start
    size = len(html.encode("utf-8"))
    assert size < MAX_BYTES, f"{size / 1e6:.2f} MB"
    view = report.document["views"][0]
    assert view["n"] == n and view["distinct_scores"] > 9_000_000
    assert len(view["curve"]["threshold"]) < 2_000
    # the marked points are kept, with their exact counts
    for mark in view["marks"]:
        k = view["curve"]["threshold"].index(mark["at"])
        assert (view["curve"]["tp"][k], view["curve"]["fp"][k]) == (mark["tp"], mark["fp"])
    print(f"\n1e7 rows: report {size / 1024:.0f} KB in {seconds:.1f}s")
