"""``thresher check`` and ``thresher runs`` in a subprocess: exit codes 0 / 1 / 2, JSON, JUnit, history.

Each exit status is driven once through a real subprocess; further input errors go through the same
``main()`` in-process to keep the suite fast.
"""

import json
import xml.etree.ElementTree as ET

import pytest
import yaml
from gate_data import run_cli, write_gate, write_scores

from thresher.cli.main import main

CHECKS = ["roc_auc >= 0.7", "recall >= 0.3 at threshold 1.0", "roc_auc vs baseline >= -0.005",
          "average_precision vs baseline >= -0.01"]


def test_pass_then_regression_then_history(tmp_path, rows, capsys, monkeypatch):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    write_gate(tmp_path, CHECKS)
    store = tmp_path / ".thresher" / "runs.db"

    ok = run_cli("check", "gate.yaml", "--junit", "first.xml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout and "SKIP" in ok.stdout and "recorded in .thresher/runs.db" in ok.stdout
    assert store.exists()  # the default store, relative to the current directory
    assert ET.parse(tmp_path / "first.xml").getroot().get("failures") == "0"

    write_scores(tmp_path / "golden.csv", rows, "regressed")
    bad = run_cli("check", "gate.yaml", "--baseline", "latest", "--json", "-", "--junit", "second.xml",
                  cwd=tmp_path)
    assert bad.returncode == 1, bad.stderr
    doc = json.loads(bad.stdout)  # --json - prints only the document
    assert doc["passed"] is False and doc["summary"] == {"total": 4, "pass": 2, "fail": 2, "skip": 0}
    assert [c["verdict"] for c in doc["checks"]] == ["pass", "pass", "fail", "fail"]
    assert doc["checks"][2]["details"]["method"] == "DeLong" and doc["checks"][2]["value"] < -0.005
    assert ET.parse(tmp_path / "second.xml").getroot().get("failures") == "2"

    # the history commands, through the same main() in-process (the subprocess path is covered above)
    monkeypatch.chdir(tmp_path)
    assert main(["runs", "list", "--json", "-"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["passed"] for r in runs] == [False, True] and runs[0]["run_id"] == doc["run_id"]
    assert main(["runs", "list"]) == 0
    assert doc["run_id"] in capsys.readouterr().out
    assert main(["runs", "show", doc["run_id"][:6]]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "FAIL" in shown and "a regression" in shown
    assert main(["runs", "compare", runs[1]["run_id"], "latest", "--bootstrap", "200", "--json", "-"]) == 0
    rows_ = {r["measure"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert rows_["roc_auc"]["method"] == "DeLong" and rows_["roc_auc"]["significant"] is True
    assert rows_["roc_auc"]["delta"] == pytest.approx(doc["checks"][2]["value"])
    assert rows_["recall at threshold 1"]["method"] == "paired bootstrap"
    assert main(["runs", "compare", runs[1]["run_id"], "latest", "--bootstrap", "200"]) == 0
    assert "paired where the rows match" in capsys.readouterr().out
    assert main(["runs", "show", "ffff"]) == 2
    assert "No run 'ffff'" in capsys.readouterr().err


def test_input_errors_exit_2(tmp_path, rows, capsys):
    write_scores(tmp_path / "golden.csv", rows, "baseline")
    # a malformed gate file: in a subprocess, the message names the field and there is no traceback
    bad = write_gate(tmp_path, ["recal >= 0.9 at threshold 0.5"], file="bad.yaml")
    proc = run_cli("check", bad, "--no-record")
    assert proc.returncode == 2
    assert "checks[0]: Unknown metric 'recal'" in proc.stderr and "Traceback" not in proc.stderr

    def check(*args) -> str:
        assert main(["check", *map(str, args)]) == 2
        return capsys.readouterr().err

    # a golden file that changed since its fingerprint was pinned: both hashes, and how to fix it
    gate = write_gate(tmp_path, ["roc_auc >= 0.5"])
    data = yaml.safe_load(gate.read_text())
    pinned = "sha256:" + "0" * 64
    data["datasets"]["golden"]["fingerprint"] = pinned
    gate.write_text(yaml.safe_dump(data))
    err = " ".join(check(gate, "--no-record").split())
    assert "no longer matches its pinned fingerprint (datasets.golden.fingerprint)" in err
    assert f"pinned: {pinned}" in err and "actual: sha256:" in err and "pin the actual value" in err
    # missing data, a missing column, an unknown baseline run, a store that is not one
    err = check(write_gate(tmp_path, ["roc_auc >= 0.5"], data="nope.csv", file="g2.yaml"), "--no-record")
    assert "Golden dataset 'golden'" in err and "File not found" in err
    write_scores(tmp_path / "other.csv", rows, "baseline")
    g3 = write_gate(tmp_path, ["roc_auc >= 0.5"], data="other.csv", file="g3.yaml")
    data = yaml.safe_load(g3.read_text())
    data["datasets"]["golden"]["label"] = "target"
    g3.write_text(yaml.safe_dump(data))
    assert "Column 'target' not found" in check(g3, "--no-record")
    store = str(tmp_path / "runs.db")
    g4 = write_gate(tmp_path, ["roc_auc vs baseline >= 0"], file="g4.yaml")
    assert "No run 'abcdef'" in check(g4, "--baseline", "abcdef", "--store", store)
    assert "Unknown run store" in check(g4, "--store", "ftp://x")
