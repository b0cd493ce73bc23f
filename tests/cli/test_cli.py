"""The real CLI in a subprocess: JSON documents, exit codes, and messages without tracebacks."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import thresher
from thresher.examples import path as example_path

CREDIT = str(example_path())


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], capture_output=True, text=True,
                          timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_evaluate_json_matches_the_python_api():
    out = json.loads(cli("evaluate", CREDIT, "--label", "default", "--score", "score", "--by", "student",
                         "--threshold", "0.3", "--json", "-").stdout)
    ev = thresher.evaluate(CREDIT, label="default", score="score", by="student", threshold=0.3)
    assert out["n"] == 10_000 and out["positives"] == 333 and out["negatives"] == 9_667
    assert out["roc_auc"] == pytest.approx(ev.overall.roc_auc, abs=0)
    assert out["roc_auc"] == pytest.approx(0.948979, abs=1e-6)  # the dataset's published reference
    assert out["average_precision"] == pytest.approx(0.525815, abs=1e-6)
    # DeLong from the counts equals the stats module's interval, and brackets the AUC
    from thresher.stats import delong_auc_ci

    import pyarrow.csv as pacsv

    t = pacsv.read_csv(CREDIT)
    ref = delong_auc_ci(t.column("default").to_numpy(), t.column("score").to_numpy())
    assert out["roc_auc_interval"] == pytest.approx([ref.low, ref.high], abs=1e-12)
    assert ref.low < out["roc_auc"] < ref.high
    at = out["at_threshold"]
    assert set(at) >= {"threshold", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "specificity", "alert_rate"}
    assert at["tp"] + at["fn"] == 333
    assert set(out["segments"]) == {"no", "yes"}
    assert out["segments"]["yes"]["roc_auc"] == pytest.approx(ev.segments["yes"].roc_auc, abs=0)
    assert sum(s["n"] for s in out["segments"].values()) == 10_000


def test_evaluate_prints_a_summary_and_writes_json(tmp_path):
    target = tmp_path / "ev.json"
    proc = cli("evaluate", CREDIT, "--label", "default", "--score", "score", "--json", str(target))
    assert "ROC AUC" in proc.stdout and "0.9490" in proc.stdout
    assert json.loads(target.read_text())["n"] == 10_000


def test_evaluate_reads_parquet_with_weights_and_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    y = np.where(rng.random(n) < 0.2, "Yes", "No")
    s = rng.random(n).astype(np.float32)
    w = rng.random(n)
    pq.write_table(pa.table({"truth": y, "p": s, "w": w}), tmp_path / "d.parquet")
    out = json.loads(cli("evaluate", str(tmp_path / "d.parquet"), "--label", "truth", "--score", "p",
                         "--pos-label", "Yes", "--weight", "w", "--json", "-").stdout)
    assert out["roc_auc"] == pytest.approx(thresher.roc_auc(y == "Yes", s, sample_weight=w), abs=1e-12)
    assert out["weighted"] is True and out["pos_label"] == "Yes"


@pytest.mark.parametrize("args,message", [
    (["--label", "defualt", "--score", "score"], "Did you mean 'default'"),
    (["--label", "student", "--score", "score"], "--pos-label"),
    (["--label", "default", "--score", "student"], "must hold numbers"),
    (["--label", "default", "--score", "score", "--pos-label", "2"], "never occurs"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, message):
    proc = cli("evaluate", CREDIT, *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_nan_score_in_a_csv_is_named_with_its_row(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("y,s\n0,0.1\n1,nan\n1,0.7\n")
    proc = cli("evaluate", str(f), "--label", "y", "--score", "s", check=False)
    assert proc.returncode == 2
    assert "score column 's'" in proc.stderr and "row 1" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_exits_2():
    proc = cli("evaluate", "no/such/file.csv", "--label", "y", "--score", "s", check=False)
    assert proc.returncode == 2 and "File not found" in proc.stderr


def test_tune_json_has_the_documented_keys_per_segment():
    out = json.loads(cli("tune", CREDIT, "--label", "default", "--score", "score", "--objective",
                         "min-cost fn=10 fp=1", "--by", "student", "--bootstrap", "50", "--json", "-").stdout)
    for key in ("objective", "threshold", "tp", "fp", "tn", "fn", "precision", "recall", "f1", "alert_rate", "cost",
                "intervals", "segments", "bayes_threshold", "calibration", "bootstrap"):
        assert key in out, key
    assert out["bayes_threshold"] == pytest.approx(1 / 11)
    point = thresher.select(CREDIT, "min-cost fn=10 fp=1", label="default", score="score")
    assert out["threshold"] == point.threshold and out["cost"] == point.cost
    assert set(out["segments"]) == {"no", "yes"}
    lo, hi = out["intervals"]["recall"]
    assert lo < out["recall"] < hi
    assert len(out["bootstrap"]["threshold_interval"]) == 2


def test_tune_confidence_flag_makes_constraints_confident():
    plain = json.loads(cli("tune", CREDIT, "--label", "default", "--score", "score", "--objective",
                           "max-precision recall>=0.9", "--json", "-").stdout)
    sure = json.loads(cli("tune", CREDIT, "--label", "default", "--score", "score", "--objective",
                          "max-precision recall>=0.9", "--confidence", "0.95", "--json", "-").stdout)
    assert sure["objective"].endswith("confidence=0.95")
    assert sure["intervals"]["recall"][0] >= 0.9 > plain["intervals"]["recall"][0]


@pytest.mark.parametrize("spec,message", [
    ("max-precision recall>=1.5", "fraction in [0, 1]"),
    ("min-cost fn=-1 fp=1", "must be >= 0"),
    ("maximum-f1", "Unknown objective"),
    ("max-recall precision>=0.95 confidence=0.95", "best achievable precision"),
])
def test_tune_bad_specs_exit_2(spec, message):
    proc = cli("tune", CREDIT, "--label", "default", "--score", "score", "--objective", spec, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
