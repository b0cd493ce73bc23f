"""Out-of-core policy fit, tune and report equal their in-memory counterparts on the same rows."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from thresher.errors import ParameterError
from thresher.policy.fit import fit_policy as fit_in_memory
from thresher.report.build import build_report as report_in_memory
from thresher.scale.fit import fit_policy as fit_streamed
from thresher.scale.outofcore import exact_curves
from thresher.scale.report import build_report as report_streamed

TIERS = {"block": "max-precision recall>=0.5", "review": "budget rate<=0.2"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("parts")
    rng = np.random.default_rng(7)
    tables = []
    for i, n in enumerate((30_000, 17_000, 25_000)):
        y = (rng.random(n) < 0.08).astype(np.int8)
        s = np.round(np.clip(rng.normal(0.3 + 0.35 * y, 0.18), 0, 1), 3).astype(np.float32)  # ties
        country = rng.choice(["FR", "DE", "IT"], n, p=[0.5, 0.45, 0.05])
        plan = rng.choice(["gold", "silver"], n)
        t = pa.table({"label": y, "score": s, "country": country, "plan": plan})
        pq.write_table(t, root / f"part-{i}.parquet")
        tables.append(t)
    single = tmp_path_factory.mktemp("single") / "all.parquet"
    whole = pa.concat_tables(tables)
    pq.write_table(whole, single)
    return root, single, whole


def _rules(policy):
    return [(r.name, r.match, [(t.action, t.threshold) for t in r.tiers]) for r in policy.model.rules]


def _evidence(policy):
    return [(t.evidence.metrics, t.evidence.support, t.evidence.score_range, t.evidence.source)
            for r in policy.model.rules for t in r.tiers]


@pytest.mark.parametrize("by", [None, "country", "country,plan"])
def test_fit_out_of_core_equals_in_memory(parts, by):
    root, _, whole = parts
    streamed = fit_streamed(str(root), label="label", score="score", tiers=TIERS, by=by, min_support=200)
    memory = fit_in_memory(whole, label="label", score="score", tiers=TIERS, by=by, min_support=200)
    assert _rules(streamed.policy) == _rules(memory.policy)
    assert _evidence(streamed.policy) == _evidence(memory.policy)
    assert [(r["rule"], r["source"], r["note"]) for r in streamed.rows] == \
        [(r["rule"], r["source"], r["note"]) for r in memory.rows]
    if by == "country,plan":  # IT has too few positives: a fallback climbs to its parent
        assert any(r["source"] == "fallback" for r in streamed.rows)


def test_stream_fingerprint_ignores_file_layout_and_sees_changes(parts, tmp_path):
    root, single, whole = parts
    a = exact_curves(str(root), label="label", score="score", fingerprint=True).fingerprint
    b = exact_curves(str(single), label="label", score="score", fingerprint=True).fingerprint
    assert a == b and a.startswith("sha256-stream:")
    y = whole.column("label").to_numpy().copy()
    y[123] = 1 - y[123]
    changed = tmp_path / "changed.parquet"
    pq.write_table(whole.set_column(0, "label", pa.array(y)), changed)
    assert exact_curves(str(changed), label="label", score="score", fingerprint=True).fingerprint != a
    fit = fit_streamed(str(root), label="label", score="score", tiers={"block": "max-f1"})
    assert fit.policy.model.rules[0].tiers[0].evidence.data_fingerprint == a


def _views(report):
    keep = ("name", "n", "positives", "negatives", "roc_auc", "auc_interval", "average_precision",
            "distinct_scores", "curve", "distribution", "calibration")
    views = {v["name"]: {k: v[k] for k in keep} for v in report.document["views"]}
    marks = {v["name"]: sorted(json.dumps(m, sort_keys=True) for m in v["marks"]) for v in report.document["views"]}
    return views, marks


@pytest.mark.parametrize("by", ["country", "plan"])
def test_report_out_of_core_equals_in_memory(parts, tmp_path, by):
    root, _, whole = parts
    policy = fit_in_memory(whole, label="label", score="score", tiers=TIERS, by="country", min_support=200).policy
    options = dict(label="label", score="score", by=by, objectives=["min-cost fn=10 fp=1", "max-f1"],
                   policy=policy, min_support=200)
    streamed = report_streamed(str(root / "*.parquet"), **options)
    memory = report_in_memory(whole, **options)
    assert _views(streamed) == _views(memory)
    # by plan, each view mixes the country rules: the policy shows its realised confusion per action level
    kinds = {m["kind"] for v in streamed.document["views"] for m in v["marks"]}
    assert kinds == {"objective", "policy"}
    if by == "plan":
        assert any(m["threshold"] is None and m["kind"] == "policy" for m in streamed.document["views"][0]["marks"])


def test_report_out_of_core_refuses_what_needs_rows(parts):
    root, _, whole = parts
    policy = fit_in_memory(whole, label="label", score="score", tiers=TIERS).policy
    with pytest.raises(ParameterError, match="row by row"):
        report_streamed(str(root), label="label", score="score", policy=policy, policy_old=policy)
    with pytest.raises(ParameterError, match="per-case columns"):
        report_streamed(str(root), label="label", score="score", objectives=["min-cost fn=amount fp=1"])


def test_cli_fit_tune_and_report_out_of_core(parts, tmp_path):
    root, single, _ = parts
    glob = str(root / "*.parquet")
    common = ["--label", "label", "--score", "score", "--by", "country,plan", "--min-support", "200"]
    for extra, out in (([], "streamed.json"), (["--in-memory"], "memory.json")):
        proc = cli("policy", "fit", glob if not extra else str(single), *common, "--objective", "max-f1",
                   "--tier", "review=budget rate<=0.2", "--out", str(tmp_path / out), *extra)
        assert proc.returncode == 0, proc.stderr
    a, b = (json.loads((tmp_path / f).read_text()) for f in ("streamed.json", "memory.json"))
    assert [r["tiers"][0]["threshold"] for r in a["rules"]] == [r["tiers"][0]["threshold"] for r in b["rules"]]
    assert a["rules"][0]["tiers"][0]["evidence"]["data_fingerprint"].startswith("sha256-stream:")

    tuned = [cli("tune", src, *common, "--objective", "min-cost fn=10 fp=1", "--json", "-", *extra)
             for src, extra in ((glob, []), (str(single), ["--in-memory"]))]
    assert all(p.returncode == 0 for p in tuned), tuned[0].stderr + tuned[1].stderr
    a, b = (json.loads(p.stdout) for p in tuned)
    assert a["threshold"] == b["threshold"] and a["segments"].keys() == b["segments"].keys()
    for name in a["segments"]:
        assert (a["segments"][name]["threshold"], a["segments"][name]["tp"], a["segments"][name]["fallback"]) == \
            (b["segments"][name]["threshold"], b["segments"][name]["tp"], b["segments"][name]["fallback"])

    html = tmp_path / "r.html"
    proc = cli("report", glob, "--label", "label", "--score", "score", "--by", "country", "--objective", "max-f1",
               "--policy", str(tmp_path / "streamed.json"), "--out", str(html))
    assert proc.returncode == 0, proc.stderr
    assert html.stat().st_size > 10_000
    proc = cli("report", glob, "--label", "label", "--score", "score", "--policy", str(tmp_path / "streamed.json"),
               "--policy-old", str(tmp_path / "streamed.json"), "--out", str(html))
    assert proc.returncode == 2 and "--in-memory" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def weighted_parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("weighted")
    rng = np.random.default_rng(11)
    tables = []
    for i, n in enumerate((20_000, 15_000)):
        y = (rng.random(n) < 0.08).astype(np.int8)
        s = np.round(np.clip(rng.normal(0.3 + 0.35 * y, 0.18), 0, 1), 3).astype(np.float32)
        w = rng.integers(0, 6, n).astype(np.float64)  # integer weights (0 included): sums are exact in any order
        w[(s == s.max()) | (s == s.min())] = 0.0  # the score range seen still includes these rows
        t = pa.table({"label": y, "score": s, "w": w, "country": rng.choice(["FR", "DE"], n)})
        pq.write_table(t, root / f"part-{i}.parquet")
        tables.append(t)
    return root, pa.concat_tables(tables)


def test_weighted_evaluate_fit_and_report_out_of_core_equal_in_memory(weighted_parts):
    from thresher.metrics.evaluate import evaluate as evaluate_in_memory
    from thresher.scale.outofcore import evaluate as evaluate_streamed

    root, whole = weighted_parts
    common = dict(label="label", score="score", weight="w", by="country")
    assert evaluate_streamed(str(root), **common).to_dict() == evaluate_in_memory(whole, **common).to_dict()
    streamed = fit_streamed(str(root), tiers=TIERS, min_support=50, **common)
    memory = fit_in_memory(whole, tiers=TIERS, min_support=50, **common)
    assert _rules(streamed.policy) == _rules(memory.policy) and _evidence(streamed.policy) == _evidence(memory.policy)
    options = dict(objectives=["min-cost fn=10 fp=1"], policy=memory.policy, min_support=50, **common)
    a, b = report_streamed(str(root), **options), report_in_memory(whole, **options)
    assert _views(a) == _views(b) and a.document["weighted"] is True
