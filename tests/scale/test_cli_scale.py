"""The CLI on data read out of core (globs, directories, --sql) and in binned mode."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv  # noqa: F401  (pa.csv)
import pyarrow.parquet as pq
import pytest

import thresher


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], capture_output=True, text=True,
                          timeout=300)
    return proc


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("scores")
    rng = np.random.default_rng(0)
    ys, ss, gs = [], [], []
    for i in range(3):
        n = 40_000
        y = (rng.random(n) < 0.05).astype(np.int8)
        s = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1).astype(np.float32)
        g = rng.choice(["FR", "DE"], n)
        pq.write_table(pa.table({"label": y, "score": s, "country": g}), root / f"part-{i}.parquet")
        ys.append(y), ss.append(s), gs.append(g)
    return root, np.concatenate(ys), np.concatenate(ss), np.concatenate(gs)


def test_evaluate_glob_is_exact_and_equals_in_memory(parts):
    root, y, s, g = parts
    proc = cli("evaluate", str(root / "*.parquet"), "--label", "label", "--score", "score", "--by", "country",
               "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["exact"] is True
    assert out["roc_auc"] == thresher.roc_auc(y, s)
    assert out["average_precision"] == thresher.average_precision(y, s)
    assert out["segments"]["DE"]["roc_auc"] == thresher.roc_auc(y[g == "DE"], s[g == "DE"])


def test_evaluate_sql(parts):
    root, y, s, g = parts
    proc = cli("evaluate", "--sql", f"select label, score from '{root}/*.parquet' where country = 'FR'",
               "--label", "label", "--score", "score", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["roc_auc"] == thresher.roc_auc(y[g == "FR"], s[g == "FR"])


def test_binned_mode_reports_bounds_that_contain_the_exact_values(parts):
    root, y, s, _ = parts
    proc = cli("evaluate", str(root), "--label", "label", "--score", "score", "--bins", "64", "--threshold", "0.4",
               "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["exact"] is False
    lo, hi = out["roc_auc_bounds"]
    assert lo <= thresher.roc_auc(y, s) <= hi and hi - lo < 0.05
    lo, hi = out["average_precision_bounds"]
    assert lo <= thresher.average_precision(y, s) <= hi
    exact = thresher.curve(y, s).at(0.4)
    assert (out["at_threshold"]["tp"], out["at_threshold"]["fp"]) == (exact.tp, exact.fp)


def test_tune_glob_by_segment_equals_in_memory(parts):
    root, y, s, g = parts
    proc = cli("tune", str(root / "*.parquet"), "--label", "label", "--score", "score", "--by", "country",
               "--objective", "max-precision recall>=0.8", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    point = thresher.select(thresher.curve(y, s), "max-precision recall>=0.8")
    assert out["threshold"] == pytest.approx(point.threshold) and out["tp"] == point.tp
    fr = thresher.select(thresher.curve(y[g == "FR"], s[g == "FR"]), "max-precision recall>=0.8")
    assert out["segments"]["FR"]["tp"] == fr.tp


def test_out_of_core_takes_weights(parts):
    root, y, s, g = parts
    proc = cli("evaluate", str(root), "--label", "label", "--score", "score", "--weight", "score", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["weighted"] is True and out["roc_auc_interval"] is None
    assert out["roc_auc"] == pytest.approx(thresher.roc_auc(y, s, sample_weight=s.astype(np.float64)), abs=1e-12)


def test_binned_mode_reads_a_csv_stream_on_standard_input(parts, tmp_path):
    root, y, s, g = parts
    csv_path = tmp_path / "stream.csv"
    pa.csv.write_csv(pa.table({"label": y, "score": s, "country": g}), csv_path)
    text = csv_path.read_text()

    def piped(*args):
        return subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], input=text, capture_output=True,
                              text=True, timeout=300)

    common = ["--label", "label", "--score", "score", "--bins", "64", "--json", "-"]
    streamed, stored = piped("evaluate", "-", *common, "--by", "country"), cli("evaluate", str(csv_path), *common,
                                                                              "--by", "country")
    assert streamed.returncode == 0 and stored.returncode == 0, streamed.stderr + stored.stderr
    assert json.loads(streamed.stdout) == json.loads(stored.stdout)
    tune = ["--objective", "min-cost fn=10 fp=1", "--no-refine"]
    streamed, stored = piped("tune", "-", *common, *tune), cli("tune", str(csv_path), *common, *tune)
    assert streamed.returncode == 0, streamed.stderr
    a, b = json.loads(streamed.stdout), json.loads(stored.stdout)
    assert a["threshold"] == b["threshold"] and a["binned"]["bounds"] == b["binned"]["bounds"]
    for args, hint in ((["evaluate", "-", "--label", "label", "--score", "score"], "--bins"),
                       (["tune", "-", "--label", "label", "--score", "score", "--objective", "max-f1", "--bins", "8"],
                        "--no-refine")):
        proc = piped(*args)
        assert proc.returncode == 2 and hint in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_scale_options_that_cannot_work_are_refused_with_a_reason(parts, tmp_path):
    root, *_ = parts
    text = "y,q\n1,0.5\n0,0.2\n"
    proc = subprocess.run([sys.executable, "-m", "thresher.cli.main", "evaluate", "-", "--label", "y", "--score",
                           "p", "--bins", "4"], input=text, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "lacks a column" in proc.stderr and "'p'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    proc = cli("tune", str(root), "--label", "label", "--score", "score", "--objective", "max-f1", "--bins", "0")
    assert proc.returncode == 2 and "whole number >= 1" in proc.stderr, proc.stderr
    proc = cli("policy", "fit", "--sql", f"select * from '{root}/*.parquet'", "--in-memory", "--label", "label",
               "--score", "score", "--objective", "max-f1", "--out", str(tmp_path / "p.yaml"))
    assert proc.returncode == 2 and "--in-memory" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_bad_weight_is_reported_at_its_row_in_the_whole_stream(tmp_path):
    for i in range(2):
        w = np.ones(5)
        if i == 1:
            w[3] = -1.0  # row 5 + 3
        pq.write_table(pa.table({"y": np.arange(5) % 2, "s": np.linspace(0, 1, 5), "w": w}), tmp_path / f"p{i}.parquet")
    for extra in ([], ["--bins", "8"]):
        proc = cli("evaluate", str(tmp_path), "--label", "y", "--score", "s", "--weight", "w", *extra)
        assert proc.returncode == 2 and "first at row 8" in proc.stderr, proc.stderr
