"""The report document and page, without a browser: exact points, kept marks, offline HTML, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import thresher
from thresher.errors import InputError, ParameterError, PolicyError
from thresher.examples import path as example_path
from thresher.metrics.curve import Curve
from thresher.policy import Policy
from thresher.report import build_report
from thresher.report.html import render
from thresher.report.views import calibration, display_curve, distributions, threshold_axis
from thresher.stats.calibration import reliability_table

CREDIT = str(example_path())


@pytest.fixture(scope="module")
def credit_document():
    return build_report(CREDIT, label="default", score="score", by="student",
                        objectives=["min-cost fn=10 fp=1", "max-precision recall>=0.9", "max-f1"]).document


def _page_data(html: str) -> dict:
    text = re.search(r'<script type="application/json" id="thresher-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(text)


def test_every_point_shown_carries_the_exact_counts(credit_document):
    cols = thresher.load(CREDIT, label="default", score="score", by="student")
    groups = dict(cols.segments.groups())
    for view in credit_document["views"]:
        sub = cols if view["key"] == "all" else cols.take(groups[view["name"]])
        curve = Curve.from_columns(sub)
        shown = view["curve"]
        assert shown["tp"][0] == 0 and shown["fp"][0] == 0  # "flag nothing" first
        assert shown["tp"][-1] == curve.positives and shown["fp"][-1] == curve.negatives
        assert np.all(np.diff(shown["threshold"]) < 0)
        for t, tp, fp in zip(shown["threshold"], shown["tp"], shown["fp"]):
            c = curve.at(t)
            assert (c.tp, c.fp) == (tp, fp)
        assert view["n"] == len(sub) and view["roc_auc"] == curve.roc_auc()
        assert view["average_precision"] == curve.average_precision()


def test_marks_are_the_selected_points_and_the_curve_keeps_them(credit_document):
    overall = credit_document["views"][0]
    for mark in overall["marks"]:
        point = thresher.select(CREDIT, mark["label"], label="default", score="score")
        assert mark["threshold"] == point.threshold and mark["at"] in overall["curve"]["threshold"]
        k = overall["curve"]["threshold"].index(mark["at"])
        assert (overall["curve"]["tp"][k], overall["curve"]["fp"][k]) == (point.tp, point.fp)
        assert mark["intervals"]["precision"] == list(point.intervals["precision"])
    selection = thresher.select_by_segment(CREDIT, "min-cost fn=10 fp=1", by="student", label="default",
                                           score="score")
    yes = next(v for v in credit_document["views"] if v["name"] == "yes")
    assert yes["marks"][0]["threshold"] == selection.segments["yes"].threshold
    assert credit_document["cost"] == {"fn": 10.0, "fp": 1.0, "tp": 0.0, "tn": 0.0}  # from the min-cost objective


def test_the_auc_interval_is_delongs(credit_document):
    cols = thresher.load(CREDIT, label="default", score="score")
    r = thresher.stats.delong_auc_ci(cols.y, cols.score)
    assert credit_document["views"][0]["auc_interval"] == {"low": r.low, "high": r.high, "se": r.se,
                                                            "confidence": 0.95}


def test_display_curve_thins_large_curves_and_keeps_marked_thresholds():
    rng = np.random.default_rng(0)
    y = rng.random(200_000) < 0.1
    curve = thresher.curve(y, rng.normal(size=y.size) + y)
    keep = [float(curve.thresholds[12_345]), 0.123456]
    shown = display_curve(curve, keep, max_points=800)
    assert len(shown) < 1300
    assert float(curve.thresholds[12_345]) in shown.thresholds
    assert shown.thresholds[shown.index_at(0.123456)] == curve.thresholds[curve.index_at(0.123456)]
    # recall and FPR steps stay small, so PR and ROC are smooth
    assert np.max(np.diff(shown.recall)) < 0.02 and np.max(np.diff(shown.fpr)) < 0.02
    small = thresher.curve([0, 1, 1], [0.2, 0.5, 0.9])
    assert len(display_curve(small)) == 4  # every point, plus "flag nothing"


def test_distributions_and_calibration_equal_their_row_level_definitions():
    rng = np.random.default_rng(5)
    n = 20_000
    y = (rng.random(n) < 0.1).astype(np.uint8)
    s = np.round(rng.beta(0.6, 6, n) + 0.2 * y, 3).clip(0, 1)  # rounded: many ties, some exactly on bin edges
    w = rng.random(n) + 0.25
    curve = thresher.curve(y, s, sample_weight=w)
    hist = distributions(curve, bins=17)
    for key, klass in (("positives", 1), ("negatives", 0)):
        for axis in ("linear", "logit"):
            edges = hist[axis]["edges"]
            expected, _ = np.histogram(s[y == klass], edges, weights=w[y == klass])
            np.testing.assert_allclose(hist[axis][key], expected, rtol=1e-9, atol=1e-9)
    assert hist["axis"] == "logit"
    table = calibration(curve, bins=10)
    expected = reliability_table(y, s, w, bins=10)
    for key in ("low", "high", "weight", "predicted", "observed"):
        np.testing.assert_allclose(table[key], expected[key], rtol=1e-9, atol=1e-12)
    assert threshold_axis(thresher.curve([0, 1, 0, 1], [0.2, 0.6, 0.4, 0.7])) == "linear"
    assert distributions(thresher.curve([0, 1], [-3.0, 2.0]))["logit"] is None
    assert calibration(thresher.curve([0, 1], [-3.0, 2.0])) is None


def test_the_page_is_self_contained_and_its_csp_allows_only_its_own_code(credit_document):
    html = render(credit_document)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "@import" not in html and "url(http" not in html and "//cdn" not in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    for text in (script, style):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert _page_data(html)["views"][0]["n"] == 10_000


def test_the_data_cannot_close_the_script_element():
    evil = "</script><script>alert(1)</script>\u2028"
    report = build_report({"y": [0, 1, 0, 1], "p": [0.1, 0.9, 0.3, 0.6], "g": [evil, evil, "a", "a"]},
                          label="y", score="p", by="g", title=evil)
    html = report.to_html()
    assert "<script>alert(1)" not in html
    assert _page_data(html)["views"][1]["name"] == evil


def test_a_view_stays_small_whatever_the_number_of_rows():
    # the 1e7-row size test is in test_report_large.py; here a quick bound on one view's payload
    rng = np.random.default_rng(0)
    y = rng.random(300_000) < 0.05
    report = build_report({"y": y, "p": rng.random(y.size) + y * 0.3}, label="y", score="p",
                          objectives=["max-f1"])
    view = report.document["views"][0]
    assert len(json.dumps(view)) < 200_000


def test_weighted_data_has_no_delong_interval_and_says_so():
    rng = np.random.default_rng(3)
    n = 500
    report = build_report({"y": rng.integers(0, 2, n), "p": rng.random(n), "w": rng.random(n) + 0.5},
                          label="y", score="p", weight="w")
    assert report.document["views"][0]["auc_interval"] is None
    assert report.document["weighted"] and "DeLong" in report.document["notes"][0]


def test_an_infeasible_objective_is_listed_not_fatal():
    report = build_report(CREDIT, label="default", score="score",
                          objectives=["max-precision recall>=0.95 precision>=0.9"])
    mark = report.document["views"][0]["marks"][0]
    assert mark["at"] is None and "best achievable" in mark["infeasible"]


def test_policies_mark_their_tiers(credit_policies):
    old_path, new_path = credit_policies
    report = build_report(CREDIT, label="default", score="score", by="student", policy=new_path,
                          policy_old=old_path, cost="fn=10 fp=1")
    doc = report.document
    new = Policy.load(new_path)
    no = next(v for v in doc["views"] if v["name"] == "no")
    tiers = [m for m in no["marks"] if m["kind"] == "policy"]
    rule = next(r for r in new.rules if r.name == "student=no")
    assert [m["threshold"] for m in tiers] == [t.threshold for t in rule.tiers]
    assert all(m["at"] in no["curve"]["threshold"] for m in tiers)
    # all rows mix two rules: the realised confusion of "block or stricter", no single threshold
    realised = [m for m in doc["views"][0]["marks"] if m["kind"] == "policy"]
    decided = new.decide(CREDIT).column("tier").to_pylist()
    labels = thresher.load(CREDIT, label="default", score="score").y
    flagged = np.array([t == "block" for t in decided])
    assert realised[0]["threshold"] is None and realised[0]["tp"] == int(np.sum(flagged & (labels == 1)))
    old_marks = [m for m in doc["views"][0]["marks"] if m["kind"] == "policy-old"]
    assert old_marks[0]["threshold"] == 0.5
    assert doc["diff"]["impact"]["flipped"] > 0 and doc["diff"]["change_text"]


def test_bad_arguments_say_what_and_how_to_fix(credit_policies):
    old_path, new_path = credit_policies
    with pytest.raises(ParameterError, match="needs policy"):
        build_report(CREDIT, label="default", score="score", policy_old=old_path)
    with pytest.raises(PolicyError, match="--score"):
        build_report({"y": [0, 1], "s2": [0.1, 0.9], "score": [0.1, 0.9]}, label="y", score="s2", policy=new_path)
    with pytest.raises(ParameterError, match="constants"):
        build_report(CREDIT, label="default", score="score", cost="fn=balance fp=1")
    with pytest.raises(InputError, match="Did you mean 'default'"):
        build_report(CREDIT, label="defualt", score="score")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_errors_exit_2_without_a_traceback(tmp_path):
    proc = cli("report", CREDIT, "--label", "default", "--score", "score", "--out", str(tmp_path / "r.png"))
    assert proc.returncode == 2 and "--out must name an .html file" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("report", CREDIT, "--label", "default", "--score", "score", "--objective", "max-nothing",
               "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and not (tmp_path / "r.html").exists()
