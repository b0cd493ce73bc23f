"""Binned selection: bounds that hold, and a refinement pass that equals the exact selection."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import InfeasibleError, InputError
from thresher.scale.binned_select import select_binned
from thresher.select.select import select_on_segment_curves

OBJECTIVES = ["max-f1", "max-fbeta beta=2", "min-cost fn=10 fp=1", "min-cost fn=1 fp=50", "youden",
              "max-precision recall>=0.6", "max-recall precision>=0.4", "budget rate<=0.1", "budget count<=7",
              "max-precision recall>=0.5 confidence=0.9", "max-specificity recall>=0.9", "fixed 0.5"]


def _write(path, y, s, g):
    pq.write_table(pa.table({"y": y, "s": s, "g": g}), path)
    return str(path)


def _exact(y, s, g, objective, min_support):
    segments = {k: thresher.curve(y[g == k], s[g == k]) for k in np.unique(g)}
    return select_on_segment_curves(thresher.curve(y, s), segments, objective, by=("g",), min_support=min_support)


@st.composite
def data(draw):
    n = draw(st.integers(20, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < draw(st.floats(0.05, 0.6))).astype(np.int8)
    digits = draw(st.sampled_from([1, 2, 3, 6]))  # few digits: heavy ties, some on bin edges
    s = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1), digits).astype(np.float32)
    g = rng.choice(["a", "b", "c"], n)
    return y, s, g


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(data(), st.sampled_from(OBJECTIVES), st.integers(1, 40), st.sampled_from([0, 5]))
def test_refined_choice_equals_exact_and_one_pass_bounds_hold(tmp_path, sample, objective, bins, min_support):
    y, s, g = sample
    path = _write(tmp_path / "d.parquet", y, s, g)
    try:
        exact = _exact(y, s, g, objective, min_support)
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            select_binned(path, label="y", score="s", objective=objective, by="g", bins=bins,
                          min_support=min_support)
        return
    refined = select_binned(path, label="y", score="s", objective=objective, by="g", bins=bins,
                            min_support=min_support)
    assert refined.refined
    for got, want in [(refined.selection.overall, exact.overall),
                      *[(refined.selection.segments[k], exact.segments[k]) for k in exact.segments]]:
        assert got.threshold == want.threshold
        assert (got.tp, got.fp, got.tn, got.fn) == (want.tp, want.fp, want.tn, want.fn)
        assert got.extra.get("fallback_from") == want.extra.get("fallback_from")
        for side in ("step_up", "step_down"):
            a, b = getattr(got, side), getattr(want, side)
            assert (a is None) == (b is None) and (a is None or a.threshold == b.threshold)
    # one pass: the exact optimum lies between the best edge and the bound, inside the ranges given
    bounds = refined.bounds[None]
    best = exact.overall
    value = best.value if objective != "fixed 0.5" else best.threshold
    low, high = sorted([bounds.at_edge, bounds.best_possible])
    assert low - 1e-9 <= value <= high + 1e-9 or (not np.isfinite(bounds.at_edge) and
                                                  abs(value - bounds.best_possible) <= abs(value - bounds.at_edge))
    if bounds.at_edge != value:  # the edge is not optimal: the optimum is inside a reported range
        assert any(lo <= best.threshold <= hi for lo, hi in bounds.ranges)
        assert bounds.precision[0] - 1e-12 <= best.precision <= bounds.precision[1] + 1e-12
        assert bounds.recall[0] - 1e-12 <= best.recall <= bounds.recall[1] + 1e-12
    try:
        one_pass = select_binned(path, label="y", score="s", objective=objective, by="g", bins=bins, refine=False,
                                 min_support=min_support)
    except InfeasibleError as exc:  # no bin edge is feasible, though a threshold inside a bin is
        assert not np.isfinite(bounds.at_edge) and "more bins" in str(exc)
        return
    edge = one_pass.selection.overall  # a bin edge, with exact counts there
    c = thresher.curve(y, s).at(edge.threshold)
    assert (edge.tp, edge.fp) == (c.tp, c.fp)


def test_refinement_reads_few_rows_and_is_exact_at_scale(tmp_path):
    rng = np.random.default_rng(3)
    n = 400_000
    y = (rng.random(n) < 0.02).astype(np.int8)
    s = np.clip(rng.normal(0.3 + 0.35 * y, 0.15), 0, 1).astype(np.float32)
    path = _write(tmp_path / "big.parquet", y, s, np.full(n, "x"))
    r = select_binned(path, label="y", score="s", objective="max-precision recall>=0.8", bins=1024)
    exact = thresher.select(thresher.curve(y, s), "max-precision recall>=0.8")
    assert r.selection.overall.threshold == exact.threshold and r.selection.overall.tp == exact.tp
    assert r.refined_rows < n // 20  # a handful of bins, not the data
    d = r.to_dict()
    assert d["binned"]["exact"] and d["binned"]["bounds"]["gap"] >= 0


def test_refinement_is_skipped_with_a_note_above_the_row_limit(tmp_path):
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.3).astype(np.int8)
    s = rng.random(2000).astype(np.float32)
    path = _write(tmp_path / "d.parquet", y, s, np.full(2000, "x"))
    r = select_binned(path, label="y", score="s", objective="max-f1", bins=4, max_refine_rows=10)
    assert not r.refined and "more bins" in r.note


def test_bad_requests_are_clear(tmp_path):
    path = _write(tmp_path / "d.parquet", np.array([0, 1], np.int8), np.array([0.2, 0.7], np.float32),
                  np.array(["a", "b"]))
    with pytest.raises(InputError, match="per-case columns"):
        select_binned(path, label="y", score="s", objective="min-cost fn=amount fp=1")
    with pytest.raises(InputError, match="one segment column"):
        select_binned(path, label="y", score="s", objective="max-f1", by="g,y")


def test_cli_tune_bins(tmp_path):
    rng = np.random.default_rng(5)
    n = 30_000
    y = (rng.random(n) < 0.1).astype(np.int8)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1).astype(np.float32)
    g = rng.choice(["a", "b"], n)
    path = _write(tmp_path / "d.parquet", y, s, g)
    run = lambda *a: subprocess.run([sys.executable, "-m", "thresher.cli.main", "tune", path, "--label", "y",  # noqa
                                     "--score", "s", "--by", "g", "--objective", "min-cost fn=10 fp=1", *a],
                                    capture_output=True, text=True, timeout=300)
    refined, exact = run("--bins", "128", "--json", "-"), run("--in-memory", "--json", "-")
    assert refined.returncode == 0 and exact.returncode == 0, refined.stderr + exact.stderr
    a, b = json.loads(refined.stdout), json.loads(exact.stdout)
    assert a["threshold"] == b["threshold"] and a["cost"] == b["cost"]
    assert {k: v["threshold"] for k, v in a["segments"].items()} == {k: v["threshold"] for k, v in b["segments"].items()}
    assert a["binned"]["refined"] and a["binned"]["bounds"]["best_possible"] <= b["cost"]
    text = run("--bins", "128", "--no-refine")
    assert text.returncode == 0 and "no threshold beats" in text.stdout and "not refined" in text.stdout
    bad = run("--bins", "128", "--range", "zero,one")
    assert bad.returncode == 2 and "--range" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("bad", [(1.0, 0.0), (0.5, 0.5), (float("nan"), 1.0), (0.0, float("inf"))])
def test_a_range_that_is_not_low_below_high_is_refused(tmp_path, bad):
    path = _write(tmp_path / "d.parquet", np.array([0, 1], np.int8), np.array([0.2, 0.7], np.float32),
                  np.array(["a", "b"]))
    with pytest.raises(thresher.errors.ParameterError, match="'range' parameter of select_binned"):
        select_binned(path, label="y", score="s", objective="max-f1", bins=4, range=bad)
    from thresher.scale.binned import evaluate as binned_evaluate

    with pytest.raises(thresher.errors.ParameterError, match="'range' parameter of binned evaluate"):
        binned_evaluate(path, label="y", score="s", bins=4, range=bad)


@pytest.mark.parametrize("refine", [False, True])
@pytest.mark.parametrize("objective", ["fixed 0", "fixed 0.25", "min-cost fn=10 fp=1", "max-f1"])
def test_scores_below_the_range_are_not_counted_at_its_lower_edge(tmp_path, objective, refine):
    """Scores under the range fall in bin 0: that bin's point is at the lowest score, not at the range's
    low edge, where those rows are not flagged."""
    y = np.array([1, 1, 0, 0, 1, 0, 0, 1], np.int8)
    s = np.array([-0.5, -0.2, -0.3, 0.6, 0.9, 0.1, 0.25, 0.5])
    path = _write(tmp_path / "d.parquet", y, s, np.array(["a"] * 8))
    exact = thresher.select(thresher.curve(y, s), objective)
    got = select_binned(path, label="y", score="s", objective=objective, bins=4, refine=refine).selection.overall
    assert got.threshold == exact.threshold
    assert (got.tp, got.fp, got.tn, got.fn) == (exact.tp, exact.fp, exact.tn, exact.fn)


def test_an_empty_file_in_a_directory_is_no_error(tmp_path):
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.3).astype(np.int8)
    s = np.round(rng.random(300), 2).astype(np.float32)
    g = rng.choice(["a", "b"], 300)
    (tmp_path / "d").mkdir()
    _write(tmp_path / "d" / "a.parquet", y, s, g)
    _write(tmp_path / "d" / "b.parquet", y[:0], s[:0], g[:0])  # Spark writes these
    got = select_binned(str(tmp_path / "d"), label="y", score="s", objective="max-f1", by="g", bins=10)
    exact = _exact(y, s, g, "max-f1", 30)
    assert got.selection.overall.threshold == exact.overall.threshold


@pytest.mark.parametrize("by", [None, "g"])
def test_refinement_refuses_a_source_that_changed_between_passes(by):
    from thresher.scale.sources import Source

    reads = []

    def batches(columns):
        reads.append(1)
        n = 100 if len(reads) == 1 else 110
        rng = np.random.default_rng(0)
        yield pa.record_batch({"y": np.arange(n) % 2, "s": rng.random(n), "g": np.where(np.arange(n) % 3, "a", "b")})

    with pytest.raises(InputError, match="same rows twice"):
        select_binned(Source("changing", batches), label="y", score="s", objective="max-f1", by=by, bins=8)
