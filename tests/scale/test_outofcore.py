"""Out-of-core exact counting equals in-memory counting, for every source kind."""

import numpy as np
import pyarrow as pa
import pyarrow.csv  # noqa: F401  (pa.csv)
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import InputError
from thresher.scale.outofcore import evaluate, exact_curves
from thresher.scale.sources import Source, open_source


def make(rng, n, ties=False):
    y = (rng.random(n) < 0.1).astype(np.int8)
    s = np.where(y == 1, rng.random(n) ** 0.5, rng.random(n) ** 2).astype(np.float32)
    if ties:
        s = np.round(s, 2).astype(np.float32)
    s[: n // 20] *= -1  # negative scores
    s[n // 20: n // 20 + 5] = 0.0
    s[n // 20 + 5: n // 20 + 10] = -0.0
    g = rng.choice(["a", "b", "c"], n)
    return y, s, g


def assert_same(curve, y, s):
    ref = thresher.curve(y, s)
    np.testing.assert_array_equal(curve.thresholds, ref.thresholds.astype(np.float32))
    np.testing.assert_array_equal(curve.tp, ref.tp)
    np.testing.assert_array_equal(curve.fp, ref.fp)


@pytest.mark.parametrize("ties", [False, True])
def test_files_directory_and_glob_equal_in_memory(tmp_path, ties):
    rng = np.random.default_rng(int(ties))
    parts = [make(rng, 30_000, ties) for _ in range(3)]
    for i, (y, s, g) in enumerate(parts):
        pq.write_table(pa.table({"y": y, "s": s, "g": pa.array(g).dictionary_encode()}), tmp_path / f"p{i}.parquet",
                       row_group_size=7_000)
    y, s, g = (np.concatenate(c) for c in zip(*parts))
    for source in (tmp_path, str(tmp_path / "*.parquet")):
        result = exact_curves(source, label="y", score="s", by="g")
        assert result.rows == len(y)
        assert_same(result.overall, y, s)
        for name, curve in result.segments.items():
            assert_same(curve, y[g == name], s[g == name])
    one = exact_curves(tmp_path / "p1.parquet", label="y", score="s")
    assert_same(one.overall, *parts[1][:2])


def test_csv_and_string_labels(tmp_path):
    rng = np.random.default_rng(3)
    y, s, _ = make(rng, 20_000)
    s = (np.round(s * 64) / 64).astype(np.float32)  # short decimals: the CSV text parses back exactly
    labels = np.where(y == 1, "Yes", "No")
    pa.csv.write_csv(pa.table({"truth": labels, "p": s}), tmp_path / "d.csv")
    ev = evaluate(tmp_path / "d.csv", label="truth", score="p", pos_label="Yes", threshold=0.3)
    assert ev.overall.roc_auc == thresher.roc_auc(y, s)
    assert ev.overall.at_threshold == thresher.curve(y, s).at(0.3)


def test_duckdb_sql_source(tmp_path):
    rng = np.random.default_rng(4)
    y, s, g = make(rng, 40_000)
    pq.write_table(pa.table({"y": y, "s": s, "g": g}), tmp_path / "d.parquet")
    ev = evaluate(sql=f"select y, s from '{tmp_path}/d.parquet' where g <> 'a'", label="y", score="s")
    keep = g != "a"
    assert ev.overall.roc_auc == thresher.roc_auc(y[keep], s[keep])
    assert ev.overall.average_precision == thresher.average_precision(y[keep], s[keep])
    with pytest.raises(InputError, match="SQL query failed"):
        evaluate(sql="select nope from nowhere", label="y", score="s")


def test_postgresql_source(postgres_url):
    import psycopg

    rng = np.random.default_rng(5)
    y, s, g = make(rng, 5_000)
    with psycopg.connect(postgres_url) as conn:
        conn.execute("drop table if exists scored")
        conn.execute("create table scored (y smallint, s real, g text)")
        with conn.cursor().copy("copy scored (y, s, g) from stdin") as copy:
            for row in zip(y.tolist(), s.tolist(), g.tolist()):
                copy.write_row(row)
    ev = evaluate(sql="select y, s, g from scored", database=postgres_url, label="y", score="s", by="g")
    assert ev.overall.roc_auc == thresher.roc_auc(y, s)
    assert ev.segments["b"].roc_auc == thresher.roc_auc(y[g == "b"], s[g == "b"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 1999), max_size=6, unique=True))
def test_any_partitioning_into_files_gives_identical_results(tmp_path_factory, seed, cuts):
    rng = np.random.default_rng(seed)
    y, s, _ = make(rng, 2000, ties=bool(seed % 2))
    root = tmp_path_factory.mktemp("parts")
    for i, (lo, hi) in enumerate(zip([0, *sorted(cuts)], [*sorted(cuts), 2000])):
        pq.write_table(pa.table({"y": y[lo:hi], "s": s[lo:hi]}), root / f"p{i:03d}.parquet")
    assert_same(exact_curves(root, label="y", score="s").overall, y, s)


def test_bad_inputs_are_clear(tmp_path):
    pq.write_table(pa.table({"y": [0, 1, 2], "s": np.array([0.1, 0.2, 0.3], np.float32)}), tmp_path / "three.parquet")
    with pytest.raises(InputError, match="more than two distinct values"):
        exact_curves(tmp_path / "three.parquet", label="y", score="s")
    pq.write_table(pa.table({"y": [0, 1, 1], "s": [0.25, 0.5, float("nan")]}), tmp_path / "nan.parquet")
    with pytest.raises(InputError, match="row 2"):
        exact_curves(tmp_path / "nan.parquet", label="y", score="s")
    with pytest.raises(InputError, match="No files match"):
        exact_curves(str(tmp_path / "none-*.parquet"), label="y", score="s")
    pq.write_table(pa.table({"y": [0, 1], "s": np.array([0.1, 0.2], np.float32)}), tmp_path / "two.parquet")
    with pytest.raises(InputError, match="pos_label 'Yes' never occurs"):
        exact_curves(tmp_path / "two.parquet", label="y", score="s", pos_label="Yes")


def make64(rng, n):
    """float64 scores that float32 cannot hold: near-ties a float32 cast would merge, both signs, zeros, ties."""
    y = (rng.random(n) < 0.2).astype(np.int8)
    s = rng.normal(0.3 * y, 1.0)
    s[: n // 10] = 0.5 + rng.integers(0, 5, n // 10) * 1e-12  # distinct in float64, one value in float32
    s[n // 10: n // 10 + 20] = 0.0
    s[n // 10 + 20: n // 10 + 40] = -0.0
    s[n // 10 + 40: n // 10 + 60] = 1e300
    s[n // 10 + 60: n // 10 + 80] = -1e300
    s[n // 10 + 80: n // 5] = np.round(s[n // 10 + 80: n // 5], 1)  # ties
    return y, s


def test_float64_scores_are_counted_exactly_on_64_bit_keys(tmp_path):
    """Scores float32 cannot represent are not cast: the curve equals in-memory float64 counting, with
    weights and segments, also when the first file is float32 and a later one switches the stream to 64 bits."""
    rng = np.random.default_rng(64)
    y, s = make64(rng, 30_000)
    w = rng.random(len(y))
    w[:500] = 0.0
    g = rng.choice(["a", "b"], len(y))
    first = 2_000  # float32 scores, written as float32: pass 1 starts on 16-bit keys, then starts over
    s[:first] = s[:first].astype(np.float32)
    pq.write_table(pa.table({"y": y[:first], "s": s[:first].astype(np.float32), "w": w[:first], "g": g[:first]}),
                   tmp_path / "p0.parquet")
    pq.write_table(pa.table({"y": y[first:], "s": s[first:], "w": w[first:], "g": g[first:]}), tmp_path / "p1.parquet",
                   row_group_size=4_000)
    with np.errstate(over="ignore"):
        assert np.unique(s.astype(np.float32)).size < np.unique(s).size  # a cast would merge scores
    for weight in (None, "w"):
        result = exact_curves(tmp_path, label="y", score="s", by="g", weight=weight)
        for curve, keep in [(result.overall, slice(None))] + [(c, g == name) for name, c in result.segments.items()]:
            ref = thresher.curve(y[keep], s[keep], sample_weight=w[keep] if weight else None)
            assert curve.thresholds.dtype == np.float64
            np.testing.assert_array_equal(curve.thresholds, ref.thresholds)
            np.testing.assert_allclose(curve.tp, ref.tp, rtol=1e-12, atol=0)
            np.testing.assert_allclose(curve.fp, ref.fp, rtol=1e-12, atol=0)
    ev = evaluate(tmp_path, label="y", score="s", threshold=0.5)
    assert ev.overall.roc_auc == pytest.approx(thresher.roc_auc(y, s), abs=1e-12)
    assert ev.overall.average_precision == pytest.approx(thresher.average_precision(y, s), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(1, 1999), max_size=5, unique=True))
def test_any_partitioning_of_float64_scores_gives_identical_results(tmp_path_factory, seed, cuts):
    rng = np.random.default_rng(seed)
    y, s = make64(rng, 2000)
    root = tmp_path_factory.mktemp("parts64")
    for i, (lo, hi) in enumerate(zip([0, *sorted(cuts)], [*sorted(cuts), 2000])):
        pq.write_table(pa.table({"y": y[lo:hi], "s": s[lo:hi]}), root / f"p{i:03d}.parquet")
    curve, ref = exact_curves(root, label="y", score="s").overall, thresher.curve(y, s)
    np.testing.assert_array_equal(curve.thresholds, ref.thresholds)
    np.testing.assert_array_equal(curve.tp, ref.tp)
    np.testing.assert_array_equal(curve.fp, ref.fp)


def test_float64_scores_that_appear_only_on_the_second_read_are_refused():
    reads = []

    def batches(columns):
        reads.append(1)
        s = np.linspace(0, 1, 100)
        yield pa.record_batch({"y": np.arange(100) % 2, "s": s.astype(np.float32) if len(reads) == 1 else s})

    with pytest.raises(InputError, match="same rows twice"):
        exact_curves(Source("flaky", batches), label="y", score="s")


def test_a_source_that_changes_between_passes_is_refused():
    reads = []

    def batches(columns):
        reads.append(1)
        n = 100 if len(reads) == 1 else 101
        yield pa.record_batch({"y": np.arange(n) % 2, "s": np.linspace(0, 1, n, dtype=np.float32)})

    with pytest.raises(InputError, match="same rows twice"):
        exact_curves(Source("flaky", batches), label="y", score="s")


def test_open_source_needs_a_path_or_a_query():
    with pytest.raises(InputError, match="--sql"):
        open_source(None)
    with pytest.raises(InputError, match="needs a query"):
        open_source("postgresql://localhost/db")


def test_directories_skip_files_that_are_not_parquet_and_damaged_files_are_clear(tmp_path):
    import subprocess
    import sys

    root = tmp_path / "scores"
    (root / "day=1").mkdir(parents=True)
    y = np.array([0, 1, 0, 1, 1], np.int8)
    s = np.array([0.1, 0.8, 0.3, 0.6, 0.2], np.float32)
    pq.write_table(pa.table({"label": y[:3], "score": s[:3]}), root / "part-0.parquet")
    pq.write_table(pa.table({"label": y[3:], "score": s[3:]}), root / "day=1" / "part-1.parquet")
    (root / "_SUCCESS").write_text("")
    (root / ".part-0.parquet.crc").write_text("x")
    (root / "ROWS-5").write_text("")  # a marker file, not Parquet
    (root / "README.md").write_text("# scores\n")
    assert evaluate(str(root), label="label", score="score").overall.roc_auc == thresher.roc_auc(y, s)
    assert thresher.evaluate(str(root), label="label", score="score").overall.roc_auc == thresher.roc_auc(y, s)

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    with pytest.raises(InputError, match="holds no Parquet files"):
        evaluate(str(empty), label="label", score="score")

    (root / "part-2.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    for extra in ([], ["--in-memory"]):
        proc = subprocess.run([sys.executable, "-m", "thresher.cli.main", "evaluate", str(root), "--label", "label",
                               "--score", "score", *extra], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "Parquet" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 1999), max_size=6, unique=True))
def test_weighted_counting_out_of_core_equals_in_memory_for_any_partitioning(tmp_path_factory, seed, cuts):
    rng = np.random.default_rng(seed)
    y, s, _ = make(rng, 2000, ties=bool(seed % 2))
    w = rng.integers(0, 4, 2000).astype(np.float64)  # integers, zeros included: sums exact in any order
    root = tmp_path_factory.mktemp("weighted")
    for i, (lo, hi) in enumerate(zip([0, *sorted(cuts)], [*sorted(cuts), 2000])):
        pq.write_table(pa.table({"y": y[lo:hi], "s": s[lo:hi], "w": w[lo:hi]}), root / f"p{i:03d}.parquet")
    got = exact_curves(root, label="y", score="s", weight="w").overall
    want = thresher.curve(y, s, sample_weight=w)
    assert np.array_equal(got.thresholds, want.thresholds)
    assert np.array_equal(got.tp, want.tp) and np.array_equal(got.fp, want.fp)
    fractional = rng.random(2000)  # fractional weights: the same sums in another order, equal to rounding
    other = tmp_path_factory.mktemp("fractional")
    pq.write_table(pa.table({"y": y, "s": s, "w": fractional}), other / "all.parquet")
    got = exact_curves(other, label="y", score="s", weight="w").overall
    want = thresher.curve(y, s, sample_weight=fractional)
    assert np.array_equal(got.thresholds, want.thresholds)
    assert np.allclose(got.tp, want.tp, rtol=1e-12, atol=0) and np.allclose(got.fp, want.fp, rtol=1e-12, atol=0)


def test_curves_that_cannot_fit_in_memory_are_a_clear_error_not_an_out_of_memory_kill(tmp_path, monkeypatch):
    """The check compares the curves' size, known before they are built, with the memory available
    (here made small: a real 24 GiB shortfall is not something a test can cause)."""
    import thresher.scale.outofcore as outofcore

    rng = np.random.default_rng(5)
    y, s = make64(rng, 5_000)
    pq.write_table(pa.table({"y": y, "s": s}), tmp_path / "d.parquet")
    points = len(thresher.curve(y, s))
    monkeypatch.setattr(outofcore, "_available_memory", lambda: points * outofcore.CURVE_BYTES_PER_POINT - 1)
    with pytest.raises(InputError, match=rf"hold {points:,} points \(float64 scores rarely tie\).*--bins N"):
        exact_curves(tmp_path / "d.parquet", label="y", score="s")
    monkeypatch.setattr(outofcore, "_available_memory", lambda: points * outofcore.CURVE_BYTES_PER_POINT)
    assert len(exact_curves(tmp_path / "d.parquet", label="y", score="s").overall) == points
