"""Policies: round trips, decisions against a per-row reference, malformed files, lint, diff, apply."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import thresher
from thresher.errors import InputError, PolicyError
from thresher.examples import path as example_path
from thresher.policy import Policy, diff_policies, fit_policy, from_operating_points, lint
from thresher.policy.apply import apply_file

CREDIT = str(example_path())
ACTIONS = ["block", "review", "hold", "allow"]


@st.composite
def policies(draw):
    n_fields = draw(st.integers(0, 2))
    fields = ["country", "tier"][:n_fields]
    values = {"country": ["FR", "DE", "US"], "tier": ["gold", "basic"]}
    rules = []
    for i in range(draw(st.integers(0, 4)) if fields else 0):
        match = {f: draw(st.sampled_from(values[f])) for f in fields if draw(st.booleans())}
        if not match:
            continue
        rules.append({"name": f"r{i}", "match": match})
    rules.append({"name": "default", "match": {}})
    for rule in rules:
        k = draw(st.integers(0, 3))
        thresholds = sorted(draw(st.lists(st.floats(0, 1), min_size=k, max_size=k, unique=True)), reverse=True)
        actions = draw(st.permutations(ACTIONS[:3]))[:k]
        rule["tiers"] = [{"action": a, "threshold": t} for a, t in zip(actions, thresholds)]
        rule["otherwise"] = "allow"
    return Policy.from_dict({"name": "p", "version": draw(st.integers(1, 9)), "score": "s", "segments": fields,
                             "actions": ACTIONS, "rules": rules})


def random_rows(rng, n, fields):
    data = {"s": np.round(rng.random(n), 2)}
    if "country" in fields:
        data["country"] = rng.choice(["FR", "DE", "US", "IT"], n)  # IT appears in no rule
    if "tier" in fields:
        data["tier"] = rng.choice(["gold", "basic"], n)
    return data


def reference(policy, data, i):
    segments = {f: data[f][i] for f in policy.segments}
    return policy.decide_one(float(data["s"][i]), **segments)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), seed=st.integers(0, 2**16), fmt=st.sampled_from(["yaml", "json"]))
def test_round_trip_and_decisions_match_the_per_row_reference(tmp_path_factory, policy, seed, fmt):
    path = tmp_path_factory.mktemp("p") / f"policy.{fmt}"
    policy.save(path)
    loaded = Policy.load(path)
    assert loaded == policy
    rng = np.random.default_rng(seed)
    data = random_rows(rng, 200, policy.segments)
    a = policy.decide(data).to_pylist()
    assert a == loaded.decide(data).to_pylist()
    for i in range(0, 200, 7):
        ref = reference(policy, data, i)
        row = a[i]
        assert (row["action"], row["tier"], row["segment"], row["policy_version"]) == \
               (ref["action"], ref["tier"], ref["segment"], ref["policy_version"])
        assert row["threshold"] == ref["threshold"] or (row["threshold"] is None and ref["threshold"] is None)


def test_fit_save_load_apply_gives_identical_decisions(tmp_path):
    result = fit_policy(CREDIT, label="default", score="score", by="student",
                        tiers={"block": "max-precision recall>=0.5", "review": "budget rate<=0.08"})
    result.policy.save(tmp_path / "p.yaml")
    loaded = Policy.load(tmp_path / "p.yaml")
    assert loaded == result.policy
    assert loaded.decide(CREDIT).equals(result.policy.decide(CREDIT))
    # the evidence is what select() says on that segment
    yes = [r for r in loaded.rules if r.name == "student=yes"][0]
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(CREDIT)
    rows = np.asarray(table.column("student")) == "yes"
    point = thresher.select({"y": np.asarray(table.column("default"))[rows],
                             "s": np.asarray(table.column("score"))[rows]},
                            "max-precision recall>=0.5", label="y", score="s")
    assert yes.tiers[0].threshold == point.threshold
    assert yes.tiers[0].evidence.metrics["precision"] == pytest.approx(point.precision)
    assert yes.tiers[0].evidence.data_fingerprint.startswith("sha256:")
    assert yes.tiers[0].evidence.support.positives == 127


def test_small_segments_fall_back_and_the_evidence_says_so():
    rng = np.random.default_rng(4)
    n = 3000
    seg = np.where(rng.random(n) < 0.03, "tiny", "big")
    y = (rng.random(n) < 0.2).astype(int)
    s = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1)
    result = fit_policy({"y": y, "s": s, "seg": seg}, label="y", score="s", by="seg", tiers={"block": "max-f1"},
                        min_support=40)
    tiny = [r for r in result.policy.rules if r.name == "seg=tiny"][0]
    default = result.policy.rules[-1]
    assert tiny.tiers[0].threshold == default.tiers[0].threshold
    assert tiny.tiers[0].evidence.source == "fallback" and tiny.tiers[0].evidence.fallback_from == "global"


def test_fit_rejects_tiers_that_could_never_fire():
    with pytest.raises(PolicyError, match="could never fire"):
        fit_policy(CREDIT, label="default", score="score", tiers={"block": "budget rate<=0.1",
                                                                  "review": "budget rate<=0.01"})


MALFORMED = [
    ("name: p\nversion: 1\nscore: s\nactions: [block\n", "not valid YAML"),
    ("- just\n- a list\n", "top level must be a mapping"),
    ("name: p\nversion: one\nscore: s\nactions: [block]\nrules: [{name: d}]\n", "version: Input should be a valid integer"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\nrules: [{name: d, tiers: [{action: blok, threshold: 0.5}]}]\n",
     r"rules\[0\].tiers\[0\].action: unknown action 'blok'"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\nrules: [{name: d, tiers: [{action: block, threshold: '0.5'}]}]\n",
     r"rules\[0\].tiers\[0\].threshold: must be a number, not str"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, review, allow]\nrules: [{name: d, tiers: [{action: block, threshold: 0.5}, {action: block, threshold: 0.4}]}]\n",
     r"rules\[0\].tiers\[1\]: duplicate tier: action 'block'"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\nrules: [{name: d, tiers: [{action: block, treshold: 0.5}]}]\n",
     r"rules\[0\].tiers\[0\].treshold: Extra inputs are not permitted"),
    ("name: p\nversion: 1\nscore: s\nsegments: [c]\nactions: [block, allow]\nrules: [{name: fr, match: {c: FR}, tiers: []}]\n",
     r"rules\[0\].match: the last rule must be the default"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\nrules: [{name: x, match: {c: FR}}, {name: d}]\n",
     r"rules\[0\].match.c: 'c' is not a segment field"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\n", r"rules: Field required"),
    ("name: p\nversion: 1\nscore: s\nactions: [block, allow]\nrules: [{name: d, tiers: [{action: block, threshold: .nan}]}]\n",
     r"threshold must be a finite number"),
]


@pytest.mark.parametrize("text,message", MALFORMED)
def test_malformed_policy_files_name_the_field_path(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        Policy.load(path)


def test_lint_finds_order_shadowing_overlap_and_range_problems():
    policy = Policy.from_dict({
        "name": "p", "version": 1, "score": "s", "segments": ["country", "tier"], "actions": ["block", "review", "allow"],
        "rules": [
            {"name": "fr", "match": {"country": "FR"}, "tiers": [{"action": "review", "threshold": 0.3},
                                                                {"action": "block", "threshold": 0.8}]},
            {"name": "fr-gold", "match": {"country": "FR", "tier": "gold"}, "tiers": []},
            {"name": "gold", "match": {"tier": "gold"}, "tiers": [
                {"action": "block", "threshold": 1.5,
                 "evidence": {"objective": "max-f1", "score_range": [0.0, 1.0]}}]},
            {"name": "default", "tiers": [{"action": "block", "threshold": 0.9}]},
        ]})
    text = "\n".join(str(f) for f in lint(policy))
    assert "rules[0].tiers[1]: tiers out of order" in text
    assert "rules[1]: rule 'fr-gold' is shadowed by rules[0] 'fr'" in text
    assert "rules[2]: rule 'gold' overlaps rules[0] 'fr'" in text
    assert "rules[2].tiers[0]: threshold 1.5 is above every score seen at fit time" in text
    assert not lint(fit_policy(CREDIT, label="default", score="score", by="student",
                               tiers={"block": "max-f1"}).policy)


@pytest.mark.parametrize("seed", range(8))
def test_diff_flip_counts_agree_with_applying_both(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    data = {"y": (rng.random(n) < 0.2).astype(int), "s": rng.random(n), "country": rng.choice(["FR", "DE"], n)}
    a = fit_policy(data, label="y", score="s", by="country", tiers={"block": "budget rate<=0.1"}).policy
    b = fit_policy(data, label="y", score="s", by="country", tiers={"block": "budget rate<=0.05", "review": "budget rate<=0.3"},
                   version=2).policy
    d = diff_policies(a, b, data, label="y", costs=(10.0, 1.0))
    old = np.array(a.decide(data).column("action").to_pylist())
    new = np.array(b.decide(data).column("action").to_pylist())
    assert d.impact.flipped == int(np.sum(old != new))
    for (x, z), count in d.impact.flips.items():
        assert count == int(np.sum((old == x) & (new == z)))
    flagged_new = new != "allow"
    assert d.impact.metrics["new_alerts"] == flagged_new.sum()
    assert d.impact.metrics["new_recall"] == pytest.approx(np.mean(flagged_new[data["y"] == 1]))
    lo, hi = d.impact.deltas["recall"]["interval"]
    assert lo <= d.impact.deltas["recall"]["delta"] <= hi
    assert any(c.what == "tier 'review'" and c.old is None for c in d.changes)


def test_apply_file_matches_decide_and_unknown_segments_use_the_default(tmp_path):
    policy = fit_policy(CREDIT, label="default", score="score", by="student", tiers={"block": "max-f1"}).policy
    rng = np.random.default_rng(1)
    n = 5000
    table = pa.table({"id": np.arange(n), "score": rng.random(n), "student": rng.choice(["yes", "no", "maybe"], n)})
    pq.write_table(table, tmp_path / "in.parquet")
    assert apply_file(policy, tmp_path / "in.parquet", tmp_path / "out.parquet") == n
    out = pq.read_table(tmp_path / "out.parquet")
    expected = policy.decide(table)
    assert out.column("action").to_pylist() == expected.column("action").to_pylist()
    assert out.column("id").to_pylist() == list(range(n))
    maybe = np.asarray(table.column("student")) == "maybe"
    assert set(np.asarray(out.column("segment").to_pylist())[maybe]) == {"default"}
    apply_file(policy, tmp_path / "in.parquet", tmp_path / "out.csv", keep=["id"])
    csv_out = pa.csv.read_csv(tmp_path / "out.csv")
    assert csv_out.column_names == ["id", "action", "tier", "threshold", "segment", "policy_version"]
    assert csv_out.column("action").to_pylist() == expected.column("action").to_pylist()


def test_apply_failure_leaves_an_existing_output_untouched(tmp_path):
    policy = Policy.from_dict({"name": "p", "version": 1, "score": "score", "actions": ["block", "allow"],
                               "rules": [{"name": "default", "tiers": [{"action": "block", "threshold": 0.5}]}]})
    target = tmp_path / "out.parquet"
    target.write_bytes(b"previous decisions")
    (tmp_path / "bad.csv").write_text("score\n0.1\n0.7\ninf\n")
    with pytest.raises(InputError, match="non-finite.*row 2"):
        apply_file(policy, tmp_path / "bad.csv", target)
    assert target.read_bytes() == b"previous decisions"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(InputError, match="Column 'score' not found"):
        policy.decide({"s": [0.1]})


def test_from_operating_points_and_the_sklearn_bridge():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from thresher.policy.sklearn import PolicyClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = (X[:, 0] + rng.normal(size=2000) > 1).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    scores = model.predict_proba(X)[:, 1]
    c = thresher.curve(y, scores)
    policy = from_operating_points({"block": thresher.select(c, "max-precision recall>=0.3"),
                                    "review": thresher.select(c, "max-precision recall>=0.8")})
    assert [t.action for t in policy.rules[0].tiers] == ["block", "review"]
    wrapped = PolicyClassifier(make_pipeline(StandardScaler(), LogisticRegression()), policy).fit(X, y)
    actions = wrapped.predict(X)
    expected = policy.decide({"score": scores}).column("action").to_pylist()
    assert list(actions) == expected
    assert Policy.from_operating_points is from_operating_points


def test_published_json_schema_is_current():
    from pathlib import Path

    from thresher.policy.schema import PolicyModel

    published = Path(__file__).parents[2] / "schemas" / "policy.schema.json"
    assert json.loads(published.read_text()) == PolicyModel.model_json_schema(), \
        "regenerate with: thresher policy schema > schemas/policy.schema.json"
