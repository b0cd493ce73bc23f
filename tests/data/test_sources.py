"""Every source type loads the same data identically, and ``evaluate`` per segment equals
evaluating each segment's rows on their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import thresher

from numba_threads import one_numba_thread  # noqa: F401  (fixture: one thread)

N = 400


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, N)
    return pd.DataFrame({
        "label": y,
        "score": np.round(rng.random(N) * 0.6 + 0.3 * y, 2),  # ties, and a model better than chance
        "weight": rng.integers(0, 4, N).astype(np.float64),  # zero weights included
        "region": rng.choice(["north", "south", "east"], N),
        "tier": rng.integers(1, 3, N),
        "outcome": np.where(y == 1, "fraud", "ok"),
    })


SOURCES = ["numpy", "lists", "pandas", "polars", "arrow", "arrow_batch", "csv", "parquet"]


def make_source(kind: str, df: pd.DataFrame, tmp_path):
    if kind == "numpy":
        return {c: df[c].to_numpy() for c in df.columns}
    if kind == "lists":
        return {c: df[c].tolist() for c in df.columns}
    if kind == "pandas":
        return df
    if kind == "polars":
        return pl.from_pandas(df)
    if kind == "arrow":
        return pa.Table.from_pandas(df, preserve_index=False)
    if kind == "arrow_batch":
        return pa.RecordBatch.from_pandas(df, preserve_index=False)
    if kind == "csv":
        path = tmp_path / "data.csv"
        df.to_csv(path, index=False)  # shortest round-trip float formatting
        return path
    if kind == "parquet":
        path = tmp_path / "data.parquet"
        df.to_parquet(path, index=False)
        return str(path)
    raise AssertionError(kind)


def assert_same_columns(a, b):
    assert a.y.dtype == b.y.dtype == np.uint8 and np.array_equal(a.y, b.y)
    assert a.score.dtype == b.score.dtype and np.array_equal(a.score, b.score)
    assert (a.weight is None) == (b.weight is None)
    if a.weight is not None:
        assert np.array_equal(a.weight, b.weight)
    assert a.pos_label == b.pos_label
    assert (a.segments is None) == (b.segments is None)
    if a.segments is not None:
        assert a.segments.names == b.segments.names
        assert np.array_equal(a.segments.codes, b.segments.codes)
        assert [tuple(map(str, k)) for k in a.segments.keys] == [tuple(map(str, k)) for k in b.segments.keys]


@pytest.mark.parametrize("kind", SOURCES)
def test_load_is_the_same_from_every_source(kind, frame, tmp_path):
    expected = thresher.load(make_source("numpy", frame, tmp_path), label="label", score="score", weight="weight",
                             by="region,tier")
    assert expected.y.tolist() == frame["label"].tolist()
    assert expected.score.tolist() == frame["score"].tolist()
    assert expected.weight.tolist() == frame["weight"].tolist()
    assert len(expected.segments.keys) == 6
    got = thresher.load(make_source(kind, frame, tmp_path), label="label", score="score", weight="weight",
                        by=["region", "tier"])
    assert_same_columns(got, expected)


@pytest.mark.parametrize("kind", SOURCES)
def test_string_labels_with_pos_label_from_every_source(kind, frame, tmp_path):
    got = thresher.load(make_source(kind, frame, tmp_path), label="outcome", score="score", pos_label="fraud")
    assert got.y.tolist() == frame["label"].tolist()
    assert got.pos_label == "fraud"


@pytest.mark.parametrize("kind", SOURCES)
def test_evaluate_is_the_same_from_every_source(kind, frame, tmp_path):
    expected = thresher.evaluate(frame, label="label", score="score", weight="weight", by="region", threshold=0.45)
    got = thresher.evaluate(make_source(kind, frame, tmp_path), label="label", score="score", weight="weight",
                            by="region", threshold=0.45)
    assert got.to_dict() == expected.to_dict()
    assert got.weighted and got.by == ("region",)
    assert np.array_equal(got.overall.curve.tp, expected.overall.curve.tp)


def test_array_forms_agree(frame):
    y, s, w = frame["label"], frame["score"], frame["weight"]
    expected = thresher.curve(y.to_numpy(), s.to_numpy(), sample_weight=w.to_numpy())
    forms = ((y.tolist(), s.tolist(), w.tolist()), (y, s, w),
             (pl.from_pandas(y), pl.from_pandas(s), pl.from_pandas(w)),
             (pa.array(y), pa.array(s), pa.chunked_array([pa.array(w[:100]), pa.array(w[100:])])))
    for args in forms:
        got = thresher.curve(args[0], args[1], sample_weight=args[2])
        assert np.array_equal(got.thresholds, expected.thresholds)
        assert np.array_equal(got.tp, expected.tp) and np.array_equal(got.fp, expected.fp)


def test_overall_evaluation_matches_the_metric_functions(frame):
    ev = thresher.evaluate(frame, label="label", score="score", weight="weight", threshold=0.45)
    y, s, w = frame["label"].to_numpy(), frame["score"].to_numpy(), frame["weight"].to_numpy()
    assert ev.overall.n == N
    assert ev.overall.roc_auc == thresher.roc_auc(y, s, sample_weight=w)
    assert ev.overall.average_precision == thresher.average_precision(y, s, sample_weight=w)
    assert ev.overall.at_threshold == thresher.confusion(y, s, threshold=0.45, sample_weight=w)
    assert ev.threshold == 0.45 and ev.pos_label == 1 and ev.segments == {}


@pytest.mark.parametrize("by", ["region", "region,tier", ["tier", "region"]])
def test_each_segment_equals_evaluating_its_rows_alone(frame, by):
    ev = thresher.evaluate(frame, label="label", score="score", weight="weight", by=by, threshold=0.45)
    names = [by] if isinstance(by, str) and "," not in by else (by.split(",") if isinstance(by, str) else by)
    groups = frame.groupby(names, sort=False)
    assert len(ev.segments) == groups.ngroups
    assert sum(s.n for s in ev.segments.values()) == N
    for key, rows in groups:
        name = "|".join(str(k) for k in key)
        alone = thresher.evaluate(rows, label="label", score="score", weight="weight", threshold=0.45).overall
        seg = ev.segments[name]
        assert seg.n == len(rows)
        assert np.array_equal(seg.curve.thresholds, alone.curve.thresholds)
        assert np.array_equal(seg.curve.tp, alone.curve.tp) and np.array_equal(seg.curve.fp, alone.curve.fp)
        assert seg.to_dict() == alone.to_dict()
    # segments come in order of first appearance in the data
    first_seen = list(dict.fromkeys("|".join(str(v) for v in row) for row in frame[names].itertuples(index=False)))
    assert list(ev.segments) == first_seen


def test_missing_segment_values_form_their_own_segment():
    df = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "s": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                       "seg": pd.Categorical(["a", None, "b", "a", "b", None], categories=["a", "b", "unused"])})
    for data in (df, pl.from_pandas(df), pa.Table.from_pandas(df), {"y": df["y"], "s": df["s"], "seg": df["seg"]}):
        ev = thresher.evaluate(data, label="y", score="s", by="seg")
        assert list(ev.segments) == ["a", "(missing)", "b"]
        assert ev.segments["(missing)"].n == 2 and ev.segments["a"].n == 2


def test_columns_passed_through_evaluate(frame):
    cols = thresher.load(frame, label="label", score="score", by="region")
    assert thresher.evaluate(cols).to_dict() == thresher.evaluate(frame, label="label", score="score",
                                                                  by="region").to_dict()


def test_compressed_and_tab_separated_files(frame, tmp_path):
    expected = thresher.load(frame, label="label", score="score")
    for name, sep in (("data.csv.gz", ","), ("data.tsv", "\t"), ("data.tsv.gz", "\t")):
        path = tmp_path / name
        frame.to_csv(path, index=False, sep=sep)
        assert_same_columns(thresher.load(path, label="label", score="score"), expected)


def test_parquet_directory(frame, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:150].to_parquet(folder / "part-0.parquet", index=False)
    frame.iloc[150:].to_parquet(folder / "part-1.parquet", index=False)
    got = thresher.load(folder, label="label", score="score", weight="weight")
    expected = thresher.load(frame, label="label", score="score", weight="weight")
    assert_same_columns(got, expected)


def test_float32_scores_stay_float32(frame, tmp_path):
    df = frame.assign(score=frame["score"].astype(np.float32))
    for data in (df, pl.from_pandas(df), pa.Table.from_pandas(df)):
        cols = thresher.load(data, label="label", score="score")
        assert cols.score.dtype == np.float32
        assert np.array_equal(cols.score, df["score"].to_numpy())
    path = tmp_path / "f32.parquet"
    df.to_parquet(path, index=False)
    assert thresher.load(path, label="label", score="score").score.dtype == np.float32


@pytest.mark.parametrize("columns", [
    {"a": ["x|y", "x|y", "x", "x"], "b": ["z", "z", "y|z", "y|z"]},
    {"a": ["(missing)", "(missing)", None, None]},
])
def test_distinct_segments_keep_distinct_results(columns):
    data = {"y": [0, 1, 0, 1], "s": [0.1, 0.9, 0.2, 0.8], **columns}
    ev = thresher.evaluate(data, label="y", score="s", by=list(columns))
    assert len(thresher.load(data, label="y", score="s", by=list(columns)).segments.keys) == 2
    assert len(ev.segments) == 2
    assert sum(s.n for s in ev.segments.values()) == 4
